import time
import uuid

import pytest
from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, OFFSET_INVALID, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import NewTopic

from kafka_bridge import clients
from kafka_bridge.clients import ConsumerStalled, StallWatch

NOTHING = OFFSET_INVALID  # librdkafka's position of a partition nothing was consumed from since it was assigned


class Consumer:
    """Assigned `partitions` of `commands` (7 alone by default) at `position`, whose committed records run from
    `start` to `end`; the group's committed offset is `committed`. Counts its requests to the brokers."""

    def __init__(self, position: int, end: int, committed: int = NOTHING, start: int = 0, partitions=(7,)) -> None:
        self.at, self.end, self.committed_offset, self.start = position, end, committed, start
        self.partitions, self.requests = partitions, 0

    def assignment(self):
        return [TopicPartition("commands", partition) for partition in self.partitions]

    def position(self, partitions):
        return [TopicPartition(tp.topic, tp.partition, self.at) for tp in partitions]

    def committed(self, partitions, timeout):
        self.requests += 1
        return [TopicPartition(tp.topic, tp.partition, self.committed_offset) for tp in partitions]

    def offsets_for_times(self, partitions, timeout):
        self.requests += 1
        offset = {OFFSET_BEGINNING: self.start, OFFSET_END: self.end}
        return [TopicPartition(tp.topic, tp.partition, offset[tp.offset]) for tp in partitions]


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
        def offsets_for_times(self, partitions, timeout):
            raise KafkaException(KafkaError(KafkaError._TIMED_OUT))

    clock = Clock()
    watch = StallWatch(LeaderAway(position=40, end=42), after=30, clock=clock)
    clock.now = 31
    watch.observe(0)


@pytest.mark.parametrize(
    "consumer",
    [
        pytest.param(Consumer(position=NOTHING, committed=40, end=42), id="records-after-the-group-offset"),
        pytest.param(Consumer(position=NOTHING, start=3, end=5), id="no-group-offset-and-records"),
    ],
)
def test_a_consumer_that_never_consumed_since_its_assignment_is_a_stall_when_records_wait(consumer):
    """A restarted handler got its partitions and read nothing for four minutes; its position said nothing."""
    clock = Clock()
    watch = StallWatch(consumer, after=30, clock=clock)
    clock.now = 31
    with pytest.raises(ConsumerStalled, match=r"commands\[7\]"):
        watch.observe(0)


@pytest.mark.parametrize(
    "consumer",
    [
        pytest.param(Consumer(position=NOTHING, committed=42, end=42), id="at-the-end"),
        pytest.param(Consumer(position=NOTHING, committed=5, start=100, end=100), id="records-gone-by-retention"),
    ],
)
def test_a_new_consumer_with_nothing_to_read_is_not(consumer):
    clock = Clock()
    watch = StallWatch(consumer, after=30, clock=clock)
    clock.now = 31
    watch.observe(0)


def test_a_check_asks_the_brokers_once_for_all_partitions_not_once_per_partition():
    """Each request waits behind the consumer's long-poll fetch (500 ms when idle): the projector's 144
    partitions asked one by one kept it from reading, and from stopping, for over a minute after a fresh start."""
    clock = Clock()
    consumer = Consumer(position=NOTHING, committed=42, end=42, partitions=range(144))
    watch = StallWatch(consumer, after=30, clock=clock)
    clock.now = 31

    watch.observe(0)

    assert consumer.requests <= 3  # the group's offsets, the first offsets, the ends


# -- on the real broker ----------------------------------------------------------------------------------------


@pytest.fixture
def topic(admin):
    name = f"test-stall-{uuid.uuid4().hex[:8]}"
    replication = min(3, len(admin.list_topics(timeout=10).brokers))
    admin.create_topics([NewTopic(name, 1, replication)])[name].result(15)
    yield name
    admin.delete_topics([name])


def write_three_records(topic: str) -> None:
    """Three records of one transaction at offsets 0-2, and its commit marker at 3."""
    producer = clients.transactional_producer(f"{topic}-writer")
    producer.init_transactions(30)
    producer.begin_transaction()
    for n in range(3):
        producer.produce(topic, value=str(n).encode())
    producer.commit_transaction(30)


def consumer_of(topic: str, group_offset: int):
    """A new member of a group whose committed offset is `group_offset`, once it has its partition."""
    group = f"{topic}-group"
    setter = clients.consumer(group)
    setter.commit(offsets=[TopicPartition(topic, 0, group_offset)], asynchronous=False)
    setter.close()
    consumer = clients.consumer(group)
    consumer.subscribe([topic])
    deadline = time.monotonic() + 30
    while not consumer.assignment():
        assert time.monotonic() < deadline, "no assignment"
        assert consumer.poll(0.1) is None, "a record was read before the test began"
    return consumer


def watch_for(consumer, seconds: float) -> None:
    watch = StallWatch(consumer, after=1)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        watch.observe(len(clients.consume_available(consumer, 10, 0.1)))


@pytest.mark.integration
def test_a_new_consumer_whose_fetching_stopped_before_its_first_record_is_a_stall(topic):
    consumer = consumer_of(topic, group_offset=0)
    consumer.pause(consumer.assignment())  # fetches nothing from here on, as the wedged consumers did
    write_three_records(topic)
    try:
        with pytest.raises(ConsumerStalled, match=r"\[0\]': \(0, 4\)"):
            watch_for(consumer, seconds=5)
    finally:
        consumer.close()


@pytest.mark.integration
def test_a_new_consumer_whose_group_offset_is_at_a_transaction_marker_is_not(topic):
    """The handler commits the offset after its last record, which may be a commit marker; nothing waits there."""
    write_three_records(topic)
    consumer = consumer_of(topic, group_offset=3)
    try:
        watch_for(consumer, seconds=5)
    finally:
        consumer.close()
