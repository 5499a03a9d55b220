"""The projector commits the offsets of what it projected, never the consumer's positions."""

import threading

import pytest
from confluent_kafka import TopicPartition

from kafka_bridge.consumers.loop import ConsumerLoop
from kafka_bridge.consumers.projector import Projector


class Record:
    def __init__(self, offset: int) -> None:
        self._offset = offset

    def topic(self) -> str:
        return "balance_changed"

    def partition(self) -> int:
        return 0

    def offset(self) -> int:
        return self._offset

    def error(self) -> None:
        return None


class Consumer:
    """Gives one record per poll. As librdkafka does, a commit without offsets takes the positions its own
    thread finds when it sends it: here, those after the next poll."""

    group_id = "projector-offsets-test"

    def __init__(self, records: list[Record]) -> None:
        self.records, self.position, self.committed, self.unsent = records, 0, None, []

    def subscribe(self, topics, on_assign=None, on_revoke=None) -> None:
        pass

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition("balance_changed", 0)]

    def consume(self, num_messages: int, timeout: float) -> list[Record]:
        batch = [self.records.pop(0)] if self.records and num_messages == 1 else []
        self.position += len(batch)
        for offsets in self.unsent:
            self.committed = offsets[0].offset if offsets else self.position
        self.unsent = []
        return batch

    def commit(self, offsets=None, asynchronous=True) -> None:
        self.unsent.append(offsets)
        if not asynchronous:
            self.consume(0, 0)

    def close(self) -> None:
        pass


class Producer:
    def flush(self, timeout: float) -> int:
        return 0


class Killed(BaseException):
    """The process dies in the middle of a batch."""


def test_a_projector_that_dies_in_a_batch_has_committed_only_the_batches_before_it(monkeypatch):
    """In the fault tests a projector killed mid-batch had committed that batch: two events never reached the
    read model, and their transfers' answers waited for them for ever."""
    projected = []

    def handle(self, records) -> None:
        if records[0].offset() == 1:
            raise Killed
        projected.extend(records)

    monkeypatch.setattr(Projector, "handle", handle)
    consumer = Consumer([Record(0), Record(1)])
    with pytest.raises(Killed):
        work = Projector(consumer, codec=None, dead_letters=Producer(), notify=False)
        ConsumerLoop(consumer, work, topics=["balance_changed"]).run(threading.Event())

    assert [r.offset() for r in projected] == [0]
    assert consumer.committed == 1  # the offset after record 0: record 1 is read again by whoever comes next
