"""Where topics end, and consumer groups that start there: for tests, benchmarks and load tests."""

from __future__ import annotations

import uuid

from confluent_kafka import Consumer, TopicPartition

from kafka_bridge import clients
from kafka_bridge.retry import with_retries


def end_offsets(topic: str) -> list[TopicPartition]:
    """The offset after the last record of every partition of `topic`."""
    return with_retries(lambda: _end_offsets(topic))


def _end_offsets(topic: str) -> list[TopicPartition]:
    consumer = clients.consumer(f"offsets-{uuid.uuid4()}")
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return [
            TopicPartition(topic, p, consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1])
            for p in partitions
        ]
    finally:
        consumer.close()


def new_group_at_end(topic: str, prefix: str) -> str:
    """A new consumer group whose committed offsets are the topic's current ends: it sees only what comes next."""
    group = f"{prefix}-{uuid.uuid4().hex[:8]}"
    consumer: Consumer = clients.consumer(group)
    try:
        with_retries(lambda: consumer.commit(offsets=end_offsets(topic), asynchronous=False))
    finally:
        consumer.close()
    return group


def reader_from(start: list[TopicPartition]) -> Consumer:
    """A read-committed consumer assigned to `start`, outside any group's bookkeeping."""
    consumer = clients.consumer(f"reader-{uuid.uuid4()}")
    consumer.assign(start)
    return consumer
