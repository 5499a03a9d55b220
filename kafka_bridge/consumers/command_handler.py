"""The command handler's work: read a batch of commands, run it on the ledger, publish, commit. Exactly once.

Per batch there is one ledger transaction and one Kafka transaction (the loop's committer begins and commits it):

1. begin the Kafka transaction and lock the batch's accounts (advisory locks, held until step 3 is done);
2. run the batch on the ledger and encode what it caused; the ledger transaction commits, storing each
   command's outcome and events with where the command was read from (`delivery`), and how far the ledger
   has read each partition;
3. produce the events and the feedback, add the consumed offsets, commit the Kafka transaction.

A crash before step 2 commits changes nothing. A crash between 2 and 3 leaves the ledger committed
but the Kafka transaction aborted, so the batch is read again: every command is then found in the
store with the same delivery, and its stored events are published again without moving money twice.
After step 3 the offsets are committed with the events, so the batch is never read again, even if the
group's offsets are lost: the ledger says where it was (`banking.positions`), and whether its last batch
reached Kafka the handler's positions say, kept in the same Kafka transaction (`command_handler_positions`).

A record that cannot be a command (it does not decode, its key is longer than any username, it is larger
than any command) or that the ledger fails on is dead-lettered, and the rest of the batch goes on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from confluent_kafka import Consumer, Message, TopicPartition
from django.db import DatabaseError, close_old_connections, connections, transaction

from accounts.ledger import release_account_locks
from banking import positions
from banking.ledger import Received, execute_commands
from kafka_bridge import batches, kept_positions
from kafka_bridge.batches import where
from kafka_bridge.consumers.committer import Commits, Encoded, Produced
from kafka_bridge.consumers.dead_letters import DeadLetter
from kafka_bridge.consumers.loop import Work, isolate
from kafka_bridge.metrics import COMMANDS_HANDLED, HANDLER_BATCH_SIZE
from kafka_bridge.translate import NotACommand, Outgoing, failure_records, feedback_of, to_command, to_records
from kafka_bridge.wire.codecs import Codec, DecodeError, decode_key, encode_key
from kafka_bridge.wire.topology import Topic
from kernel.databases import LEDGER
from kernel.logs import about_command
from kernel.rules import MAX_USERNAME

logger = logging.getLogger(__name__)

GROUP_ID = "command-handler"
MAX_COMMAND_BYTES = 16 * 1024  # a command is well under a kilobyte: anything this large is not one
MAX_KEY_BYTES = 4 * MAX_USERNAME  # a username's characters, of at most 4 bytes each
FEEDBACK_KINDS = {
    Topic.ACCOUNT_CREATION_FEEDBACK: "account",
    Topic.MONEY_TRANSFER_FEEDBACK: "transfer",
    Topic.ALERT_RULE_FEEDBACK: "alert rule",
}


@dataclass(frozen=True)
class LedgerPart:
    """What a part of a batch gave on the ledger: its records (and their bytes), and dead letters."""

    outgoing: list[Outgoing]
    produced: Produced
    ran: bool = False  # its ledger transaction committed


@dataclass(frozen=True)
class Read:
    """A command record that decoded, with the command the ledger makes of it."""

    record: Message
    received: Received


class CommandHandler(Work):
    name = "command handler"
    commits = Commits.IN_A_TRANSACTION
    dead_letter_topic = Topic.COMMANDS_DEAD_LETTER.value
    positions_topic = Topic.COMMAND_HANDLER_POSITIONS.value

    def __init__(self, codec: Codec, *, group: str, kafka_timeout: float = 30.0) -> None:
        self.codec, self.group, self.kafka_timeout = codec, group, kafka_timeout
        self._answered: list[Outgoing] = []

    def assigned(self, consumer: Consumer, partitions: list[TopicPartition]) -> list[TopicPartition]:
        """Start where the ledger says it was when the group's offset is lost or behind it. Without the ledger
        nothing starts: the loop retries, and never reads from the earliest offset meanwhile."""
        committed = consumer.committed(partitions, timeout=self.kafka_timeout)
        try:
            resume = positions.resume_at(
                self.group,
                {(tp.topic, tp.partition): tp.offset for tp in committed},
                lambda: kept_positions.read(Topic.COMMAND_HANDLER_POSITIONS.value, self.group, self.kafka_timeout),
            )
        except DatabaseError:
            connections[LEDGER].close()
            raise
        for tp, known in zip(partitions, committed, strict=True):
            if (tp.topic, tp.partition) in resume:
                tp.offset = resume[(tp.topic, tp.partition)]
                was = known.offset if known.offset >= 0 else "lost"
                logger.warning(
                    "%s[%d]: the group's offset is %s: resuming at %d, where the ledger was",
                    tp.topic,
                    tp.partition,
                    was,
                    tp.offset,
                )
        if resume:
            consumer.assign(partitions)
        return []

    def handle(self, records: list[Message]) -> Produced:
        """Run the batch on the ledger, its accounts locked until `ended`; the transaction is already begun."""
        close_old_connections()
        readable, dead = self._read(records)
        done = self._run_on_ledger(readable, _spans(records))
        HANDLER_BATCH_SIZE.observe(len(records))
        self._answered = done.outgoing
        return Produced(dead_letters=dead) + done.produced

    def ended(self, error: BaseException | None) -> None:
        """Let go of the batch's account locks once its events are out or it failed (before the connection goes back
        to the pool: locks outlive a rollback)."""
        release_account_locks()
        if isinstance(error, DatabaseError):
            connections[LEDGER].close()
        if error is None:
            self._count(self._answered)
        self._answered = []

    def _read(self, records: list[Message]) -> tuple[list[Read], list[DeadLetter]]:
        """Decode the batch: commands to run, and poison to dead-letter. A registry that is away raises."""
        readable, dead = [], []
        for record in records:
            size, key_size = len(record.value() or b""), len(record.key() or b"")
            if size > MAX_COMMAND_BYTES:
                dead.append(DeadLetter(record, f"a record of {size} bytes is larger than a command can be"))
            elif key_size > MAX_KEY_BYTES:
                dead.append(DeadLetter(record, f"a key of {key_size} bytes is longer than any username"))
            else:
                try:
                    command = to_command(self.codec.decode(record.topic(), record.value()))
                    readable.append(Read(record, Received(command, where(record))))
                except (DecodeError, NotACommand) as error:
                    dead.append(DeadLetter(record, str(error)))
        return readable, dead

    def _run_on_ledger(self, readable: list[Read], spans: list[positions.Span]) -> LedgerPart:
        """What to produce for these commands, each part of the batch in a ledger transaction that commits only
        once its records are encoded. A command the ledger fails on is isolated (the batch is halved until it
        stands alone), dead-lettered, and its client told it failed."""
        parts = isolate(readable, lambda part: self._on_ledger(part, spans), self._failed)
        if not any(part.ran for part in parts):  # nothing ran on the ledger: still keep how far the batch goes
            with transaction.atomic(using=LEDGER):
                positions.record_batch(self.group, spans)
        return LedgerPart(
            [o for part in parts for o in part.outgoing],
            sum((part.produced for part in parts), Produced()),
        )

    def _on_ledger(self, part: list[Read], spans: list[positions.Span]) -> LedgerPart:
        with transaction.atomic(using=LEDGER):
            outcomes = execute_commands(
                [item.received for item in part], also=[positions.batch_write(self.group, spans)]
            )
            outgoing = [
                record
                for item, outcome in zip(part, outcomes, strict=True)
                for record in to_records(outcome, decode_key(item.record.key()))
            ]
            encoded = [self._encode(item) for item in outgoing]
        return LedgerPart(outgoing, Produced(encoded), ran=True)

    def _failed(self, item: Read, error: Exception) -> LedgerPart:
        logger.error("dead-lettering %s: the ledger failed on it", where(item.record), exc_info=error)
        letter = DeadLetter(item.record, f"the ledger failed on this command: {error!r}")
        told = failure_records(item.received.command, decode_key(item.record.key()))
        return LedgerPart(told, Produced([self._encode(record) for record in told], [letter]))

    def _encode(self, item: Outgoing) -> Encoded:
        key = None if item.key is None else encode_key(item.key)
        return item.topic.value, key, self.codec.encode(item.topic, item.message), item.headers

    @staticmethod
    def _count(outgoing: list[Outgoing]) -> None:
        """Commands answered, by kind and outcome; with DEBUG logging, one line per command, with its id."""
        for item in outgoing:
            kind = FEEDBACK_KINDS.get(item.topic)
            if kind is None:  # an event, not an answer
                continue
            COMMANDS_HANDLED.labels(kind, "confirmed" if item.confirms else "refused").inc()
            if logger.isEnabledFor(logging.DEBUG):
                command_id, answer = feedback_of(item.message)
                with about_command(command_id):
                    logger.debug("%s %s", kind, "confirmed" if item.confirms else f"refused: {answer.reason}")


def _spans(records: list[Message]) -> list[positions.Span]:
    firsts = {(tp.topic, tp.partition): tp.offset for tp in batches.first_offsets(records)}
    return [
        positions.Span(tp.topic, tp.partition, firsts[(tp.topic, tp.partition)], tp.offset)
        for tp in batches.next_offsets(records)
    ]
