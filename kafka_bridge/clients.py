"""Kafka producers and consumers, configured the same way everywhere."""

from __future__ import annotations

import logging
from typing import Any

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient
from django.conf import settings

logger = logging.getLogger(__name__)
LIBRDKAFKA_LOGGER = logging.getLogger("librdkafka")  # librdkafka's own log lines, through Python logging


def security() -> dict[str, str]:
    """How this process proves who it is to Kafka: nothing on a plaintext broker, its certificate over TLS."""
    if settings.KAFKA_SECURITY_PROTOCOL == "PLAINTEXT":
        return {}
    return {
        "security.protocol": settings.KAFKA_SECURITY_PROTOCOL,
        "ssl.ca.location": settings.KAFKA_SSL_CA_LOCATION,
        "ssl.certificate.location": settings.KAFKA_SSL_CERTIFICATE_LOCATION,
        "ssl.key.location": settings.KAFKA_SSL_KEY_LOCATION,
    }


def _common(**overrides: Any) -> dict[str, Any]:
    common = {
        "bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS,
        "logger": LIBRDKAFKA_LOGGER,
        # Nagle's algorithm holds a small request back until the last one is acknowledged: every request here
        # is small, and a request behind a delayed ACK waits for it.
        "socket.nagle.disable": True,
    }
    return {**common, **security(), **overrides}


def admin(**overrides: Any) -> AdminClient:
    """An admin client, for the topology sync and tools."""
    return AdminClient(_common(**overrides))


def producer(**overrides: Any) -> Producer:
    """An idempotent producer that waits for every in-sync replica (acks=all, as the original)."""
    return Producer(
        _common(**{"acks": "all", "enable.idempotence": True, "linger.ms": settings.KAFKA_LINGER_MS, **overrides})
    )


def transactional_producer(transactional_id: str, **overrides: Any) -> Producer:
    """A producer for exactly-once work; a restart with the same id fences and aborts the old transaction.

    A transaction begun right after the last one commits often hears CONCURRENT_TRANSACTIONS from the group
    coordinator while the last one's markers are written; librdkafka retries after `retry.backoff.ms`, 100 ms
    by default, which was the 100-150 ms tail of every light load. The markers take a few milliseconds.
    """
    retries = {"retry.backoff.ms": 5, "retry.backoff.max.ms": 100}
    return producer(**{"transactional.id": transactional_id, "transaction.timeout.ms": 30_000, **retries, **overrides})


class GroupConsumer(Consumer):
    """A consumer that knows its group, so a `StallWatch` can ask the group's offsets on a client of its own."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.group_id = config["group.id"]


def consumer(group_id: str, **overrides: Any) -> GroupConsumer:
    """A consumer that sees committed records only and leaves committing offsets to its owner."""
    return GroupConsumer(
        _common(
            **{
                "group.id": group_id,
                "isolation.level": "read_committed",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                **overrides,
            }
        )
    )
