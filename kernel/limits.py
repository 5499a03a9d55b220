"""Counters that open a window at their first count and expire with it, in Django's cache (Redis: every process
sees the same counts)."""

from __future__ import annotations

import hashlib

from django.core.cache import cache


def _bucket(name: str, key: str) -> str:
    return f"{name}:{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()[:32]}"


def count_in_window(name: str, key: str, seconds: int) -> int:
    """Count one more for `key` and return the window's count: a burst that straddles the clock's minute is
    one burst, not two."""
    bucket = _bucket(name, key)
    while True:
        cache.add(bucket, 0, seconds)
        try:
            return int(cache.incr(bucket))
        except ValueError:  # the window closed between the two calls: open the next one
            continue


def counted_in_window(name: str, key: str) -> int:
    """The window's count for `key` so far (0 when none is open)."""
    return int(cache.get(_bucket(name, key)) or 0)
