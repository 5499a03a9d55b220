"""/metrics: every process's Prometheus samples, plus what is measured at scrape time (consumer lag, how long
since each consumer beat). Processes write to `PROMETHEUS_MULTIPROC_DIR` when it is set (devstack sets it
for the whole stack), so one scrape of any web process sees them all; otherwise only this process's."""

from __future__ import annotations

import os
import time

from django.conf import settings
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from kafka_bridge import clients
from kafka_bridge.heartbeats import last_beats
from kafka_bridge.lag import consumer_lag
from kafka_bridge.logging import silent_librdkafka_logger

_cached: tuple[float, dict] = (0.0, {})


def lag_now(max_age: float = 2.0) -> dict[tuple[str, str], int]:
    """Consumer lag of the monitored groups, computed at most every `max_age` seconds."""
    global _cached
    at, lag = _cached
    if time.monotonic() - at > max_age:
        groups = list(settings.MONITORED_CONSUMER_GROUPS)
        lag = consumer_lag(clients.admin(logger=silent_librdkafka_logger()), groups)
        _cached = (time.monotonic(), lag)
    return lag


class ScrapeTimeCollector:
    def collect(self):
        lag = GaugeMetricFamily(
            "bank_consumer_lag", "Records a group has yet to handle, by topic", labels=["group", "topic"]
        )
        for (group, topic), records in sorted(lag_now().items()):
            lag.add_metric([group, topic], records)
        yield lag
        beats = GaugeMetricFamily(
            "bank_consumer_seconds_since_beat",
            "Seconds since a consumer process last polled",
            labels=["group", "process"],
        )
        for group in settings.MONITORED_CONSUMER_GROUPS:
            for process, age in sorted(last_beats(group).items()):
                beats.add_metric([group, process], age)
        yield beats


def process_registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def exposition() -> bytes:
    scrape_time = CollectorRegistry()
    scrape_time.register(ScrapeTimeCollector())
    return generate_latest(process_registry()) + generate_latest(scrape_time)
