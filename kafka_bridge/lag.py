"""Consumer lag, from the committed offsets of each group against the end of each partition.

Computed from what the broker knows, so it is right even when every consumer of a group is down. The end
is the last stable offset (read committed), where the group's consumers can read up to.
"""

from __future__ import annotations

from collections import defaultdict

from confluent_kafka import ConsumerGroupTopicPartitions, IsolationLevel, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

TIMEOUT = 5.0


def consumer_lag(admin: AdminClient, groups: list[str]) -> dict[tuple[str, str], int]:
    """(group, topic) -> records committed to the topic that the group has not committed yet."""
    requests = [  # one group per request: the admin API takes no more
        admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)], request_timeout=TIMEOUT)[group]
        for group in groups
    ]
    committed = {
        (group, tp.topic, tp.partition): tp.offset
        for group, future in zip(groups, requests, strict=True)
        for tp in future.result(TIMEOUT).topic_partitions
    }
    if not committed:
        return {}
    partitions = {(topic, partition) for _, topic, partition in committed}

    ends = admin.list_offsets(
        {TopicPartition(topic, partition): OffsetSpec.latest() for topic, partition in partitions},
        isolation_level=IsolationLevel.READ_COMMITTED,
        request_timeout=TIMEOUT,
    )
    end = {(tp.topic, tp.partition): future.result(TIMEOUT).offset for tp, future in ends.items()}
    lag: dict[tuple[str, str], int] = defaultdict(int)
    for (group, topic, partition), offset in committed.items():
        lag[(group, topic)] += max(end[(topic, partition)] - max(offset, 0), 0)
    return dict(lag)
