"""Retry what failed for a passing reason: a broker or registry that is busy, restarting, or not up yet."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.schema_registry import SchemaRegistryError

T = TypeVar("T")

# Seen while a broker starts or moves leadership; librdkafka does not always flag them retriable.
TRANSIENT_KAFKA_ERRORS = {
    KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.NOT_COORDINATOR,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.REQUEST_TIMED_OUT,
    KafkaError._TIMED_OUT,
    KafkaError._TRANSPORT,
    KafkaError._ALL_BROKERS_DOWN,
}


def is_transient(error: Exception) -> bool:
    """Errors worth retrying: the broker or registry is busy, restarting, or not reachable yet."""
    if isinstance(error, KafkaException):
        kafka_error = error.args[0] if error.args else None
        if kafka_error is None:
            return False
        return kafka_error.retriable() or kafka_error.code() in TRANSIENT_KAFKA_ERRORS
    if isinstance(error, SchemaRegistryError):
        return error.http_status_code >= 500 or error.http_status_code == -1
    return isinstance(error, (OSError, TimeoutError)) or "connect" in type(error).__name__.lower()


def with_retries(operation: Callable[[], T], attempts: int = 6, first_delay: float = 0.5) -> T:
    """Run `operation`, retrying transient errors with exponential backoff."""
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return operation()
        except Exception as error:
            if attempt == attempts or not is_transient(error):
                raise
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")
