"""One loop for every consumer of the bank: the command handler, the projector, the alerts and the rebuild.

The loop polls, hands each batch to its `Work`, retries transient failures until a deadline, watches for
stalled partitions, beats its heartbeat, reports progress, and stops when asked: the batch in hand is
finished first, and `finally` closes everything. A `Work` supplies only what it does with one batch.

Failures are transient or poison (see `retry`). A transient one is retried with backoff until the
deadline, then the process exits for its supervisor. Poison (a record that would fail the same way
again) is isolated by halving the batch until it stands alone (`isolate`), and copied to a dead-letter
topic (`dead_letters`), small enough that the copy itself can always be produced. What a batch produced and
its offsets are committed by the loop's one `committer`; the watches that end a wedged process are in `watch`,
a batch's offsets in `kafka_bridge.batches`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from confluent_kafka import Consumer, Message, Producer, TopicPartition

from kafka_bridge import batches
from kafka_bridge.consumers.committer import Commits, Committer, Produced
from kafka_bridge.consumers.watch import StallWatch
from kafka_bridge.heartbeats import Heartbeat
from kafka_bridge.retry import DEFAULT_DEADLINE, is_transient, retrying

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
REPORT_EVERY = 10.0  # seconds between progress lines


class Work:
    """What one consumer does with its records. The loop calls `start` once, `handle` for every batch (again
    after a transient failure) and `ended` when the batch is committed or failed, `idle` when a poll brings
    nothing, and `close` at the end, whatever happened. What is committed, and how, the loop's committer does,
    as `commits` says."""

    name = "consumer"
    group = ""
    commits = Commits.PLAINLY
    dead_letter_topic: str | None = None
    positions_topic: str | None = None  # where each transaction keeps the group's positions (`kept_positions`)

    def start(self) -> None:
        """Before the first poll."""

    def assigned(self, consumer: Consumer, partitions: list[TopicPartition]) -> list[TopicPartition]:
        """The group gave us `partitions`: set their offsets to start elsewhere than the group's. Returns the
        group's offsets to keep on the positions topic at once (ones it knows and the topic does not)."""
        return []

    def handle(self, records: list[Message]) -> Produced:
        """Do the batch's work once and say what it produced; raise a transient error to have it done again."""
        raise NotImplementedError

    def ended(self, error: BaseException | None) -> None:
        """The batch is committed (`error` is None), or failed with `error` and is about to be aborted."""

    def idle(self) -> None:
        """A poll brought no records."""

    def close(self) -> None:
        """At the end, whatever happened."""


class ConsumerLoop:
    """Polls, hands each batch to its `Work`, and commits through its `Committer`. Given `until`, a replay: it
    reads each partition up to that offset, commits nothing, and ends there."""

    def __init__(
        self,
        consumer: Consumer,
        work: Work,
        *,
        producer: Producer | None = None,
        topics: Sequence[str] = (),
        batch_size: int = 500,
        poll_timeout: float = 0.1,
        retry_deadline: float = DEFAULT_DEADLINE,
        heartbeat: Heartbeat | None = None,
        watch_stalls: bool = True,
        until: dict[tuple[str, int], int] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.consumer, self.work, self.topics = consumer, work, list(topics)
        self.batch_size, self.poll_timeout, self.retry_deadline = batch_size, poll_timeout, retry_deadline
        self.heartbeat, self.watch_stalls, self.until, self.progress = heartbeat, watch_stalls, until, progress
        self.committer = Committer(
            consumer,
            producer,
            commits=work.commits,
            name=work.name,
            group=work.group,
            dead_letter_topic=work.dead_letter_topic,
            positions_topic=work.positions_topic,
            replay=until is not None,
        )
        self.stop = threading.Event()
        self.records = 0
        self._reported_at, self._reported = time.monotonic(), 0

    def run(self, stop: threading.Event) -> None:
        """Handle batches until `stop` is set or a replay is at its ends; the batch in hand is finished first."""
        self.stop = stop
        try:
            self._retry(f"starting the {self.work.name}", self._start)
            if self.topics:
                self.consumer.subscribe(self.topics, on_assign=self._assigned, on_revoke=self._revoked)
                logger.info("%s started; waiting for partitions of %s", self.work.name, ", ".join(self.topics))
            with StallWatch(self.consumer) if self.watch_stalls else _NoWatch() as stalls:
                while not stop.is_set() and not self._at_the_ends():
                    records = batches.consume_available(self.consumer, self.batch_size, self.poll_timeout)
                    if self.until is not None:
                        records = [r for r in records if r.offset() < self.until[(r.topic(), r.partition())]]
                    if records:
                        self.process(records)
                    else:
                        self.work.idle()
                        self.committer.idle()
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
                self.committer.close()
            finally:
                self.consumer.close()  # leaves the group at once, so partitions move without a session timeout

    def process(self, records: list[Message]) -> None:
        """Handle one batch, retrying transient failures until the deadline; read it again if the group went on
        without us meanwhile (only a poll can rejoin it)."""
        with batches.read_again_if_the_group_moved_on(self.consumer, records):
            self._retry(
                f"{self.work.name}: a batch of {len(records)}",
                lambda: self.committer.run(records, self.work.handle, self.work.ended),
            )
            self.records += len(records)

    def _start(self) -> None:
        self.work.start()
        self.committer.start()

    def _retry(self, what: str, operation: Callable[[], object]) -> None:
        for attempt in retrying(what, stop=self.stop, deadline=self.retry_deadline):
            with attempt:
                operation()

    def _assigned(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Where to start is as much the work's as a batch: a dependency away is retried until the deadline, then
        the process exits (raised out of the poll), rather than start anywhere else."""
        logger.info("assigned %d partition(s) of %s", len(partitions), ", ".join(sorted({p.topic for p in partitions})))

        def assign() -> None:
            self.committer.keep_positions(self.work.assigned(consumer, partitions))

        self._retry(f"{self.work.name}: finding where to start", assign)

    def _revoked(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        logger.info("revoked %d partition(s)", len(partitions))
        self.committer.revoked(partitions)

    def _at_the_ends(self) -> bool:
        """A replay is done when every position is at its end: the position passes transaction markers and aborted
        records too, which no record is read at, so not when every offset is seen."""
        if self.until is None:
            return False
        partitions = [TopicPartition(topic, partition) for topic, partition in self.until]
        return all(
            max(tp.offset, 0) >= self.until[(tp.topic, tp.partition)] for tp in self.consumer.position(partitions)
        )

    def _report(self) -> None:
        now = time.monotonic()
        if now - self._reported_at >= REPORT_EVERY and self.records != self._reported:
            rate = (self.records - self._reported) / (now - self._reported_at)
            logger.info("%s: %d records in all (%.0f/s lately)", self.work.name, self.records, rate)
            if self.progress:
                self.progress(self.records)
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
