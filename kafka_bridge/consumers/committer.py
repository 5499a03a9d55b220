"""The one owner of a loop's commits: what a batch produced goes out, and its offsets are committed, as its
`Work` declares (`Commits`), with one map of where each partition was handled and where it is committed.

Offsets only ever move forward: plain commits are waited for, so none lands after a transaction's, and the
partitions a rebalance takes away are committed then and forgotten.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import enum
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from confluent_kafka import Consumer, KafkaException, Message, Producer, TopicPartition

from kafka_bridge import batches, kept_positions
from kafka_bridge.consumers.dead_letters import DeadLetter, DeadLetters
from kafka_bridge.consumers.watch import hard_deadline
from kafka_bridge.metrics import BATCH_PHASE_SECONDS

logger = logging.getLogger(__name__)

Partition = tuple[str, int]
Encoded = tuple[str, bytes | None, bytes | None, list | None]  # topic, key, value, headers
COMMIT_EVERY = 1.0  # seconds between plain commits while batches keep coming
POSITIONS_EVERY = 60.0  # seconds between transactions that keep the positions of batches that produced nothing
MARKERS_EVERY = 2.0  # seconds between commits of positions that only passed transaction markers
SLOW_BATCH_SECONDS = 1.0  # a batch is a few milliseconds: one this slow says where its time went


class Commits(enum.Enum):
    """How a Work's batches are committed."""

    IN_A_TRANSACTION = "every batch in a Kafka transaction with its output and offsets, begun before its work"
    WHEN_PRODUCING = "a batch that produced something in a transaction, the others plainly"
    PLAINLY = "offsets committed plainly once the output (dead letters) is on the broker"


@dataclass
class Produced:
    """What one batch gave: records to produce and poison to dead-letter."""

    records: list[Encoded] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.records or self.dead_letters)

    def __add__(self, other: Produced) -> Produced:
        return Produced(self.records + other.records, self.dead_letters + other.dead_letters)


