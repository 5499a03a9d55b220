"""The projector's work: events and feedback in, read model and live notifications out.

At least once with idempotent writes: a batch is written, subscribers are told, and only then are the
batch's offsets committed (plainly, by the loop, at most a second later). A crash in between replays the
batch; the writes find their rows already there (one transaction per event identity), and subscribers may
hear a result twice.

A record that does not decode, or that the read model refuses, is isolated and copied to
`projector_dead_letter` with the reason, and the rest of the batch goes on. A replay (`rebuild_projections`:
the projector in a loop that reads `until` the topics' ends) commits nothing and only logs such a record:
the running projector dead-letters each one once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from confluent_kafka import Message
from django.db import DatabaseError, close_old_connections

from alerts.projections import mail_later
from banking.copies import SERVING
from banking.read_model import Projected, project
from kafka_bridge.batches import where
from kafka_bridge.consumers.committer import Produced
from kafka_bridge.consumers.dead_letters import DeadLetter
from kafka_bridge.consumers.loop import Work, isolate
from kafka_bridge.metrics import EVENTS_PROJECTED, PROJECTION_DELAY_SECONDS
from kafka_bridge.translate import read_model_input
from kafka_bridge.wire.codecs import Codec, DecodeError
from kafka_bridge.wire.messages import BalanceChanged
from kafka_bridge.wire.messages import Message as Record
from kafka_bridge.wire.topology import Topic
from kernel.live import Notifier
from kernel.logs import about_command
from transfers.selectors import count_undated_transactions

logger = logging.getLogger(__name__)

GROUP_ID = "projector"
TOPICS = [
    Topic.BALANCE_CHANGED.value,
    Topic.ACCOUNT_CREATION_FEEDBACK.value,
    Topic.MONEY_TRANSFER_FEEDBACK.value,
    Topic.ALERT_RULE_FEEDBACK.value,
    Topic.ALERT_SETTINGS.value,
    Topic.ALERTS.value,
]

Decoded = tuple[Message, Record]


@dataclass
class Stored:
    """What writing part of a batch gave: what to tell, and the records the read model refused."""

    projected: Projected = field(default_factory=Projected)
    refused: list[DeadLetter] = field(default_factory=list)


def warn_of_undated_transactions() -> None:
    """Rows projected before the bank kept changed_at are missing from every answer about the past: say so, and
    what to do, when the projector starts (a database that is away is the loop's to wait for, not this)."""
    try:
        undated = count_undated_transactions()
    except DatabaseError:
        return
    if undated:
        logger.warning(
            "%d transactions have no changed_at (projected before the bank kept it): answers about the past leave "
            "them out until `manage.py rebuild_projections`",
            undated,
        )


class Projector(Work):
    name = "projector"
    dead_letter_topic = Topic.PROJECTOR_DEAD_LETTER.value

    def __init__(self, codec: Codec, *, notify: bool = True, copy: str = SERVING) -> None:
        """`notify`: tell the living what a batch added (live notices, alert mails); a replay of history tells
        nobody. `copy`: the read model's copy it writes (`banking.copies`)."""
        self.codec = codec
        self.notifier = Notifier() if notify else None
        self.copy = copy
        self.counts = {"transactions": 0, "answers": 0, "refused": 0}

    def handle(self, records: list[Message]) -> Produced:
        close_old_connections()
        decoded, dead = self._decode(records)
        parts = isolate(decoded, self._write, self._refused)
        projected = sum((part.projected for part in parts), Projected())
        refused = [*dead, *(letter for part in parts for letter in part.refused)]
        self.counts["transactions"] += len(projected.rows)
        self.counts["answers"] += len(projected.answers)
        self.counts["refused"] += len(refused)
        now = time.time()
        for record, message in decoded:
            if isinstance(message, BalanceChanged):
                EVENTS_PROJECTED.inc()
                PROJECTION_DELAY_SECONDS.observe(max(now - record.timestamp()[1] / 1000, 0))
        if logger.isEnabledFor(logging.DEBUG):
            for command_id in projected.answers:
                with about_command(command_id):
                    logger.debug("answer told")
        if self.notifier:
            self.notifier.send(projected.notifications())
            mail_later(projected.alerts)
        return Produced(dead_letters=refused)

    def _decode(self, records: list[Message]) -> tuple[list[Decoded], list[DeadLetter]]:
        decoded, dead = [], []
        for record in records:
            try:
                decoded.append((record, self.codec.decode(record.topic(), record.value())))
            except DecodeError as error:
                dead.append(DeadLetter(record, str(error)))
        return decoded, dead

    def _write(self, items: list[Decoded]) -> Stored:
        batch = read_model_input(items)
        return Stored(project(batch.events, batch.feedback, batch.settings, batch.fired, self.copy))

    @staticmethod
    def _refused(item: Decoded, error: Exception) -> Stored:
        logger.error("the read model refused %s", where(item[0]), exc_info=error)
        return Stored(refused=[DeadLetter(item[0], f"the read model refused it: {error!r}")])

    def close(self) -> None:
        logger.info("projector stopping: %s", self.counts)
        if self.notifier:
            self.notifier.close()
