"""The projector's loop: events and feedback in, read model and live notifications out.

At least once with idempotent writes: a batch is written, subscribers are told, and only then are the
offsets committed. A crash in between replays the batch; the writes find their rows already there
(one transaction per topic partition and offset), and subscribers may hear a result twice.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from uuid import UUID

from confluent_kafka import Consumer, KafkaException, Message
from django.db import DatabaseError, close_old_connections, connections

from accounts.projections import record_account_creation
from kafka_bridge import clients
from kafka_bridge.codecs import Codec, DecodeError
from kafka_bridge.messages import (
    AccountCreationConfirmed,
    AccountCreationFailed,
    BalanceChanged,
    MoneyTransferConfirmed,
    MoneyTransferFailed,
)
from kafka_bridge.topology import Topic
from transfers.notifications import Notifier, commands_answered, transactions_created
from transfers.projections import BalanceChangedEvent, record_balance_changes

logger = logging.getLogger(__name__)

GROUP_ID = "projector"
TOPICS = [Topic.BALANCE_CHANGED.value, Topic.ACCOUNT_CREATION_FEEDBACK.value, Topic.MONEY_TRANSFER_FEEDBACK.value]


class Projector:
    def __init__(
        self, consumer: Consumer, codec: Codec, *, notify: bool = True, batch_size: int = 500, poll_timeout: float = 0.1
    ) -> None:
        self.consumer = consumer
        self.codec = codec
        self.notifier = Notifier() if notify else None
        self.batch_size = batch_size
        self.poll_timeout = poll_timeout
        self.counts = {"transactions": 0, "account answers": 0, "transfer answers": 0, "unreadable": 0}

    def run(self, stop: threading.Event) -> None:
        self.consumer.subscribe(TOPICS)
        logger.info("projector started on %s", ", ".join(TOPICS))
        try:
            while not stop.is_set():
                records = [
                    r
                    for r in clients.consume_available(self.consumer, self.batch_size, self.poll_timeout)
                    if not r.error()
                ]
                if records:
                    self.project_until_done(records)
                    # Not waited for: the next commit covers a lost one, and a replay rewrites nothing.
                    self.consumer.commit(asynchronous=True)
        finally:
            logger.info("projector stopping: %s", self.counts)
            with contextlib.suppress(KafkaException):  # "no offset to commit" when nothing was read
                self.consumer.commit(asynchronous=False)
            self.consumer.close()
            if self.notifier:
                self.notifier.close()

    def project_until_done(self, records: list[Message]) -> None:
        """Project a batch, retrying while the database is away: skipping it would lose read-model rows."""
        attempt = 0
        while True:
            attempt += 1
            close_old_connections()
            try:
                self.project(records)
                return
            except DatabaseError as error:
                logger.warning("read-model write failed (attempt %d), retrying: %s", attempt, error)
                connections["default"].close()
                threading.Event().wait(min(0.1 * 2**attempt, 5.0))

    def project(self, records: list[Message]) -> None:
        events, answers = [], []
        for record in records:
            try:
                message = self.codec.decode(record.topic(), record.value())
            except DecodeError as error:
                self.counts["unreadable"] += 1
                logger.warning("skipping %s:%d:%d: %s", record.topic(), record.partition(), record.offset(), error)
                continue
            if isinstance(message, BalanceChanged):
                events.append(
                    BalanceChangedEvent(
                        partition=record.partition(),
                        offset=record.offset(),
                        iban=message.iban,
                        new_balance_cents=message.new_balance_cents,
                        changed_by_cents=message.changed_by_cents,
                        counterparty=message.counterparty,
                        description=message.description,
                    )
                )
            else:
                answers.append(message)
        rows = record_balance_changes(events)
        self.counts["transactions"] += len(rows)
        answered = dict(self._answer(answer) for answer in answers)
        if self.notifier:  # told after the rows are written, so a page reloaded on the answer shows them
            self.notifier.send([*commands_answered(answered), *transactions_created(rows)])

    def _answer(
        self, message: AccountCreationConfirmed | AccountCreationFailed | MoneyTransferConfirmed | MoneyTransferFailed
    ) -> tuple[UUID, dict]:
        """Record an account creation's outcome; the command and the answer to tell whoever waits for it."""
        if isinstance(message, AccountCreationConfirmed | AccountCreationFailed):
            iban = getattr(message, "iban", "")
            token = getattr(message, "token", "")
            reason = getattr(message, "reason", None)
            record_account_creation(command_id=message.id, iban=iban, token=token, reason=reason)
            self.counts["account answers"] += 1
            return message.id, {"iban": iban or None, "token": token or None, "reason": reason}
        reason = getattr(message, "reason", None)
        self.counts["transfer answers"] += 1
        return message.id, {"uuid": str(message.id), "success": reason is None, "reason": reason}
