"""The floor: a bare Kafka ping-pong on the same broker, two hops like command and feedback.

A requester produces a ping; a responder consumes it and produces a pong; the requester consumes the
pong. Same client settings as the application (acks=all, idempotence, read-committed consumers), no
database, no registry, no web: whatever our round trip costs above this is ours.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid

from confluent_kafka import TopicPartition
from confluent_kafka.admin import NewTopic

from kafka_bridge import clients
from kafka_bridge.logging import silent_librdkafka_logger


def measure_ping_pong(round_trips: int = 200) -> dict[str, float]:
    """Round-trip times in ms of `round_trips` sequential pings; p50, p90, p99 and mean."""
    admin = clients.admin(logger=silent_librdkafka_logger())
    suffix = uuid.uuid4().hex[:8]
    ping, pong = f"loadtest-ping-{suffix}", f"loadtest-pong-{suffix}"
    for future in admin.create_topics([NewTopic(ping, 1, 1), NewTopic(pong, 1, 1)]).values():
        future.result(15)
    stop = threading.Event()
    responder = threading.Thread(target=_respond, args=(ping, pong, stop), daemon=True)
    responder.start()
    producer = clients.producer()
    reader = clients.consumer(f"pingpong-{suffix}")
    reader.assign([TopicPartition(pong, 0, 0)])
    times = []
    try:
        for n in range(round_trips + 10):  # the first ten warm the connections up and are not counted
            started = time.perf_counter()
            producer.produce(ping, value=str(n).encode())
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
        responder.join(10)
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


def _respond(ping: str, pong: str, stop: threading.Event) -> None:
    consumer = clients.consumer(f"pingpong-responder-{uuid.uuid4().hex[:8]}")
    consumer.assign([TopicPartition(ping, 0, 0)])
    producer = clients.producer()
    try:
        while not stop.is_set():
            for record in clients.consume_available(consumer, 100, 0.1):
                if not record.error():
                    producer.produce(pong, value=record.value())
            producer.flush(10)
    finally:
        consumer.close()
