"""Where a loop has read each partition, kept in Kafka: a record per partition in each of its transactions, on a
compacted topic of its own, so that the positions are committed exactly when the batch's output is, and outlive
the group's offsets (an operator deletes the group, or Kafka forgets an idle one's after a week)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable

from confluent_kafka import OFFSET_BEGINNING, Producer, TopicPartition

from kafka_bridge import batches, clients

logger = logging.getLogger(__name__)

Positions = dict[tuple[str, int], int]  # (topic, partition) -> the offset to read next


def keep(producer: Producer, topic: str, group: str, offsets: Iterable[TopicPartition]) -> None:
    """Produce `group`'s next offsets onto `topic`, in the producer's open transaction."""
    for tp in offsets:
        producer.produce(topic, key=f"{group}/{tp.topic}/{tp.partition}".encode(), value=str(tp.offset).encode())


def read(topic: str, group: str, timeout: float) -> Positions:
    """`group`'s positions as its committed transactions kept them: the compacted topic read to its end. A
    record that is not a position is skipped with a warning (anyone who may write the topic could send one)."""
    reader = clients.consumer(f"{group}-positions-{uuid.uuid4().hex[:8]}")
    try:
        partitions = [
            TopicPartition(topic, p, OFFSET_BEGINNING)
            for p in reader.list_topics(topic, timeout=10).topics[topic].partitions
        ]
        ends = {tp.partition: reader.get_watermark_offsets(tp, timeout=10)[1] for tp in partitions}
        reader.assign(partitions)
        found: Positions = {}
        prefix = f"{group}/"
        deadline = time.monotonic() + timeout
        while any(max(tp.offset, 0) < ends[tp.partition] for tp in reader.position(partitions)):
            if time.monotonic() > deadline:  # a transaction open on it: what is committed will do
                break
            for record in batches.consume_available(reader, 500, 0.5):
                key = (record.key() or b"").decode(errors="replace")
                if not key.startswith(prefix) or record.value() is None:
                    continue
                try:
                    source, partition = key[len(prefix) :].rsplit("/", 1)
                    found[(source, int(partition))] = int(record.value())
                except ValueError:
                    logger.warning("skipping %s:%d: not a position (%r)", topic, record.offset(), record.value()[:64])
        return found
    finally:
        reader.close()
