"""A consumer's batches: what a poll brings, where a batch starts and ends, and reading it again."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition

from kafka_bridge.retry import left_the_group

logger = logging.getLogger(__name__)


def consume_available(consumer: Consumer, max_records: int, timeout: float) -> list[Message]:
    """Wait up to `timeout` for one record, then take what else has already arrived, up to `max_records`.

    `Consumer.consume(n, timeout)` waits out the whole timeout unless n records come: at light load
    that adds the timeout to every record's latency. Errors the consumer reports among the records are
    logged and left out (librdkafka recovers from them itself); a fatal one is raised.
    """
    first = consumer.consume(1, timeout)
    if not first:
        return []
    return [record for record in first + consumer.consume(max_records - 1, 0) if _is_record(record)]


def _is_record(message: Message) -> bool:
    if (error := message.error()) is None:
        return True
    if error.fatal():
        raise KafkaException(error)
    logger.warning("consumer error: %s", error)
    return False


def next_offsets(records: Iterable[Message]) -> list[TopicPartition]:
    """The offsets to commit after `records`: one past the last record of each partition."""
    last: dict[tuple[str, int], int] = {}
    for record in records:
        key = (record.topic(), record.partition())
        last[key] = max(last.get(key, -1), record.offset())
    return [TopicPartition(topic, partition, offset + 1) for (topic, partition), offset in last.items()]


@contextmanager
def read_again_if_the_group_moved_on(consumer: Consumer, records: list[Message]) -> Iterator[None]:
    """Around an aborted transaction of `records`: if the group went on without us, rewind to the batch.

    Retrying the commit cannot help then. The next poll rejoins the group, and the batch is read again
    by whichever member owns its partitions now (us, from the rewound position, or another from the
    committed offsets).
    """
    try:
        yield
    except KafkaException as error:
        if not left_the_group(error):
            raise
        logger.warning("the group went on without us (%s); the batch of %d is read again", error, len(records))
        for partition in first_offsets(records):
            with suppress(KafkaException):  # no longer ours: its new owner starts from the committed offset
                consumer.seek(partition)


def first_offsets(records: Iterable[Message]) -> list[TopicPartition]:
    """Where `records` start: the first offset of each partition among them."""
    first: dict[tuple[str, int], int] = {}
    for record in records:
        key = (record.topic(), record.partition())
        first[key] = min(first.get(key, record.offset()), record.offset())
    return [TopicPartition(topic, partition, offset) for (topic, partition), offset in first.items()]


def where(record: Message) -> str:
    """A record's address: `topic:partition:offset` (also what the ledger keeps as a command's delivery)."""
    return f"{record.topic()}:{record.partition()}:{record.offset()}"
