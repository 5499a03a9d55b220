"""Liveness of the long-running consumers: each beats into Redis after every poll; health checks read it.

A beat is kept per consumer group and process name, so the operator (and `/health/`) sees which process of
which group last polled when.
"""

from __future__ import annotations

import logging
import time
from functools import cache

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

STALE_AFTER = 10.0  # seconds without a beat before a consumer counts as down (it beats every second)
FORGET_AFTER = 3600.0  # a process that has not beaten for an hour is no longer reported at all
BEAT_EVERY = 1.0


@cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def _key(group: str) -> str:
    return f"bank:heartbeats:{group}"


class Heartbeat:
    """Beat at most once a second; Redis being away is logged once and never stops the loop."""

    def __init__(self, group: str, name: str) -> None:
        self.group, self.name = group, name
        self._last = 0.0
        self._failing = False

    def beat(self) -> None:
        now = time.time()
        if now - self._last < BEAT_EVERY:
            return
        self._last = now
        try:
            _redis().hset(_key(self.group), self.name, now)
            self._failing = False
        except redis.RedisError as error:
            if not self._failing:
                logger.warning("cannot record the heartbeat of %s: %s", self.name, error)
            self._failing = True


def last_beats(group: str) -> dict[str, float]:
    """Seconds since each process of `group` last beat (processes silent for an hour are left out)."""
    now = time.time()
    beats = {
        name.decode() if isinstance(name, bytes) else name: now - float(at)
        for name, at in _redis().hgetall(_key(group)).items()
    }
    return {name: age for name, age in beats.items() if age < FORGET_AFTER}
