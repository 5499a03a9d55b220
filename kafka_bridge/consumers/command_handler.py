"""The command handler's loop: read a batch of commands, run it on the ledger, publish, commit. Exactly once.

Per poll batch there is one ledger transaction and one Kafka transaction:

1. begin the Kafka transaction and lock the batch's accounts (advisory locks, held until step 3 is done);
2. run the batch on the ledger; its database transaction commits, storing each command's outcome
   and events with the command id and where the command was read from (`delivery`);
3. produce the events and the feedback, add the consumed offsets, commit the Kafka transaction.

A crash before step 2 commits changes nothing. A crash between 2 and 3 leaves the ledger committed
but the Kafka transaction aborted, so the batch is read again: every command is then found in the
store with the same delivery, and its stored events are published again without moving money twice.
After step 3 the offsets are committed with the events, so the batch is never read again.

Failures are transient or poison (see `retry`). A transient one rolls the batch back and retries it
until a deadline, then the process exits for its supervisor. A poison record (one that does not
decode, is too large to be a command, or that the ledger fails on) is isolated and dead-lettered with
the reason, and the rest of the batch goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaException, Message, Producer, TopicPartition
from django.db import DatabaseError, close_old_connections, connections

from accounts.ledger import AccountLocks
from banking.logs import about_command
from kafka_bridge import clients
from kafka_bridge.consumers.ledger_records import NotACommand, Outgoing, failure_records, to_command, to_records
from kafka_bridge.heartbeats import Heartbeat
from kafka_bridge.metrics import COMMANDS_HANDLED, DEAD_LETTERS, HANDLER_BATCH_SIZE, HANDLER_PHASE_SECONDS
from kafka_bridge.retry import DEFAULT_DEADLINE, is_transient, retrying
from kafka_bridge.wire.codecs import Codec, DecodeError, decode_key, encode_key
from kafka_bridge.wire.headers import dead_letter_headers
from kafka_bridge.wire.messages import AccountCreationConfirmed, AlertRuleChangeConfirmed, MoneyTransferConfirmed
from kafka_bridge.wire.topology import Topic
from transfers.services import Received, accounts_touched, execute_commands

logger = logging.getLogger(__name__)

GROUP_ID = "command-handler"
SLOW_BATCH_SECONDS = 1.0  # a batch is a few milliseconds: one this slow says where its time went
MAX_COMMAND_BYTES = 16 * 1024  # a command is well under a kilobyte: anything this large is not one
FEEDBACK_KINDS = {
    Topic.ACCOUNT_CREATION_FEEDBACK: "account",
    Topic.MONEY_TRANSFER_FEEDBACK: "transfer",
    Topic.ALERT_RULE_FEEDBACK: "alert rule",
}


@dataclass(frozen=True)
class Read:
    """A command record that decoded, with the command the ledger makes of it."""

    record: Message
    received: Received


@dataclass(frozen=True)
class DeadLetter:
    record: Message
    error: str
    drop_value: bool = False  # too large to copy: the dead letter keeps the headers and says the size


def delivery_of(record: Message) -> str:
    return f"{record.topic()}:{record.partition()}:{record.offset()}"


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
        retry_deadline: float = DEFAULT_DEADLINE,
        heartbeat: Heartbeat | None = None,
    ) -> None:
        self.consumer = consumer
        self.producer = producer
        self.codec = codec
        self.batch_size = batch_size
        self.poll_timeout = poll_timeout
        self.kafka_timeout = kafka_timeout
        self.retry_deadline = retry_deadline
        self.locks = AccountLocks()
        self.heartbeat = heartbeat
        self.stop = threading.Event()
        self.handled = 0

    def run(self, stop: threading.Event) -> None:
        """Handle batches until `stop` is set; the batch in hand is finished and committed first."""
        self.stop = stop
        try:
            for attempt in retrying("starting the transactional producer", stop=stop, deadline=self.retry_deadline):
                with attempt:
                    self.producer.init_transactions(self.kafka_timeout)
            self.consumer.subscribe([Topic.COMMANDS.value], on_assign=self._assigned, on_revoke=self._revoked)
            logger.info("command handler started; waiting for partitions of %r", Topic.COMMANDS.value)
            reported_at, reported = time.monotonic(), 0
            with clients.StallWatch(self.consumer) as stalls:
                while not stop.is_set():
                    records = clients.consume_available(self.consumer, self.batch_size, self.poll_timeout)
                    if records:
                        self.process(records)
                    stalls.observe()
                    if self.heartbeat:
                        self.heartbeat.beat()
                    if time.monotonic() - reported_at >= 10 and self.handled != reported:
                        rate = (self.handled - reported) / (time.monotonic() - reported_at)
                        logger.info("handled %d commands in all (%.0f/s lately)", self.handled, rate)
                        reported_at, reported = time.monotonic(), self.handled
        except Exception as error:
            if not (stop.is_set() and is_transient(error)):
                logger.error("command handler giving up: %r; its supervisor restarts it", error)
                raise
            logger.info("stopped while retrying: %s", error)
        finally:
            logger.info("command handler stopping after %d commands", self.handled)
            self.consumer.close()  # leaves the group at once, so partitions move without a session timeout
            self.producer.flush(self.kafka_timeout)
            self.locks.close()

    def _assigned(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        logger.info("assigned %d partition(s) of %s", len(partitions), Topic.COMMANDS.value)

    def _revoked(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        logger.info("revoked %d partition(s)", len(partitions))

    def process(self, records: list[Message]) -> None:
        """Handle one batch exactly once, retrying transient failures until the deadline."""
        with clients.read_again_if_the_group_moved_on(self.consumer, records):
            for attempt in retrying(
                f"a batch of {len(records)} commands", stop=self.stop, deadline=self.retry_deadline
            ):
                with attempt:
                    self._process_once(records)
            self.handled += len(records)

    def _process_once(self, records: list[Message]) -> None:
        received = time.perf_counter()
        close_old_connections()
        readable, dead = self._read(records)
        started = time.perf_counter()
        self.producer.begin_transaction()
        try:
            with self.locks.holding(accounts_touched([item.received for item in readable])):
                outgoing, poisoned = self._run_on_ledger(readable)
                ledger_done = time.perf_counter()
                for item in outgoing:
                    self._produce(item)
                for letter in [*dead, *poisoned]:
                    self._produce_dead_letter(letter)
                with clients.hard_deadline(self.kafka_timeout + 10, "sending the handler's offsets"):
                    self.producer.send_offsets_to_transaction(
                        clients.next_offsets(records), self.consumer.consumer_group_metadata(), self.kafka_timeout
                    )
                offsets_sent = time.perf_counter()
                with clients.hard_deadline(self.kafka_timeout + 10, "committing the handler's transaction"):
                    self.producer.commit_transaction(self.kafka_timeout)
        except BaseException as error:
            if isinstance(error, DatabaseError):
                connections["ledger"].close()
            self._abort()
            raise
        committed = time.perf_counter()
        HANDLER_BATCH_SIZE.observe(len(records))
        phases = {
            "ledger": ledger_done - started,
            "produce": offsets_sent - ledger_done,
            "commit": committed - offsets_sent,
        }
        for phase, seconds in phases.items():
            HANDLER_PHASE_SECONDS.labels(phase).observe(seconds)
        if committed - received > SLOW_BATCH_SECONDS:
            took = ", ".join(f"{phase} {seconds:.1f}" for phase, seconds in phases.items())
            logger.warning(
                "a batch of %d took %.1f s: decoding %.1f, %s",
                len(records),
                committed - received,
                started - received,
                took,
            )
        if dead or poisoned:
            DEAD_LETTERS.labels(Topic.COMMANDS_DEAD_LETTER.value).inc(len(dead) + len(poisoned))
        self._count(outgoing)

    @staticmethod
    def _count(outgoing: list[Outgoing]) -> None:
        """Commands answered, by kind and outcome; with DEBUG logging, one line per command, with its id."""
        for item in outgoing:
            kind = FEEDBACK_KINDS.get(item.topic)
            if kind is None:  # an event, not an answer
                continue
            ok = isinstance(item.message, MoneyTransferConfirmed | AccountCreationConfirmed | AlertRuleChangeConfirmed)
            COMMANDS_HANDLED.labels(kind, "confirmed" if ok else "refused").inc()
            if logger.isEnabledFor(logging.DEBUG):
                with about_command(item.message.id):
                    logger.debug("%s %s", kind, "confirmed" if ok else f"refused: {item.message.reason}")

    def _abort(self) -> None:
        try:
            self.producer.abort_transaction(self.kafka_timeout)
        except KafkaException as error:
            if error.args[0].fatal():
                raise
            logger.warning("aborting the Kafka transaction failed: %s", error)

    def _read(self, records: list[Message]) -> tuple[list[Read], list[DeadLetter]]:
        """Decode the batch: commands to run, and poison to dead-letter. A registry that is away raises."""
        readable, dead = [], []
        for record in records:
            size = len(record.value() or b"")
            if size > MAX_COMMAND_BYTES:
                error = f"a record of {size} bytes is larger than a command can be ({MAX_COMMAND_BYTES} bytes)"
                dead.append(DeadLetter(record, error, drop_value=True))
                continue
            try:
                command = to_command(self.codec.decode(record.topic(), record.value()))
                readable.append(Read(record, Received(command, delivery_of(record))))
            except (DecodeError, NotACommand) as error:
                dead.append(DeadLetter(record, str(error)))
        for letter in dead:
            logger.warning("dead-lettering %s: %s", delivery_of(letter.record), letter.error)
        return readable, dead

    def _run_on_ledger(self, readable: list[Read]) -> tuple[list[Outgoing], list[DeadLetter]]:
        """The records to produce for these commands; a command the ledger fails on is isolated (the batch is
        halved until it stands alone), dead-lettered, and its client told it failed."""
        if not readable:
            return [], []
        try:
            outcomes = execute_commands([item.received for item in readable])
        except Exception as error:
            if is_transient(error):
                raise
            if len(readable) == 1:
                record, command = readable[0].record, readable[0].received.command
                logger.exception("dead-lettering %s: the ledger failed on it", delivery_of(record))
                letter = DeadLetter(record, f"the ledger failed on this command: {error!r}")
                return failure_records(command, decode_key(record.key())), [letter]
            half = len(readable) // 2
            first, first_dead = self._run_on_ledger(readable[:half])
            second, second_dead = self._run_on_ledger(readable[half:])
            return first + second, first_dead + second_dead
        return [
            record
            for item, outcome in zip(readable, outcomes, strict=True)
            for record in to_records(outcome, decode_key(item.record.key()))
        ], []

    def _produce(self, item: Outgoing) -> None:
        value = self.codec.encode(item.topic, item.message)
        key = None if item.key is None else encode_key(item.key)
        self._send(item.topic.value, key, value, item.headers)

    def _produce_dead_letter(self, letter: DeadLetter) -> None:
        record = letter.record
        headers = dead_letter_headers(record, letter.error, dropped_value=letter.drop_value)
        value = None if letter.drop_value else record.value()
        self._send(Topic.COMMANDS_DEAD_LETTER.value, record.key(), value, headers)

    def _send(self, topic: str, key: bytes | None, value: bytes | None, headers: list | None) -> None:
        while True:
            try:
                self.producer.produce(topic, key=key, value=value, headers=headers)
                return
            except BufferError:  # the local queue is full: let deliveries drain
                self.producer.poll(0.1)
