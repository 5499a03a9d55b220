"""The floors: what Kafka alone costs for two hops like command and feedback, on the same broker(s).

`measure_ping_pong`: a requester produces a ping; a responder consumes it and produces a pong; the
requester consumes the pong. Same client settings as the application (acks=all, idempotence,
read-committed consumers, TLS when the stack has it), no database, no registry, no web.

`measure_relay`: the same, but the responder works exactly once, as the command handler does: a
read-committed consumer in a group, a transactional producer, the consumed offsets in the transaction.
Whatever our round trip costs above these two is ours.

Like for like: the topics have as many partitions as ours (the consumers fetch them all), and the relay's
transaction writes to as many partitions as the handler's does for a transfer (its feedback, the two balance
changes, its positions).
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from collections.abc import Callable

from confluent_kafka import TopicPartition
from confluent_kafka.admin import NewTopic

from kafka_bridge import batches, clients
from kafka_bridge.logging import silent_librdkafka_logger

PREFIX = "pingpong"  # the load test's principal may use topics, groups and transactions of this prefix
PARTITIONS = 24  # as many as the bank's topics (kafka_bridge/wire/topology.toml)
MARKED_BY_A_TRANSFER = 4  # partitions the handler's transaction writes for a transfer: feedback, 2 changes, positions


def measure_ping_pong(round_trips: int = 200) -> dict[str, float]:
    """Round-trip times in ms of `round_trips` sequential pings through a plain responder."""
    return _measure(round_trips, _respond)


def measure_relay(round_trips: int = 200) -> dict[str, float]:
    """Round-trip times in ms of `round_trips` sequential pings through an exactly-once relay."""
    return _measure(round_trips, _relay)


def _measure(round_trips: int, responder: Callable) -> dict[str, float]:
    admin = clients.admin(logger=silent_librdkafka_logger())
    suffix = uuid.uuid4().hex[:8]
    ping, pong = f"{PREFIX}-ping-{suffix}", f"{PREFIX}-pong-{suffix}"
    replication = min(3, len(admin.list_topics(timeout=10).brokers))
    topics = [NewTopic(topic, PARTITIONS, replication) for topic in (ping, pong)]
    for future in admin.create_topics(topics).values():
        future.result(15)
    stop = threading.Event()
    thread = threading.Thread(target=responder, args=(ping, pong, stop, suffix), daemon=True)
    thread.start()
    producer = clients.producer()
    reader = clients.consumer(f"{PREFIX}-{suffix}")
    reader.assign(_every_partition(pong))
    times = []
    try:
        for n in range(round_trips + 10):  # the first ten warm the connections up and are not counted
            started = time.perf_counter()
            producer.produce(ping, value=str(n).encode(), partition=n % PARTITIONS)
            producer.flush(10)
            while True:
                record = reader.poll(10)
                if record is None:
                    raise TimeoutError("no pong within 10 s")
                if not record.error() and record.value() == str(n).encode():
                    break
            if n >= 10:
                times.append((time.perf_counter() - started) * 1000)
    finally:
        stop.set()
        thread.join(10)
        reader.close()
        admin.delete_topics([ping, pong])
    ordered = sorted(times)
    return {
        "round_trips": len(times),
        "p50_ms": round(statistics.median(ordered), 2),
        "p90_ms": round(ordered[int(0.9 * len(ordered))], 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
    }


def _respond(ping: str, pong: str, stop: threading.Event, suffix: str) -> None:
    consumer = clients.consumer(f"{PREFIX}-responder-{suffix}")
    consumer.assign(_every_partition(ping))
    producer = clients.producer()
    try:
        while not stop.is_set():
            for record in batches.consume_available(consumer, 100, 0.1):
                producer.produce(pong, value=record.value(), partition=record.partition())
            producer.flush(10)
    finally:
        consumer.close()


def _relay(ping: str, pong: str, stop: threading.Event, suffix: str) -> None:
    consumer = clients.consumer(f"{PREFIX}-relay-{suffix}")
    consumer.subscribe([ping])
    producer = clients.transactional_producer(f"{PREFIX}-relay-{suffix}")
    producer.init_transactions(30)
    try:
        while not stop.is_set():
            records = batches.consume_available(consumer, 100, 0.1)
            if not records:
                continue
            producer.begin_transaction()
            for record in records:
                for mark in range(MARKED_BY_A_TRANSFER):  # the answer, then records to as many partitions as ours
                    value = record.value() if mark == 0 else b"mark"
                    producer.produce(pong, value=value, partition=(record.partition() + mark) % PARTITIONS)
            producer.send_offsets_to_transaction(batches.next_offsets(records), consumer.consumer_group_metadata(), 30)
            producer.commit_transaction(30)
    finally:
        consumer.close()


def _every_partition(topic: str) -> list[TopicPartition]:
    return [TopicPartition(topic, partition, 0) for partition in range(PARTITIONS)]
