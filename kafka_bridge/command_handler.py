"""The command handler's loop: read a batch of commands, run it on the ledger, publish, commit. Exactly once.

Per poll batch there is one ledger transaction and one Kafka transaction:

1. begin the Kafka transaction;
2. run the batch on the ledger; its database transaction commits, storing each command's outcome
   and events with the command id and where the command was read from (`delivery`);
3. produce the events and the feedback, add the consumed offsets, commit the Kafka transaction.

A crash before step 2 commits changes nothing. A crash between 2 and 3 leaves the ledger committed
but the Kafka transaction aborted, so the batch is read again: every command is then found in the
store with the same delivery, and its stored events are published again without moving money twice.
After step 3 the offsets are committed with the events, so the batch is never read again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaException, Message, Producer, TopicPartition
from django.db import DatabaseError, close_old_connections, connections

from kafka_bridge import clients
from kafka_bridge.codecs import Codec, DecodeError, decode_key, encode_key
from kafka_bridge.ledger_handlers import NotACommand, Outgoing, to_command, to_records
from kafka_bridge.topology import Topic
from transfers.services import LedgerCommand, execute_commands

logger = logging.getLogger(__name__)

GROUP_ID = "command-handler"


@dataclass(frozen=True)
class Delivered:
    """A command record that decoded, with what the ledger makes of it."""

    record: Message
    command: LedgerCommand


@dataclass(frozen=True)
class DeadLetter:
    record: Message
    error: str


def delivery_of(record: Message) -> str:
    return f"{record.topic()}:{record.partition()}:{record.offset()}"


def next_offsets(records: Iterable[Message]) -> list[TopicPartition]:
    """The offsets to commit after `records`: one past the last record of each partition."""
    last: dict[tuple[str, int], int] = {}
    for record in records:
        key = (record.topic(), record.partition())
        last[key] = max(last.get(key, -1), record.offset())
    return [TopicPartition(topic, partition, offset + 1) for (topic, partition), offset in last.items()]


class CommandHandler:
    def __init__(
        self,
        consumer: Consumer,
        producer: Producer,
        codec: Codec,
        *,
        batch_size: int = 500,
        poll_timeout: float = 0.1,
        kafka_timeout: float = 30.0,
    ) -> None:
        self.consumer = consumer
        self.producer = producer
        self.codec = codec
        self.batch_size = batch_size
        self.poll_timeout = poll_timeout
        self.kafka_timeout = kafka_timeout
        self.handled = 0

    def run(self, stop: threading.Event) -> None:
        """Handle batches until `stop` is set; the batch in hand is finished and committed first."""
        self.producer.init_transactions(self.kafka_timeout)
        self.consumer.subscribe([Topic.COMMANDS.value], on_assign=self._assigned, on_revoke=self._revoked)
        logger.info("command handler started; waiting for partitions of %r", Topic.COMMANDS.value)
        reported_at, reported = time.monotonic(), 0
        try:
            while not stop.is_set():
                batch = clients.consume_available(self.consumer, self.batch_size, self.poll_timeout)
                records = [r for r in batch if self._usable(r)]
                if records:
                    self.process(records)
                if time.monotonic() - reported_at >= 10 and self.handled != reported:
                    rate = (self.handled - reported) / (time.monotonic() - reported_at)
                    logger.info("handled %d commands in all (%.0f/s lately)", self.handled, rate)
                    reported_at, reported = time.monotonic(), self.handled
        finally:
            logger.info("command handler stopping after %d commands", self.handled)
            self.consumer.close()  # leaves the group at once, so partitions move without a session timeout
            self.producer.flush(self.kafka_timeout)

    def _assigned(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        logger.info("assigned %d partition(s) of %s", len(partitions), Topic.COMMANDS.value)

    def _revoked(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        logger.info("revoked %d partition(s)", len(partitions))

    @staticmethod
    def _usable(record: Message) -> bool:
        if record.error():
            logger.warning("consumer error: %s", record.error())
            return False
        return True

    def process(self, records: list[Message]) -> None:
        """Run one batch exactly once: ledger, then events, feedback and offsets in one Kafka transaction."""
        delivered, dead = self._decode(records)
        attempt = 0
        while True:
            attempt += 1
            close_old_connections()
            started = time.perf_counter()
            self.producer.begin_transaction()
            try:
                outgoing, poisoned = self._run_on_ledger(delivered)
                ledger_done = time.perf_counter()
                for item in outgoing:
                    self._produce(item)
                for letter in [*dead, *poisoned]:
                    self._produce_dead_letter(letter)
                self.producer.send_offsets_to_transaction(
                    next_offsets(records), self.consumer.consumer_group_metadata(), self.kafka_timeout
                )
                offsets_sent = time.perf_counter()
                self.producer.commit_transaction(self.kafka_timeout)
                self.handled += len(records)
                logger.debug(
                    "batch of %d: ledger %.1f ms, produce and offsets %.1f ms, commit %.1f ms",
                    len(records),
                    (ledger_done - started) * 1000,
                    (offsets_sent - ledger_done) * 1000,
                    (time.perf_counter() - offsets_sent) * 1000,
                )
                return
            except DatabaseError as error:  # deadlock, lost connection...: the ledger rolled back
                logger.warning("ledger transaction failed (attempt %d), retrying the batch: %s", attempt, error)
                connections["ledger"].close()
                self._abort()
            except KafkaException as error:
                kafka_error = error.args[0]
                if kafka_error.fatal() or not (kafka_error.txn_requires_abort() or kafka_error.retriable()):
                    raise  # fenced by a newer instance, or misconfigured: stop, the supervisor restarts us
                logger.warning("Kafka transaction failed (attempt %d), retrying the batch: %s", attempt, error)
                self._abort()
            time.sleep(min(0.1 * 2**attempt, 5.0))

    def _abort(self) -> None:
        try:
            self.producer.abort_transaction(self.kafka_timeout)
        except KafkaException as error:
            if error.args[0].fatal():
                raise
            logger.warning("aborting the Kafka transaction failed: %s", error)

    def _decode(self, records: list[Message]) -> tuple[list[Delivered], list[DeadLetter]]:
        delivered, dead = [], []
        for record in records:
            try:
                command = to_command(self.codec.decode(record.topic(), record.value()), delivery_of(record))
                delivered.append(Delivered(record, command))
            except (DecodeError, NotACommand) as error:
                logger.warning("dead-lettering %s: %s", delivery_of(record), error)
                dead.append(DeadLetter(record, str(error)))
        return delivered, dead

    def _run_on_ledger(self, delivered: list[Delivered]) -> tuple[list[Outgoing], list[DeadLetter]]:
        """The batch's records to produce; a command the ledger chokes on is isolated and dead-lettered."""
        if not delivered:
            return [], []
        try:
            outcomes = execute_commands([item.command for item in delivered])
        except DatabaseError:
            raise
        except Exception:
            if len(delivered) == 1:
                logger.exception("dead-lettering %s: the ledger failed on it", delivery_of(delivered[0].record))
                return [], [DeadLetter(delivered[0].record, "the command handler failed on this command")]
            logger.exception("the ledger failed on a batch of %d; retrying its commands one by one", len(delivered))
            outgoing, dead = [], []
            for item in delivered:
                more, poisoned = self._run_on_ledger([item])
                outgoing += more
                dead += poisoned
            return outgoing, dead
        return [
            record
            for item, outcome in zip(delivered, outcomes, strict=True)
            for record in to_records(outcome, decode_key(item.record.key()))
        ], []

    def _produce(self, item: Outgoing) -> None:
        value = self.codec.encode(item.topic, item.message)
        key = None if item.key is None else encode_key(item.key)
        self._send(item.topic.value, key, value, None)

    def _produce_dead_letter(self, letter: DeadLetter) -> None:
        record = letter.record
        headers = [
            ("original.topic", record.topic().encode()),
            ("original.partition", str(record.partition()).encode()),
            ("original.offset", str(record.offset()).encode()),
            ("error", letter.error.encode()),
        ]
        self._send(Topic.COMMANDS_DEAD_LETTER.value, record.key(), record.value(), headers)

    def _send(self, topic: str, key: bytes | None, value: bytes | None, headers: list | None) -> None:
        while True:
            try:
                self.producer.produce(topic, key=key, value=value, headers=headers)
                return
            except BufferError:  # the local queue is full: let deliveries drain
                self.producer.poll(0.1)
