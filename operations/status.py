"""The Status page's figures: what runs, how far each consumer group is behind, and, over the last minutes,
commands a second and how long answers take (from the Prometheus samples, remembered in Redis)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache

from kafka_bridge.heartbeats import STALE_AFTER, last_beats
from kernel.databases import LEDGER
from operations.metrics import process_registry

SAMPLES = "status:samples"
KEEP_SECONDS = 600


@dataclass
class Sample:
    at: float
    commands: float = 0.0  # answered by the handler, in all
    answers: float = 0.0  # answers a web process waited for
    answer_seconds: float = 0.0
    buckets: dict[str, float] = field(default_factory=dict)  # upper bound -> answers at most that long


def sample_now() -> Sample:
    sample = Sample(at=time.time())
    for family in process_registry().collect():
        for metric in family.samples:
            name, value = metric.name, metric.value
            if name == "bank_commands_handled_total":
                sample.commands += value
            elif name == "bank_command_answer_seconds_count":
                sample.answers += value
            elif name == "bank_command_answer_seconds_sum":
                sample.answer_seconds += value
            elif name == "bank_command_answer_seconds_bucket":
                bound = metric.labels["le"]
                sample.buckets[bound] = sample.buckets.get(bound, 0.0) + value
    return sample


def recent_samples() -> list[Sample]:
    """This moment's sample added to those of the last ten minutes (one a second at most), oldest first."""
    samples = [Sample(**s) for s in json.loads(cache.get(SAMPLES) or "[]")]
    now = sample_now()
    if not samples or now.at - samples[-1].at >= 1.0:
        samples = [s for s in samples if now.at - s.at <= KEEP_SECONDS] + [now]
        cache.set(SAMPLES, json.dumps([asdict(s) for s in samples]), KEEP_SECONDS)
    return samples


def _quantile(before: Sample, after: Sample, q: float) -> float | None:
    """The q-quantile of the answers between two samples, from their histogram buckets (upper bound)."""
    answers = after.answers - before.answers
    if answers <= 0:
        return None
    for bound, count in sorted(after.buckets.items(), key=lambda item: float(item[0])):
        if count - before.buckets.get(bound, 0.0) >= q * answers:
            return float(bound)
    return None


def series(samples: list[Sample]) -> dict:
    """Per interval between samples: commands a second, mean and 95th percentile answer time in ms."""
    points = []
    for before, after in zip(samples, samples[1:], strict=False):
        seconds = after.at - before.at
        answers = after.answers - before.answers
        p95 = _quantile(before, after, 0.95)
        points.append(
            {
                "at": after.at,
                "commands_per_second": round(max(after.commands - before.commands, 0) / seconds, 1),
                "answer_mean_ms": round(1000 * (after.answer_seconds - before.answer_seconds) / answers, 1)
                if answers > 0
                else None,
                "answer_p95_ms": None if p95 is None or p95 == float("inf") else round(p95 * 1000),
            }
        )
    return {"points": points}


def consumer_processes() -> list[dict]:
    """Every process of every monitored consumer group, up when it polled within the last seconds."""
    return [
        {"group": group, "name": name, "seconds": round(age, 1), "up": age <= STALE_AFTER}
        for group in settings.MONITORED_CONSUMER_GROUPS
        for name, age in sorted(last_beats(group).items())
    ]


def describe(check: Any) -> str:
    """A health check as a person names the part it checks."""
    kind = type(check).__name__
    if kind == "Database":
        names = {"default": "PostgreSQL: the read model", LEDGER: "PostgreSQL: the ledger"}
        return names.get(check.alias, str(check.alias))
    if kind == "Consumers":
        return f"consumer group {check.group}"
    return {"SchemaRegistry": "schema registry"}.get(kind, kind)
