import pytest
from confluent_kafka import KafkaError, KafkaException

from kafka_bridge.batches import consume_available, read_again_if_the_group_moved_on
from kafka_bridge.retry import is_transient


class Record:
    def __init__(self, value: bytes | None = None, error: KafkaError | None = None) -> None:
        self._value, self._error = value, error

    def value(self):
        return self._value

    def error(self):
        return self._error


class Consumer:
    def __init__(self, *batches) -> None:
        self.batches = list(batches)

    def consume(self, n, timeout):
        return self.batches.pop(0)[:n] if self.batches else []


def test_errors_among_the_records_are_left_out_and_the_records_kept(caplog):
    broker_down = Record(error=KafkaError(KafkaError._TRANSPORT))
    consumer = Consumer([Record(b"a")], [broker_down, Record(b"b")])

    records = consume_available(consumer, 10, 0.1)

    assert [r.value() for r in records] == [b"a", b"b"]
    assert "consumer error" in caplog.text


def test_a_fatal_consumer_error_is_raised():
    fenced = Record(error=KafkaError(KafkaError._FENCED, fatal=True))

    with pytest.raises(KafkaException):
        consume_available(Consumer([fenced]), 10, 0.1)


def test_nothing_within_the_timeout_is_an_empty_batch():
    assert consume_available(Consumer(), 10, 0.1) == []


class Positioned(Record):
    def __init__(self, partition: int, offset: int) -> None:
        super().__init__(b"x")
        self._partition, self._offset = partition, offset

    def topic(self):
        return "commands"

    def partition(self):
        return self._partition

    def offset(self):
        return self._offset


class Seeking:
    def __init__(self, assigned) -> None:
        self.assigned, self.seeks = assigned, []

    def seek(self, partition):
        if partition.partition not in self.assigned:
            raise KafkaException(KafkaError(KafkaError._STATE))
        self.seeks.append((partition.partition, partition.offset))


def test_a_batch_whose_group_went_on_without_us_is_rewound_not_retried():
    records = [Positioned(1, 7), Positioned(2, 3), Positioned(1, 8), Positioned(3, 5)]
    consumer = Seeking(assigned={1, 2})

    with read_again_if_the_group_moved_on(consumer, records):
        raise KafkaException(KafkaError(KafkaError.UNKNOWN_MEMBER_ID, txn_requires_abort=True))

    assert consumer.seeks == [(1, 7), (2, 3)]  # partition 3 moved to another member: it starts from the commit
    assert not is_transient(KafkaException(KafkaError(KafkaError.ILLEGAL_GENERATION, txn_requires_abort=True)))


def test_other_failures_pass_through_and_rewind_nothing():
    consumer = Seeking(assigned={1})

    with pytest.raises(KafkaException), read_again_if_the_group_moved_on(consumer, [Positioned(1, 7)]):
        raise KafkaException(KafkaError(KafkaError._TRANSPORT))

    assert consumer.seeks == []
