import time
import uuid

import pytest
from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, OFFSET_INVALID, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import NewTopic

from kafka_bridge import batches, clients
from kafka_bridge.consumers.watch import ConsumerStalled, StallWatch

NOTHING = OFFSET_INVALID  # librdkafka's position of a partition nothing was consumed from since it was assigned


class Consumer:
    """Assigned `partitions` of `commands` (7 alone by default) at `position`, whose committed records run from
    `start` to `end`; the group's committed offset is `committed`. Counts its requests to the brokers."""

    def __init__(self, position: int, end: int, committed: int = NOTHING, start: int = 0, partitions=(7,)) -> None:
        self.at = dict.fromkeys(partitions, position)
        self.end, self.committed_offset, self.start = end, committed, start
        self.partitions, self.requests = partitions, 0

    def assignment(self):
        return [TopicPartition("commands", partition) for partition in self.partitions]

    def position(self, partitions):
        return [TopicPartition(tp.topic, tp.partition, self.at[tp.partition]) for tp in partitions]

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


def watch_of(consumer: Consumer, clock: Clock) -> StallWatch:
    return StallWatch(consumer, after=30, clock=clock, prober=consumer)


def checks_at(watch: StallWatch, clock: Clock, *times: float) -> None:
    for clock.now in times:
        watch.check()


def test_a_partition_whose_records_wait_at_one_position_for_the_period_is_a_stall():
    clock = Clock()
    watch = watch_of(Consumer(position=40, end=42), clock)
    checks_at(watch, clock, 15, 44)  # waiting since the first check that saw it: not yet
    clock.now = 46
    with pytest.raises(ConsumerStalled, match=r"commands\[7\]"):
        watch.check()


def test_one_partition_stuck_while_the_consumer_reads_the_others_is_a_stall():
    """In CI one fault-test client (its commands all go to one partition) waited three minutes for an answer
    while the others were served; a watch of the whole consumer sees it busy and never looks."""
    clock = Clock()
    consumer = Consumer(position=40, end=1_000, partitions=(6, 7))
    watch = watch_of(consumer, clock)
    for clock.now in (15, 30):
        consumer.at[6] += 100  # partition 6 is read on; 7 never moves
        watch.check()
    consumer.at[6] += 100
    clock.now = 45
    with pytest.raises(ConsumerStalled, match=r"commands\[7\]") as stalled:
        watch.check()
    assert "commands[6]" not in str(stalled.value)


def test_an_idle_consumer_at_the_end_or_one_reading_on_is_not():
    clock = Clock()
    idle = Consumer(position=42, end=42)
    busy = Consumer(position=40, end=1_000)
    watches = [watch_of(idle, clock), watch_of(busy, clock)]
    for clock.now in (15, 30, 45, 60, 75, 90):
        busy.at[7] += 1
        for watch in watches:
            watch.check()


def test_a_partition_without_a_leader_just_now_is_not_a_stall():
    class LeaderAway(Consumer):
        def offsets_for_times(self, partitions, timeout):
            raise KafkaException(KafkaError(KafkaError._TIMED_OUT))

    clock = Clock()
    watch = watch_of(LeaderAway(position=40, end=42), clock)
    checks_at(watch, clock, 15, 30, 45, 60)


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
    watch = watch_of(consumer, clock)
    checks_at(watch, clock, 15)
    clock.now = 45
    with pytest.raises(ConsumerStalled, match=r"commands\[7\]"):
        watch.check()


@pytest.mark.parametrize(
    "consumer",
    [
        pytest.param(Consumer(position=NOTHING, committed=42, end=42), id="at-the-end"),
        pytest.param(Consumer(position=NOTHING, committed=5, start=100, end=100), id="records-gone-by-retention"),
    ],
)
def test_a_new_consumer_with_nothing_to_read_is_not(consumer):
    clock = Clock()
    watch = watch_of(consumer, clock)
    checks_at(watch, clock, 15, 30, 45, 60)


def test_a_check_asks_the_brokers_once_for_all_partitions_not_once_per_partition():
    """Each request waits behind the consumer's long-poll fetch (500 ms when idle): the projector's 144
    partitions asked one by one kept it from reading, and from stopping, for over a minute after a fresh start."""
    consumer = Consumer(position=NOTHING, committed=40, end=42, partitions=range(144))
    watch_of(consumer, Clock()).check()

    assert consumer.requests <= 3  # the group's offsets, the ends, the first offsets


def test_the_brokers_are_asked_on_a_client_of_the_watch_s_own_not_on_the_consumer_s_connections():
    """On the consumer's connections each question waits behind its long-poll fetch, and the loop with it."""

    class Busy(Consumer):
        def committed(self, partitions, timeout):
            raise AssertionError("asked on the consumer's connections")

        offsets_for_times = committed

    consumer, prober = Busy(position=NOTHING, end=42), Consumer(position=NOTHING, committed=40, end=42)
    watch = StallWatch(consumer, after=30, clock=(clock := Clock()), prober=prober)
    checks_at(watch, clock, 15)
    clock.now = 45
    with pytest.raises(ConsumerStalled):
        watch.check()


# -- on the real broker ----------------------------------------------------------------------------------------


@pytest.fixture
def topic(admin):
    name = f"test-stall-{uuid.uuid4().hex[:8]}"
    replication = min(3, len(admin.list_topics(timeout=10).brokers))
    admin.create_topics([NewTopic(name, 2, replication)])[name].result(15)
    yield name
    admin.delete_topics([name])


def write_three_records(topic: str) -> None:
    """Three records of one transaction at offsets 0-2, and its commit marker at 3."""
    producer = clients.transactional_producer(f"{topic}-writer")
    producer.init_transactions(30)
    producer.begin_transaction()
    for n in range(3):
        producer.produce(topic, value=str(n).encode(), partition=0)
    producer.commit_transaction(30)


def consumer_of(topic: str, group_offset: int):
    """A new member of a group whose committed offset in partition 0 is `group_offset`, once it has its partitions."""
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


def watch_for(consumer, seconds: float, write=lambda: None) -> int:
    """Consume for `seconds` as the loops do, calling `write` at each turn; return how many records came."""
    consumed = 0
    with StallWatch(consumer, after=1) as watch:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            write()
            consumed += len(batches.consume_available(consumer, 10, 0.1))
            watch.observe()
    return consumed


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


@pytest.mark.integration
def test_a_partition_that_stopped_fetching_while_the_consumer_reads_another_is_a_stall(topic):
    consumer = consumer_of(topic, group_offset=0)
    consumer.pause([TopicPartition(topic, 1)])  # partition 0 is read on, 1 never again
    producer = clients.producer()
    consumed = []

    def write_to_both() -> None:
        for partition in (0, 1):
            producer.produce(topic, value=b"x", partition=partition)
        producer.flush(10)

    try:
        with pytest.raises(ConsumerStalled, match=r"\[1\]'") as stalled:
            consumed.append(watch_for(consumer, seconds=10, write=write_to_both))
    finally:
        consumer.close()
    assert "[0]'" not in str(stalled.value)
