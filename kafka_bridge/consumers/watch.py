"""Watches on a consumer loop: a partition it stopped fetching (`StallWatch`), and a call into librdkafka that
blocks past its own timeout (`hard_deadline`). Either makes the process exit, for its supervisor to restart it."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, KafkaException, TopicPartition

from kafka_bridge import clients

logger = logging.getLogger(__name__)


class ConsumerStalled(Exception):
    """Records wait on an assigned partition and none have come for a while."""


class StallWatch:
    """Notice a partition the consumer stopped fetching, so its process exits and a new consumer takes over.

    librdkafka now and then stops fetching one partition after a broker restart, even while it goes on with the
    others (a rolling restart left commands unanswered for minutes), or a restarted consumer never starts; a new
    consumer does not. A partition is stalled when records have waited `after` seconds on it at one position.
    """

    def __init__(
        self,
        consumer: Consumer,
        after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        prober: Consumer | None = None,
    ) -> None:
        self.consumer, self.after, self.clock, self.prober = consumer, after, clock, prober
        self._checked = clock()
        self._waiting: dict[tuple[str, int], tuple[int, float]] = {}  # partition -> (position, records wait since)

    def __enter__(self) -> StallWatch:
        # The brokers' offsets are asked on connections of the watch's own: on the consumer's, each question
        # waits behind its long-poll fetch (up to 500 ms when idle), and so would every record behind the check.
        if self.prober is None:
            self.prober = clients.consumer(self.consumer.group_id, **{"client.id": "stall-watch"})
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.prober is not None and self.prober is not self.consumer:
            self.prober.close()

    def observe(self) -> None:
        """Check, at most twice per `after` seconds; raise `ConsumerStalled` if a partition is stalled."""
        if self.clock() - self._checked >= self.after / 2:
            self.check()

    def check(self) -> None:
        now = self._checked = self.clock()
        try:
            behind = self._behind()
        except KafkaException:  # no leader or coordinator just now: a broker away is not a stall
            return
        waiting = {}
        for partition, (at, _end) in behind.items():
            before = self._waiting.get(partition)
            waiting[partition] = before if before and before[0] == at else (at, now)
        self._waiting = waiting
        stalled = {
            f"{topic}[{partition}]": behind[(topic, partition)]
            for (topic, partition), (_at, since) in waiting.items()
            if now - since >= self.after
        }
        if stalled:
            raise ConsumerStalled(f"records waited {self.after:.0f} s at one position (at, end): {stalled}")

    def _behind(self) -> dict[tuple[str, int], tuple[int, int]]:
        """(position, end) of each assigned partition with records past its position."""
        positions = self._positions()
        # One request per broker for all partitions, not one per partition: 144 took over a minute.
        ends = self._ask(positions, OFFSET_END)
        behind = [tp for tp in positions if tp.offset < ends.get((tp.topic, tp.partition), tp.offset)]
        starts = self._ask(behind, OFFSET_BEGINNING)
        found = {}
        for tp in behind:
            key = (tp.topic, tp.partition)
            if key in starts:  # else its leader did not answer
                at = max(tp.offset, starts[key])  # no group offset, or one whose records retention deleted
                if at < ends[key]:
                    found[key] = (at, ends[key])
        return found

    def _ask(self, partitions: list[TopicPartition], offset: int) -> dict[tuple[str, int], int]:
        """The first (OFFSET_BEGINNING) or end (OFFSET_END) offset of each partition, from its leader now."""
        asked = [TopicPartition(tp.topic, tp.partition, offset) for tp in partitions]
        answers = self.prober.offsets_for_times(asked, timeout=5) if asked and self.prober else []
        return {(tp.topic, tp.partition): tp.offset for tp in answers if tp.error is None and tp.offset >= 0}

    def _positions(self) -> list[TopicPartition]:
        """Where the consumer is in each partition. Nothing consumed since the assignment gives no position
        (a restarted handler once sat like that for minutes): the group's committed offset says it then."""
        positions = self.consumer.position(self.consumer.assignment())
        known = [tp for tp in positions if tp.offset >= 0]
        unknown = [tp for tp in positions if tp.offset < 0]
        return known + (self.prober.committed(unknown, timeout=5) if unknown and self.prober else [])


WEDGED_EXIT_STATUS = 70


class _Watchdog:
    """One thread that ends the process when a watched call outlives its deadline (a thread per call cost the
    handler a twentieth of its CPU)."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._watched: dict[int, tuple[float, str, float]] = {}  # ticket -> (deadline, what, seconds)
        self._tickets = 0
        self._thread: threading.Thread | None = None

    def watch(self, seconds: float, what: str) -> int:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True, name="watchdog")
                self._thread.start()
            self._tickets += 1
            self._watched[self._tickets] = (time.monotonic() + seconds, what, seconds)
            self._lock.notify()
            return self._tickets

    def release(self, ticket: int) -> None:
        with self._lock:
            self._watched.pop(ticket, None)

    def _run(self) -> None:
        with self._lock:
            while True:
                now = time.monotonic()
                for ticket, (deadline, what, seconds) in list(self._watched.items()):
                    if deadline <= now:
                        del self._watched[ticket]
                        _wedged(what, seconds)
                nearest = min((deadline for deadline, _, _ in self._watched.values()), default=now + 60)
                self._lock.wait(max(nearest - now, 0.01))


_watchdog = _Watchdog()


@contextmanager
def hard_deadline(seconds: float, what: str) -> Iterator[None]:
    """End the process if `what` outlives `seconds`, for the supervisor to start it again.

    librdkafka's `send_offsets_to_transaction` can block far past its own timeout when the group coordinator
    goes away (librdkafka issues 5456 and 5511; seen here when a broker was killed), and Python cannot interrupt
    a C call. The open transaction is then aborted by the broker or fenced by the restarted process.
    """
    ticket = _watchdog.watch(seconds, what)
    try:
        yield
    finally:
        _watchdog.release(ticket)


def _wedged(what: str, seconds: float) -> None:
    logger.critical("%s has blocked for %.0f s, past its own timeout; exiting to be restarted", what, seconds)
    for handler in logging.getLogger().handlers:
        handler.flush()
    os._exit(WEDGED_EXIT_STATUS)
