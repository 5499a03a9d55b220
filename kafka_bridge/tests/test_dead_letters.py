"""Dead-letter copies that the broker refuses: a smaller copy, then a logged skip, never an exit."""

import logging

from confluent_kafka import KafkaError, KafkaException

from kafka_bridge.consumers.dead_letters import MAX_COPIED_HEADER_COUNT, DeadLetter, DeadLetters


class Record:
    def __init__(self, value=b"v", headers=None):
        self._value, self._headers = value, headers

    def topic(self):
        return "commands"

    def partition(self):
        return 3

    def offset(self):
        return 42

    def key(self):
        return b"bob"

    def value(self):
        return self._value

    def headers(self):
        return self._headers


class RefusingProducer:
    """A producer whose broker refuses every record as too large."""

    def __init__(self):
        self.tries = []

    def produce(self, topic, key, value, headers, on_delivery):
        self.tries.append(value)
        raise KafkaException(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))


def test_a_copy_refused_even_without_its_value_is_skipped_with_an_error_in_the_log(caplog):
    producer = RefusingProducer()

    with caplog.at_level(logging.ERROR):
        DeadLetters(producer, "commands_dead_letter").send([DeadLetter(Record(), "poison")], wait=False)

    assert producer.tries == [b"v", None]
    assert "no copy of commands:3:42 on commands_dead_letter" in caplog.text


def test_a_copy_keeps_a_hundred_of_the_records_own_headers_however_small():
    sent = []

    class Producer:
        def produce(self, topic, key, value, headers, on_delivery):
            sent.append(headers)

    record = Record(headers=[("", None)] * 500_000)
    DeadLetters(Producer(), "commands_dead_letter").send([DeadLetter(record, "poison")], wait=False)

    ((headers,),) = [sent]
    assert headers[:MAX_COPIED_HEADER_COUNT] == [("", None)] * MAX_COPIED_HEADER_COUNT
    assert dict(headers)["original.headers"] == b"500000" and len(headers) < MAX_COPIED_HEADER_COUNT + 10
