"""One loop for every consumer of the bank: the command handler, the projector, the alerts and the rebuild.

The loop polls, hands each batch to its `Work`, retries transient failures until a deadline, watches for
stalled partitions, beats its heartbeat, reports progress, and stops when asked: the batch in hand is
finished first, and `finally` closes everything. A `Work` supplies only what it does with one batch.

Failures are transient or poison (see `retry`). A transient one is retried with backoff until the
deadline, then the process exits for its supervisor. Poison (a record that would fail the same way
again) is isolated by halving the batch until it stands alone (`isolate`), and copied to a dead-letter
topic (`dead_letters`), small enough that the copy itself can always be produced. The watches that end a
wedged process are in `watch`, a batch's offsets in `kafka_bridge.batches`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from confluent_kafka import Consumer, KafkaException, Message, Producer, TopicPartition

from kafka_bridge import batches
from kafka_bridge.consumers.watch import StallWatch
from kafka_bridge.heartbeats import Heartbeat
from kafka_bridge.retry import DEFAULT_DEADLINE, is_transient, retrying

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
REPORT_EVERY = 10.0  # seconds between progress lines
IDLE_COMMIT_EVERY = 2.0  # seconds between commits of positions that only passed transaction markers


class Work:
    """What one consumer does with its records. The loop calls `start` once, `handle` for every batch (again
    after a transient failure), `idle` when a poll brings nothing, and `close` at the end, whatever happened."""

    name = "consumer"

    def start(self) -> None:
        """Before the first poll (a transactional producer's `init_transactions`, say)."""

    def assigned(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """The group gave us `partitions`; set their offsets to start elsewhere than the group's."""

    def revoked(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """The group takes `partitions` away: commit now what is done of them, or never (another owner will)."""

    def handle(self, records: list[Message]) -> None:
        """Do the batch's work once; raise a transient error to have it done again."""
        raise NotImplementedError

    def handled(self, records: list[Message]) -> None:
        """After `handle` succeeded: commit what is not committed with the work itself."""

    def idle(self) -> None:
        """A poll brought no records."""

    def finished(self) -> bool:
        """True when there is nothing more to do (a rebuild at the ends of its topics); most work never is."""
        return False

    def close(self) -> None:
        """At the end, whatever happened."""


class ConsumerLoop:
    def __init__(
        self,
        consumer: Consumer,
        work: Work,
        *,
        topics: Sequence[str] = (),
        batch_size: int = 500,
        poll_timeout: float = 0.1,
        retry_deadline: float = DEFAULT_DEADLINE,
        heartbeat: Heartbeat | None = None,
        watch_stalls: bool = True,
    ) -> None:
        self.consumer, self.work, self.topics = consumer, work, list(topics)
        self.batch_size, self.poll_timeout, self.retry_deadline = batch_size, poll_timeout, retry_deadline
        self.heartbeat, self.watch_stalls = heartbeat, watch_stalls
        self.stop = threading.Event()
        self.records = 0
        self._reported_at, self._reported = time.monotonic(), 0
        self._idle_commit_at = time.monotonic()
        self._committed: dict[tuple[str, int], int] = {}

    def run(self, stop: threading.Event) -> None:
        """Handle batches until `stop` is set or the work is finished; the batch in hand is finished first."""
        self.stop = stop
        try:
            self._retry(f"starting the {self.work.name}", self.work.start)
            if self.topics:
                self.consumer.subscribe(self.topics, on_assign=self._assigned, on_revoke=self._revoked)
                logger.info("%s started; waiting for partitions of %s", self.work.name, ", ".join(self.topics))
            with StallWatch(self.consumer) if self.watch_stalls else _NoWatch() as stalls:
                while not stop.is_set() and not self.work.finished():
                    records = batches.consume_available(self.consumer, self.batch_size, self.poll_timeout)
                    if records:
                        self.process(records)
                    else:
                        self._idle()
                    stalls.observe()
                    if self.heartbeat:
                        self.heartbeat.beat()
                    self._report()
        except Exception as error:
            if not (stop.is_set() and is_transient(error)):
                logger.error("%s giving up: %r; its supervisor restarts it", self.work.name, error)
                raise
            logger.info("stopped while retrying: %s", error)
        finally:
            logger.info("%s stopping after %d records", self.work.name, self.records)
            try:
                self.work.close()
            finally:
                self.consumer.close()  # leaves the group at once, so partitions move without a session timeout

    def process(self, records: list[Message]) -> None:
        """Handle one batch, retrying transient failures until the deadline; read it again if the group went on
        without us meanwhile (only a poll can rejoin it)."""
        with batches.read_again_if_the_group_moved_on(self.consumer, records):
            self._retry(f"{self.work.name}: a batch of {len(records)}", lambda: self.work.handle(records))
            self.work.handled(records)
            self.records += len(records)
            for tp in batches.next_offsets(records):
                self._committed[(tp.topic, tp.partition)] = tp.offset

    def _retry(self, what: str, operation: Callable[[], object]) -> None:
        for attempt in retrying(what, stop=self.stop, deadline=self.retry_deadline):
            with attempt:
                operation()

    def _assigned(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Where to start is as much the work's as a batch: a dependency away is retried until the deadline, then
        the process exits (raised out of the poll), rather than start anywhere else."""
        logger.info("assigned %d partition(s) of %s", len(partitions), ", ".join(sorted({p.topic for p in partitions})))
        self._retry(f"{self.work.name}: finding where to start", lambda: self.work.assigned(consumer, partitions))

    def _revoked(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        logger.info("revoked %d partition(s)", len(partitions))
        self.work.revoked(consumer, partitions)

    def _idle(self) -> None:
        """Commit positions that moved only past transaction markers: else an idle group shows a record or two
        of lag per partition that has no record to read (an operator reads that as a stuck consumer)."""
        self.work.idle()
        if not self.topics or time.monotonic() - self._idle_commit_at < IDLE_COMMIT_EVERY:
            return
        self._idle_commit_at = time.monotonic()
        try:
            positions = self.consumer.position(self.consumer.assignment())
        except KafkaException:
            return
        moved = [tp for tp in positions if 0 <= self._committed.get((tp.topic, tp.partition), tp.offset) < tp.offset]
        if moved:
            self.consumer.commit(offsets=moved, asynchronous=True)
            self._committed |= {(tp.topic, tp.partition): tp.offset for tp in moved}

    def _report(self) -> None:
        now = time.monotonic()
        if now - self._reported_at >= REPORT_EVERY and self.records != self._reported:
            rate = (self.records - self._reported) / (now - self._reported_at)
            logger.info("%s: %d records in all (%.0f/s lately)", self.work.name, self.records, rate)
            self._reported_at, self._reported = now, self.records


class _NoWatch:
    def __enter__(self) -> _NoWatch:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def observe(self) -> None:
        pass


def isolate(items: list[T], run: Callable[[list[T]], R], poisoned: Callable[[T, Exception], R]) -> list[R]:
    """Run `items` in one go; when that fails with poison, halve them until each poison item stands alone.

    Returns, in the order of the items, what each successful run returned and what `poisoned` made of each
    poison item and its error. A transient error is raised at once: the whole batch is retried then.
    """
    if not items:
        return []
    try:
        return [run(items)]
    except Exception as error:
        if is_transient(error):
            raise
        if len(items) == 1:
            return [poisoned(items[0], error)]
        half = len(items) // 2
        return isolate(items[:half], run, poisoned) + isolate(items[half:], run, poisoned)


def abort_transaction(producer: Producer, timeout: float) -> None:
    """Abort the producer's transaction; a failure to abort is only worth a line, unless it is fatal."""
    try:
        producer.abort_transaction(timeout)
    except KafkaException as error:
        if error.args[0].fatal():
            raise
        logger.warning("aborting the Kafka transaction failed: %s", error)
