import pytest
from confluent_kafka import KafkaError, KafkaException

from kafka_bridge.batches import consume_available, read_again_if_the_group_moved_on
from kafka_bridge.retry import is_transient
from testing.fake_kafka import FakeConsumer


def test_errors_among_the_records_are_left_out_and_the_records_kept(caplog):
    consumer = consumer_of("commands", 0)
    consumer.append("commands", 0, value_=b"a")
    consumer.append("commands", 0, error_=KafkaError(KafkaError._TRANSPORT))  # the broker away a moment
    consumer.append("commands", 0, value_=b"b")

    records = consume_available(consumer, 10, 0.1)

    assert [r.value() for r in records] == [b"a", b"b"]
    assert "consumer error" in caplog.text


def test_a_fatal_consumer_error_is_raised():
    consumer = consumer_of("commands", 0)
    consumer.append("commands", 0, error_=KafkaError(KafkaError._FENCED, fatal=True))

    with pytest.raises(KafkaException):
        consume_available(consumer, 10, 0.1)


def test_nothing_within_the_timeout_is_an_empty_batch():
    assert consume_available(consumer_of("commands", 0), 10, 0.1) == []


def consumer_of(topic, *partitions):
    consumer = FakeConsumer()
    consumer.rebalance([(topic, partition) for partition in partitions])
    return consumer


def records_at(consumer, *places):
    """Records of `commands` at (partition, offset) places, as a batch."""
    for partition, offset in places:
        while len(consumer.log.get(("commands", partition), [])) <= offset:
            consumer.append("commands", partition)
    return [consumer.log[("commands", partition)][offset] for partition, offset in places]


def test_a_batch_whose_group_went_on_without_us_is_rewound_not_retried():
    consumer = consumer_of("commands", 1, 2)
    records = records_at(consumer, (1, 7), (2, 3), (1, 8), (3, 5))

    with read_again_if_the_group_moved_on(consumer, records):
        raise KafkaException(KafkaError(KafkaError.UNKNOWN_MEMBER_ID, txn_requires_abort=True))

    # partition 3 moved to another member: it starts from the commit
    assert consumer.seeks == [(("commands", 1), 7), (("commands", 2), 3)]
    assert not is_transient(KafkaException(KafkaError(KafkaError.ILLEGAL_GENERATION, txn_requires_abort=True)))


def test_other_failures_pass_through_and_rewind_nothing():
    consumer = consumer_of("commands", 1)

    with pytest.raises(KafkaException), read_again_if_the_group_moved_on(consumer, records_at(consumer, (1, 7))):
        raise KafkaException(KafkaError(KafkaError._TRANSPORT))

    assert consumer.seeks == []
