"""Login attempts per username and per client address, counted in Django's cache (Redis: all web processes)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache

WINDOW_SECONDS = 60
TOO_MANY_ATTEMPTS = "too many login attempts; try again in a minute"


async def _within(kind: str, key: str, limit: int) -> bool:
    # The window opens at the first attempt and the counter expires with it: a burst that straddles the
    # clock's minute is one burst, not two.
    bucket = f"logins:{kind}:{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()[:32]}"
    while True:
        await cache.aadd(bucket, 0, WINDOW_SECONDS)
        try:
            return await cache.aincr(bucket) <= limit
        except ValueError:  # the window closed between the two calls: open the next one
            continue


async def login_throttled(username: str, client_address: str | None) -> bool:
    """Count one attempt; True when this username or this address has made too many this minute."""
    by_name = await _within("username", username, settings.LOGINS_PER_MINUTE_PER_USERNAME)
    by_address = client_address is None or await _within(
        "address", client_address, settings.LOGINS_PER_MINUTE_PER_ADDRESS
    )
    return not (by_name and by_address)
