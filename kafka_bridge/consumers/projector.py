"""The projector's work: events and feedback in, read model and live notifications out.

At least once with idempotent writes: a batch is written, subscribers are told, and only then are the
batch's own offsets committed. A crash in between replays the batch; the writes find their rows already
there (one transaction per event identity), and subscribers may hear a result twice.

A record that does not decode, or that the read model refuses, is isolated and copied to
`projector_dead_letter` with the reason, and the rest of the batch goes on. A replay (`rebuild_projections`)
only logs such a record: the running projector dead-letters each one once.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field

from confluent_kafka import Consumer, KafkaException, Message, Producer, TopicPartition
from django.db import close_old_connections

from banking.read_model import Projected, project
from kafka_bridge import batches, clients
from kafka_bridge.batches import where
from kafka_bridge.consumers.dead_letters import DeadLetter, DeadLetters
from kafka_bridge.consumers.loop import Work, isolate
from kafka_bridge.metrics import EVENTS_PROJECTED, PROJECTION_DELAY_SECONDS
from kafka_bridge.translate import read_model_input
from kafka_bridge.wire.codecs import Codec, DecodeError
from kafka_bridge.wire.messages import BalanceChanged
from kafka_bridge.wire.messages import Message as Record
from kafka_bridge.wire.topology import Topic
from kernel.live import Notifier
from kernel.logs import about_command

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


class Projector(Work):
    name = "projector"

    def __init__(
        self,
        consumer: Consumer,
        codec: Codec,
        *,
        dead_letters: Producer | None = None,
        notify: bool = True,
        replaying: bool = False,
    ) -> None:
        self.consumer, self.codec, self.replaying = consumer, codec, replaying
        producer = None if replaying else dead_letters or clients.producer()
        self.dead_letters = None if producer is None else DeadLetters(producer, Topic.PROJECTOR_DEAD_LETTER.value)
        self.notifier = Notifier() if notify else None
        self.counts = {"transactions": 0, "answers": 0, "dead letters": 0} | ({"refused again": 0} if replaying else {})
        self.projected: dict[tuple[str, int], TopicPartition] = {}  # the offset after each partition's last batch

    def handle(self, records: list[Message]) -> None:
        close_old_connections()
        decoded, dead = self._decode(records)
        parts = isolate(decoded, self._write, self._refused)
        projected = sum((part.projected for part in parts), Projected())
        self._dead_letter([*dead, *(letter for part in parts for letter in part.refused)])
        self.counts["transactions"] += len(projected.rows)
        self.counts["answers"] += len(projected.answers)
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

    def handled(self, records: list[Message]) -> None:
        """Commit the batch's own offsets: without them librdkafka commits the positions its thread finds when
        it sends the commit, which may include the next batch, consumed but not projected. Not waited for: a
        lost commit only means records projected again, which rewrites nothing."""
        if self.replaying:
            return
        done = batches.next_offsets(records)
        self.consumer.commit(offsets=done, asynchronous=True)
        self.projected |= {(tp.topic, tp.partition): tp for tp in done}

    def _decode(self, records: list[Message]) -> tuple[list[Decoded], list[DeadLetter]]:
        decoded, dead = [], []
        for record in records:
            try:
                decoded.append((record, self.codec.decode(record.topic(), record.value())))
            except DecodeError as error:
                dead.append(DeadLetter(record, str(error)))
        return decoded, dead

    @staticmethod
    def _write(items: list[Decoded]) -> Stored:
        batch = read_model_input(items)
        return Stored(project(batch.events, batch.feedback, batch.settings, batch.fired))

    @staticmethod
    def _refused(item: Decoded, error: Exception) -> Stored:
        logger.error("the read model refused %s", where(item[0]), exc_info=error)
        return Stored(refused=[DeadLetter(item[0], f"the read model refused it: {error!r}")])

    def _dead_letter(self, letters: list[DeadLetter]) -> None:
        """Copy the records to the dead-letter topic and wait until the broker has them all (a replay only
        logs them)."""
        if not letters:
            return
        if self.dead_letters is None:
            for letter in letters:
                logger.warning(
                    "refused again on a replay, not dead-lettered twice: %s: %s", where(letter.record), letter.error
                )
            self.counts["refused again"] += len(letters)
            return
        self.dead_letters.send(letters, wait=True)
        self.counts["dead letters"] += len(letters)

    def close(self) -> None:
        logger.info("projector stopping: %s", self.counts)
        self._commit_at_stop()
        if self.dead_letters:
            self.dead_letters.producer.flush(10)
        if self.notifier:
            self.notifier.close()

    def _commit_at_stop(self) -> None:
        """Commit, and wait for, the offsets after the last projected record of each partition still ours."""
        with contextlib.suppress(KafkaException):  # the group went on without us: the new owner commits
            ours = {(tp.topic, tp.partition) for tp in self.consumer.assignment()}
            offsets = [tp for partition, tp in self.projected.items() if partition in ours]
            if offsets:
                self.consumer.commit(offsets=offsets, asynchronous=False)


class Rebuild(Projector):
    """The projector's work over its topics from their start to where they ended when it began: a replay into
    an empty read model. It tells no one and commits nothing; `progress` hears the counts every few seconds."""

    name = "rebuild"

    def __init__(self, reader: Consumer, codec: Codec, ends: dict[tuple[str, int], int], progress) -> None:
        super().__init__(reader, codec, notify=False, replaying=True)
        self.ends, self.progress = ends, progress
        self.partitions = [TopicPartition(topic, partition) for topic, partition in ends]
        self._reported = time.monotonic()

    def finished(self) -> bool:
        # The position passes transaction markers and aborted records too, which no record is read at: so
        # "done" is every position at its end, not every offset seen.
        positions = self.consumer.position(self.partitions)
        return all(max(tp.offset, 0) >= self.ends[(tp.topic, tp.partition)] for tp in positions)

    def handle(self, records: list[Message]) -> None:
        wanted = [r for r in records if r.offset() < self.ends[(r.topic(), r.partition())]]
        if wanted:
            super().handle(wanted)

    def handled(self, records: list[Message]) -> None:
        if time.monotonic() - self._reported > 5:
            self.progress(self.counts)
            self._reported = time.monotonic()
