"""The projector's loop: events and feedback in, read model and live notifications out.

At least once with idempotent writes: a batch is written, subscribers are told, and only then are the
offsets committed. A crash in between replays the batch; the writes find their rows already there
(one transaction per event identity), and subscribers may hear a result twice.

Failures are transient or poison (see `retry`): a transient one is retried until a deadline, then the
process exits for its supervisor; a record that does not decode, or that the read model refuses, is
isolated and copied to `projector_dead_letter` with the reason, and the rest of the batch goes on (a replay,
`rebuild_projections`, only logs it: that record was, or will be, dead-lettered by the running projector).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from django.db import close_old_connections

from alerts.notices import alerts_fired
from alerts.projections import FiredAlert, RuleSettings
from alerts.rules import AlertKind, Rule
from banking.logs import about_command
from kafka_bridge import clients
from kafka_bridge.bus import answer_to, answers_message
from kafka_bridge.heartbeats import Heartbeat
from kafka_bridge.metrics import DEAD_LETTERS, EVENTS_PROJECTED, PROJECTION_DELAY_SECONDS
from kafka_bridge.retry import DEFAULT_DEADLINE, is_transient, retrying
from kafka_bridge.wire.codecs import Codec, DecodeError
from kafka_bridge.wire.headers import Identity, dead_letter_headers
from kafka_bridge.wire.messages import AlertsSettingsUpdated, AlertTriggered, BalanceChanged
from kafka_bridge.wire.messages import Message as Record
from kafka_bridge.wire.topology import Topic
from transfers.notifications import COMMAND_ANSWERS_GROUP, Notifier, transactions_created
from transfers.projections import BalanceChangedEvent, Feedback, Projected, project

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


@dataclass(frozen=True)
class Decoded:
    record: Message
    message: Record
    identity: Identity


@dataclass(frozen=True)
class DeadLetter:
    record: Message
    error: str


class Projector:
    def __init__(
        self,
        consumer: Consumer,
        codec: Codec,
        *,
        dead_letters: Producer | None = None,
        notify: bool = True,
        replaying: bool = False,
        batch_size: int = 500,
        poll_timeout: float = 0.1,
        retry_deadline: float = DEFAULT_DEADLINE,
        heartbeat: Heartbeat | None = None,
    ) -> None:
        self.consumer = consumer
        self.codec = codec
        self.dead_letters = None if replaying else dead_letters or clients.producer()
        self.notifier = Notifier() if notify else None
        self.batch_size = batch_size
        self.poll_timeout = poll_timeout
        self.retry_deadline = retry_deadline
        self.heartbeat = heartbeat
        self.stop = threading.Event()
        self.counts = {"transactions": 0, "answers": 0, "dead letters": 0} | ({"refused again": 0} if replaying else {})

    def run(self, stop: threading.Event) -> None:
        self.stop = stop
        self.consumer.subscribe(TOPICS, on_assign=self._assigned)
        logger.info("projector started on %s", ", ".join(TOPICS))
        projected: dict[tuple[str, int], TopicPartition] = {}  # the offset after each partition's last projected record
        try:
            with clients.StallWatch(self.consumer) as stalls:
                while not stop.is_set():
                    records = clients.consume_available(self.consumer, self.batch_size, self.poll_timeout)
                    if records:
                        self.project(records)
                        done = clients.next_offsets(records)
                        # The batch's own offsets: without them librdkafka commits the positions its thread finds
                        # when it sends the commit, which may include the next batch, consumed but not projected.
                        # Not waited for: a lost commit only means records projected again, which rewrites nothing.
                        self.consumer.commit(offsets=done, asynchronous=True)
                        projected |= {(tp.topic, tp.partition): tp for tp in done}
                    stalls.observe()
                    if self.heartbeat:
                        self.heartbeat.beat()
        except Exception as error:
            if not (stop.is_set() and is_transient(error)):
                logger.error("projector giving up: %r; its supervisor restarts it", error)
                raise
            logger.info("stopped while retrying: %s", error)
        finally:
            logger.info("projector stopping: %s", self.counts)
            self._commit_at_stop(projected)
            self.consumer.close()
            if self.dead_letters:
                self.dead_letters.flush(10)
            if self.notifier:
                self.notifier.close()

    def _commit_at_stop(self, projected: dict[tuple[str, int], TopicPartition]) -> None:
        """Commit, and wait for, the offsets after the last projected record of each partition still ours."""
        with contextlib.suppress(KafkaException):  # the group went on without us: the new owner commits
            ours = {(tp.topic, tp.partition) for tp in self.consumer.assignment()}
            offsets = [tp for partition, tp in projected.items() if partition in ours]
            if offsets:
                self.consumer.commit(offsets=offsets, asynchronous=False)

    @staticmethod
    def _assigned(consumer: Consumer, partitions: list) -> None:
        logger.info("assigned %d partition(s)", len(partitions))

    def project(self, records: list[Message]) -> None:
        """Project a batch, retrying transient failures until the deadline: skipping it would lose rows."""
        for attempt in retrying(f"projecting {len(records)} records", stop=self.stop, deadline=self.retry_deadline):
            with attempt:
                self._project_once(records)

    def _project_once(self, records: list[Message]) -> None:
        close_old_connections()
        decoded, dead = self._decode(records)
        projected, refused = self._store(decoded)
        self._dead_letter([*dead, *refused])
        self.counts["transactions"] += len(projected.rows)
        self.counts["answers"] += len(projected.answers)
        now = time.time()
        for item in decoded:
            if isinstance(item.message, BalanceChanged):
                EVENTS_PROJECTED.inc()
                PROJECTION_DELAY_SECONDS.observe(max(now - item.record.timestamp()[1] / 1000, 0))
        if logger.isEnabledFor(logging.DEBUG):
            for command_id in projected.answers:
                with about_command(command_id):
                    logger.debug("answer told")
        if self.notifier:  # told after the rows are written, so a page reloaded on the answer shows them
            answers = [(COMMAND_ANSWERS_GROUP, answers_message(projected.answers))] if projected.answers else []
            self.notifier.send([*answers, *transactions_created(projected.rows), *alerts_fired(projected.alerts)])

    def _decode(self, records: list[Message]) -> tuple[list[Decoded], list[DeadLetter]]:
        decoded, dead = [], []
        for record in records:
            try:
                decoded.append(Decoded(record, self.codec.decode(record.topic(), record.value()), Identity.of(record)))
            except DecodeError as error:
                dead.append(DeadLetter(record, str(error)))
        return decoded, dead

    def _store(self, items: list[Decoded]) -> tuple[Projected, list[DeadLetter]]:
        """Write the batch; a record the read model refuses is isolated (the batch is halved until it stands
        alone) and dead-lettered."""
        if not items:
            return Projected(), []
        try:
            return self._write(items), []
        except Exception as error:
            if is_transient(error):
                raise
            if len(items) == 1:
                logger.exception("the read model refused %s", where(items[0].record))
                return Projected(), [DeadLetter(items[0].record, f"the read model refused it: {error!r}")]
            half = len(items) // 2
            first, first_dead = self._store(items[:half])
            second, second_dead = self._store(items[half:])
            return first + second, first_dead + second_dead

    @staticmethod
    def _write(items: list[Decoded]) -> Projected:
        events, feedback, settings, fired = [], [], [], []
        for item in items:
            message, identity = item.message, item.identity
            if isinstance(message, AlertsSettingsUpdated):
                rules = [Rule(r.id, AlertKind(r.kind), r.threshold, r.text) for r in message.rules]
                settings.append(RuleSettings(message.iban, rules, identity.command_id))
            elif isinstance(message, AlertTriggered):
                fired.append(
                    FiredAlert(
                        message.id, message.iban, message.rule_id, message.kind, message.message, message.trigger
                    )
                )
            elif isinstance(message, BalanceChanged):
                events.append(
                    BalanceChangedEvent(
                        partition=item.record.partition(),
                        offset=item.record.offset(),
                        iban=message.iban,
                        new_balance_cents=message.new_balance_cents,
                        changed_by_cents=message.changed_by_cents,
                        counterparty=message.counterparty,
                        description=message.description,
                        command_id=identity.command_id,
                        event_index=identity.event_index,
                    )
                )
            else:
                feedback.append(Feedback(message.id, answer_to(message), identity.command_events))
        return project(events, feedback, settings, fired)

    def _dead_letter(self, letters: list[DeadLetter]) -> None:
        """Copy the records to the dead-letter topic and wait until the broker has them all.

        A replay (`rebuild_projections`) only logs them: the running projector dead-letters each record once.
        """
        if not letters:
            return
        if self.dead_letters is None:
            for letter in letters:
                logger.warning(
                    "refused again on a replay, not dead-lettered twice: %s: %s", where(letter.record), letter.error
                )
            self.counts["refused again"] += len(letters)
            return
        failures: list[KafkaError] = []
        for letter in letters:
            logger.warning("dead-lettering %s: %s", where(letter.record), letter.error)
            self.dead_letters.produce(
                Topic.PROJECTOR_DEAD_LETTER.value,
                key=letter.record.key(),
                value=letter.record.value(),
                headers=dead_letter_headers(letter.record, letter.error),
                on_delivery=lambda error, _: error and failures.append(error),
            )
        if self.dead_letters.flush(30) or failures:
            raise KafkaException(failures[0] if failures else KafkaError(KafkaError._TIMED_OUT))
        self.counts["dead letters"] += len(letters)
        DEAD_LETTERS.labels(Topic.PROJECTOR_DEAD_LETTER.value).inc(len(letters))


def where(record: Message) -> str:
    return f"{record.topic()}:{record.partition()}:{record.offset()}"
