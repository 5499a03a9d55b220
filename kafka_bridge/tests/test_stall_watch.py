import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from kafka_bridge.clients import ConsumerStalled, StallWatch


class Consumer:
    """Assigned one partition at `position`, whose committed records end at `end`."""

    def __init__(self, position: int, end: int) -> None:
        self.at, self.end = position, end

    def assignment(self):
        return [TopicPartition("commands", 7)]

    def position(self, partitions):
        return [TopicPartition(tp.topic, tp.partition, self.at) for tp in partitions]

    def get_watermark_offsets(self, partition, timeout, cached):
        assert not cached  # a stalled fetcher's cached watermarks are stale too
        return 0, self.end


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_partition_with_waiting_records_and_nothing_consumed_is_a_stall():
    clock = Clock()
    watch = StallWatch(Consumer(position=40, end=42), after=30, clock=clock)
    clock.now = 29
    watch.observe(0)  # not yet
    clock.now = 31
    with pytest.raises(ConsumerStalled, match=r"commands\[7\]"):
        watch.observe(0)


def test_an_idle_consumer_at_the_end_or_one_making_progress_is_not():
    clock = Clock()
    idle = StallWatch(Consumer(position=42, end=42), after=30, clock=clock)
    busy = StallWatch(Consumer(position=40, end=42), after=30, clock=clock)
    for clock.now in (20, 40, 60, 80):
        idle.observe(0)
        busy.observe(1)


def test_a_partition_without_a_leader_just_now_is_not_a_stall():
    class LeaderAway(Consumer):
        def get_watermark_offsets(self, partition, timeout, cached):
            raise KafkaException(KafkaError(KafkaError._TIMED_OUT))

    clock = Clock()
    watch = StallWatch(LeaderAway(position=40, end=42), after=30, clock=clock)
    clock.now = 31
    watch.observe(0)
