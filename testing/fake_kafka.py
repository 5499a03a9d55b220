"""An in-memory consumer for unit tests of the loops: one group's view of some partitions, without a broker.

It keeps what the tests look at: each partition's records and position, the offsets committed (in the order
they land), seeks, and the rebalance callbacks. As librdkafka does, an asynchronous commit lands at the next
poll, and one without offsets takes the positions found then; a transaction marker is an offset no record
is read at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from confluent_kafka import KafkaError, KafkaException, TopicPartition

Partition = tuple[str, int]


@dataclass
class FakeRecord:
    topic_: str
    partition_: int
    offset_: int
    value_: bytes | None = b"x"
    key_: bytes | None = None
    headers_: list | None = None
    error_: KafkaError | None = None
    timestamp_: int = 0

    def topic(self) -> str:
        return self.topic_

    def partition(self) -> int:
        return self.partition_

    def offset(self) -> int:
        return self.offset_

    def value(self) -> bytes | None:
        return self.value_

    def key(self) -> bytes | None:
        return self.key_

    def headers(self) -> list | None:
        return self.headers_

    def error(self) -> KafkaError | None:
        return self.error_

    def timestamp(self) -> tuple[int, int]:
        return (1, self.timestamp_)


@dataclass
class FakeConsumer:
    group_id: str = "fake-group"
    log: dict[Partition, list[FakeRecord | None]] = field(default_factory=dict)  # None: a transaction marker
    positions: dict[Partition, int] = field(default_factory=dict)
    committed_offsets: dict[Partition, int] = field(default_factory=dict)
    commits: list[list[tuple[Partition, int]]] = field(default_factory=list)  # as they landed
    seeks: list[tuple[Partition, int]] = field(default_factory=list)
    subscribed: list[str] = field(default_factory=list)
    on_assign: Callable | None = None
    on_revoke: Callable | None = None
    assigned: list[Partition] = field(default_factory=list)
    _unsent: list[list[TopicPartition] | None] = field(default_factory=list)
    closed: bool = False

    def append(self, topic: str, partition: int, count: int = 1, **fields) -> list[FakeRecord]:
        """Records at the end of a partition."""
        entries = self.log.setdefault((topic, partition), [])
        records = [FakeRecord(topic, partition, len(entries) + n, **fields) for n in range(count)]
        entries.extend(records)
        return records

    def marker(self, topic: str, partition: int) -> None:
        """A transaction's commit marker: an offset no record is read at."""
        self.log.setdefault((topic, partition), []).append(None)

    # -- the parts of confluent_kafka.Consumer the loops use --

    def subscribe(self, topics: Iterable[str], on_assign: Callable | None = None, on_revoke: Callable | None = None):
        self.subscribed, self.on_assign, self.on_revoke = list(topics), on_assign, on_revoke

    def consume(self, num_messages: int = 1, timeout: float = 0) -> list[FakeRecord]:
        self._land_commits()
        if self.subscribed and not self.assigned:
            self.rebalance([p for p in self.log if p[0] in self.subscribed])
        batch: list[FakeRecord] = []
        for partition in self.assigned:
            entries = self.log.get(partition, [])
            while len(batch) < num_messages and self.positions.get(partition, 0) < len(entries):
                entry = entries[self.positions.get(partition, 0)]
                self.positions[partition] = self.positions.get(partition, 0) + 1
                if entry is not None:
                    batch.append(entry)
        return batch

    def rebalance(self, partitions: list[Partition]) -> None:
        """The group hands this consumer `partitions` (revoking what it had)."""
        if self.assigned and self.on_revoke:
            self.on_revoke(self, [TopicPartition(t, p) for t, p in self.assigned])
        self.assigned = list(partitions)
        for partition in partitions:
            self.positions[partition] = self.committed_offsets.get(partition, 0)
        if self.on_assign:
            assignment = [TopicPartition(t, p, self.positions[(t, p)]) for t, p in partitions]
            self.on_assign(self, assignment)

    def assign(self, partitions: list[TopicPartition]) -> None:
        self.assigned = [(tp.topic, tp.partition) for tp in partitions]
        for tp in partitions:
            if tp.offset >= 0:
                self.positions[(tp.topic, tp.partition)] = tp.offset

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition(t, p) for t, p in self.assigned]

    def position(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        return [
            TopicPartition(tp.topic, tp.partition, self.positions.get((tp.topic, tp.partition), -1001))
            for tp in partitions
        ]

    def committed(self, partitions: list[TopicPartition], timeout: float = 0) -> list[TopicPartition]:
        return [
            TopicPartition(tp.topic, tp.partition, self.committed_offsets.get((tp.topic, tp.partition), -1001))
            for tp in partitions
        ]

    def commit(self, offsets: list[TopicPartition] | None = None, asynchronous: bool = True) -> None:
        self._unsent.append(offsets)
        if not asynchronous:
            self._land_commits()

    def seek(self, partition: TopicPartition) -> None:
        if (partition.topic, partition.partition) not in self.assigned:
            raise KafkaException(KafkaError(KafkaError._STATE, "not assigned"))
        self.positions[(partition.topic, partition.partition)] = partition.offset
        self.seeks.append(((partition.topic, partition.partition), partition.offset))

    def consumer_group_metadata(self) -> str:
        return self.group_id

    def close(self) -> None:
        self._land_commits()
        self.closed = True

    def _land_commits(self) -> None:
        for offsets in self._unsent:
            landed = (
                [((tp.topic, tp.partition), tp.offset) for tp in offsets]
                if offsets is not None
                else [(partition, self.positions.get(partition, 0)) for partition in self.assigned]
            )
            self.commits.append(landed)
            self.committed_offsets.update(landed)
        self._unsent = []


@dataclass
class FakeProducer:
    """A transactional producer for the loops' unit tests: it remembers what it was asked, in order, and a
    committed transaction's offsets land on `consumer` as the group coordinator would put them."""

    consumer: FakeConsumer
    calls: list[tuple] = field(default_factory=list)
    fail_commit: BaseException | None = None
    _offsets: list[TopicPartition] = field(default_factory=list)

    def init_transactions(self, timeout: float) -> None:
        self.calls.append(("init",))

    def begin_transaction(self) -> None:
        self.calls.append(("begin",))
        self._offsets = []

    def produce(self, topic: str, key: bytes | None = None, value: bytes | None = None, **options) -> None:
        self.calls.append(("produce", topic, key))

    def send_offsets_to_transaction(self, offsets: list[TopicPartition], metadata: object, timeout: float) -> None:
        self.calls.append(("offsets", [((tp.topic, tp.partition), tp.offset) for tp in offsets]))
        self._offsets = offsets

    def commit_transaction(self, timeout: float) -> None:
        if self.fail_commit is not None:
            raise self.fail_commit
        self.calls.append(("commit",))
        if self._offsets:
            self.consumer.commit(self._offsets, asynchronous=False)

    def abort_transaction(self, timeout: float) -> None:
        self.calls.append(("abort",))

    def poll(self, timeout: float = 0) -> int:
        return 0

    def flush(self, timeout: float = 0) -> int:
        return 0