class Committer:
    """Produces what each batch gave and commits its offsets; `replay` commits nothing and dead-letters nothing
    again (the records were judged the first time), it only logs."""

    def __init__(
        self,
        consumer: Consumer,
        producer: Producer | None,
        *,
        commits: Commits,
        name: str,
        group: str = "",
        dead_letter_topic: str | None = None,
        positions_topic: str | None = None,
        replay: bool = False,
        timeout: float = 30.0,
    ) -> None:
        self.consumer, self.producer, self.commits, self.name = consumer, producer, commits, name
        self.group, self.positions_topic, self.replay, self.timeout = group, positions_topic, replay, timeout
        self.dead_letters = (
            None if producer is None or dead_letter_topic is None else DeadLetters(producer, dead_letter_topic)
        )
        self.handled: dict[Partition, int] = {}  # the offset after each partition's last handled batch
        self.committed: dict[Partition, int] = {}  # the offset committed (or on its way) for each partition
        self._offsets = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="offsets")
        self._committed_at = self._positions_at = self._markers_at = time.monotonic()

    @property
    def transactional(self) -> bool:
        return self.commits is not Commits.PLAINLY and not self.replay

    @property
    def transactions(self) -> Producer:
        """The producer, which a Work that commits with its output cannot do without."""
        if self.producer is None:
            raise ValueError(f"the {self.name} produces what it commits: its loop needs a producer")
        return self.producer

    def start(self) -> None:
        if self.transactional:
            self.transactions.init_transactions(self.timeout)

    def run(self, records: list[Message], handle: Callable[[list[Message]], Produced], ended: Callable) -> None:
        """Handle `records` and commit them as the work declares; `ended(error)` is told how the batch ended (after
        its commit, or before its transaction is aborted)."""
        started = time.perf_counter()
        done = batches.next_offsets(records)
        if self.commits is Commits.IN_A_TRANSACTION and not self.replay:
            self._in_a_transaction(done, lambda: handle(records), ended, started)
            return
        try:
            produced = handle(records)
        except BaseException as error:
            ended(error)
            raise
        if self.transactional and (produced or time.monotonic() - self._positions_at >= POSITIONS_EVERY):
            self._in_a_transaction(done, lambda: produced, ended, started)
            return
        self._dead_letter_plainly(produced.dead_letters)
        ended(None)
        self._handled(done)
        if not self.replay and time.monotonic() - self._committed_at >= COMMIT_EVERY:
            self.commit_plainly()

    def _in_a_transaction(
        self, done: list[TopicPartition], handle: Callable[[], Produced], ended: Callable, started: float
    ) -> None:
        """The batch's output, its offsets (with any waiting to be committed plainly) and its positions in one
        transaction. The offsets join it on a thread while the work runs: their two round trips to the group
        coordinator are not waited for on top of the work's."""
        offsets = self._with_waiting(done)
        self.transactions.begin_transaction()
        sending = None
        try:
            sending = self._offsets.submit(self._send_offsets, offsets)
            produced = handle()
            worked = time.perf_counter()
            for record in produced.records:
                self._produce(*record)
            if self.positions_topic:
                kept_positions.keep(self.transactions, self.positions_topic, self.group, offsets)
            if self.dead_letters:
                self.dead_letters.send(produced.dead_letters, wait=False)
            sending.result()
            sent = time.perf_counter()
            with hard_deadline(self.timeout + 10, f"committing the {self.name}'s transaction"):
                self.transactions.commit_transaction(self.timeout)
        except BaseException as error:
            ended(error)
            if sending is not None:
                concurrent.futures.wait([sending])  # no transactional call may overlap the abort
            abort_transaction(self.transactions, self.timeout)
            raise
        ended(None)
        self._handled(done)
        self._committed_now(offsets)
        self._positions_at = time.monotonic()
        self._phases(
            len(done), {"work": worked - started, "produce": sent - worked, "commit": time.perf_counter() - sent}
        )

    def keep_positions(self, offsets: list[TopicPartition]) -> None:
        """Keep `offsets` on the positions topic alone, in a transaction of their own (they are committed already)."""
        if not (offsets and self.positions_topic and self.transactional):
            return
        self.transactions.begin_transaction()
        try:
            kept_positions.keep(self.transactions, self.positions_topic, self.group, offsets)
            with hard_deadline(self.timeout + 10, f"committing the {self.name}'s positions"):
                self.transactions.commit_transaction(self.timeout)
        except BaseException:
            abort_transaction(self.transactions, self.timeout)
            raise

    def commit_plainly(self) -> None:
        """Commit the offsets handled and not yet committed, and wait for them: a transaction's, later, is never
        overtaken."""
        waiting = self._waiting()
        if waiting:
            self.consumer.commit(offsets=waiting, asynchronous=False)
            self._committed_now(waiting)
        self._committed_at = time.monotonic()

    def idle(self) -> None:
        """Nothing came: commit what waits, then, every few seconds, the positions that moved only past transaction
        markers (else an idle group shows a record or two of lag per partition that has no record to read)."""
        if self.replay:
            return
        self.commit_plainly()
        if time.monotonic() - self._markers_at < MARKERS_EVERY:
            return
        self._markers_at = time.monotonic()
        try:
            positions = self.consumer.position(self.consumer.assignment())
            self._learn_committed(
                [tp for tp in positions if tp.offset >= 0 and (tp.topic, tp.partition) not in self.handled]
            )
        except KafkaException:
            return
        moved = [tp for tp in positions if 0 <= self.handled.get((tp.topic, tp.partition), tp.offset) < tp.offset]
        if moved:
            self.consumer.commit(offsets=moved, asynchronous=False)
            self._settled(moved)

    def _learn_committed(self, unknown: list[TopicPartition]) -> None:
        """Where the group is in partitions this process has handled nothing of yet (a predecessor's last batch may
        end in a marker the position has passed since)."""
        if unknown:
            self._settled(tp for tp in self.consumer.committed(unknown, timeout=self.timeout) if tp.offset >= 0)

    def revoked(self, partitions: Iterable[TopicPartition]) -> None:
        """Commit what waits while the partitions are still ours (later, after their new owner's commits, it would
        move them back), then forget them."""
        if not self.replay:
            try:
                self.commit_plainly()
            except KafkaException as error:  # the group moved on already: the new owner reads those batches again
                logger.warning("could not commit offsets of revoked partitions: %s", error)
        for tp in partitions:
            self.handled.pop((tp.topic, tp.partition), None)
            self.committed.pop((tp.topic, tp.partition), None)

    def close(self) -> None:
        """At the stop: commit what waits of the partitions still ours, and let the producer finish."""
        try:
            if not self.replay:
                with contextlib.suppress(KafkaException):  # the group went on without us: the new owner commits
                    ours = {(tp.topic, tp.partition) for tp in self.consumer.assignment()}
                    waiting = [tp for tp in self._waiting() if (tp.topic, tp.partition) in ours]
                    if waiting:
                        self.consumer.commit(offsets=waiting, asynchronous=False)
            if self.producer is not None:
                self.producer.flush(self.timeout)
        finally:
            self._offsets.shutdown()

    def _send_offsets(self, offsets: list[TopicPartition]) -> None:
        with hard_deadline(self.timeout + 10, f"sending the {self.name}'s offsets"):
            self.transactions.send_offsets_to_transaction(
                offsets, self.consumer.consumer_group_metadata(), self.timeout
            )

    def _dead_letter_plainly(self, letters: list[DeadLetter]) -> None:
        """Outside a transaction the copies are waited for before the offsets are committed; a replay only logs."""
        if not letters:
            return
        if self.replay or self.dead_letters is None:
            for letter in letters:
                logger.warning(
                    "refused again, not dead-lettered twice: %s: %s", batches.where(letter.record), letter.error
                )
            return
        self.dead_letters.send(letters, wait=True)

    def _produce(self, topic: str, key: bytes | None, value: bytes | None, headers: list | None) -> None:
        while True:
            try:
                self.transactions.produce(topic, key=key, value=value, headers=headers)
                return
            except BufferError:  # the local queue is full: let deliveries drain
                self.transactions.poll(0.1)

    def _with_waiting(self, done: list[TopicPartition]) -> list[TopicPartition]:
        offsets = {(tp.topic, tp.partition): tp.offset for tp in self._waiting()}
        offsets |= {(tp.topic, tp.partition): tp.offset for tp in done}
        return [TopicPartition(topic, partition, offset) for (topic, partition), offset in offsets.items()]

    def _waiting(self) -> list[TopicPartition]:
        return [
            TopicPartition(topic, partition, offset)
            for (topic, partition), offset in self.handled.items()
            if self.committed.get((topic, partition), -1) < offset
        ]

    def _handled(self, offsets: Iterable[TopicPartition]) -> None:
        for tp in offsets:
            self.handled[(tp.topic, tp.partition)] = max(tp.offset, self.handled.get((tp.topic, tp.partition), -1))

    def _committed_now(self, offsets: Iterable[TopicPartition]) -> None:
        for tp in offsets:
            self.committed[(tp.topic, tp.partition)] = max(tp.offset, self.committed.get((tp.topic, tp.partition), -1))

    def _settled(self, offsets: Iterable[TopicPartition]) -> None:
        """Handled and committed both: past everything before them."""
        settled = list(offsets)
        self._handled(settled)
        self._committed_now(settled)

    def _phases(self, size: int, phases: dict[str, float]) -> None:
        for phase, seconds in phases.items():
            BATCH_PHASE_SECONDS.labels(self.name, phase).observe(seconds)
        if sum(phases.values()) > SLOW_BATCH_SECONDS:
            took = ", ".join(f"{phase} {seconds:.1f}" for phase, seconds in phases.items())
            logger.warning("%s: a batch of %d took %.1f s: %s", self.name, size, sum(phases.values()), took)


def abort_transaction(producer: Producer, timeout: float) -> None:
    """Abort the producer's transaction; a failure to abort is only worth a line, unless it is fatal."""
    try:
        producer.abort_transaction(timeout)
    except KafkaException as error:
        if error.args[0].fatal():
            raise
        logger.warning("aborting the Kafka transaction failed: %s", error)
