import pytest
from confluent_kafka import KafkaError, KafkaException

from kafka_bridge.clients import consume_available


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
