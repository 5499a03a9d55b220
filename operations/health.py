"""What /health/ checks (django-health-check): both databases, Redis, Kafka, the schema registry, and that
every long-running consumer has polled lately (its heartbeat)."""

from __future__ import annotations

import dataclasses
import datetime

import redis.asyncio
from django.conf import settings
from health_check.base import HealthCheck
from health_check.checks import Database
from health_check.contrib.redis import Redis
from health_check.exceptions import ServiceUnavailable

from kafka_bridge import clients
from kafka_bridge.heartbeats import STALE_AFTER, last_beats
from kafka_bridge.logging import silent_librdkafka_logger
from kafka_bridge.retry import Unavailable
from kafka_bridge.wire.codecs import registry_answers, registry_client
from kernel.databases import LEDGER


@dataclasses.dataclass
class Kafka(HealthCheck):
    """The cluster answers a metadata request within the deadline, with at least one broker."""

    timeout = datetime.timedelta(seconds=5)

    def run(self) -> None:
        try:
            metadata = clients.admin(logger=silent_librdkafka_logger()).list_topics(timeout=5)
        except Exception as error:  # noqa: BLE001 - any failure to answer is the cluster being away
            raise ServiceUnavailable(f"no metadata from {settings.KAFKA_BOOTSTRAP_SERVERS}") from error
        if not metadata.brokers:
            raise ServiceUnavailable("the cluster has no broker")


@dataclasses.dataclass
class SchemaRegistry(HealthCheck):
    timeout = datetime.timedelta(seconds=5)

    def run(self) -> None:
        try:
            with registry_answers():
                registry_client().get_subjects()
        except Unavailable as error:
            raise ServiceUnavailable("the schema registry does not answer") from error


@dataclasses.dataclass
class Consumers(HealthCheck):
    """Every process of a consumer group beat within the last seconds, and at least one is there."""

    group: str

    def run(self) -> None:
        beats = last_beats(self.group)
        if not beats:
            raise ServiceUnavailable(f"no process of {self.group} is running")
        silent = {name: age for name, age in beats.items() if age > STALE_AFTER}
        if silent:
            raise ServiceUnavailable(
                ", ".join(f"{name} silent for {age:.0f} s" for name, age in sorted(silent.items()))
            )


def checks() -> list:
    return [
        (Database, {"alias": "default"}),
        (Database, {"alias": LEDGER}),
        (Redis, {"client_factory": lambda: redis.asyncio.Redis.from_url(settings.REDIS_URL, socket_timeout=3)}),
        Kafka,
        SchemaRegistry,
        *((Consumers, {"group": group}) for group in settings.MONITORED_CONSUMER_GROUPS),
    ]
