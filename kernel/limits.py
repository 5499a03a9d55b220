"""Counters that open a window at their first count and expire with it, in Redis (every process sees the same
counts): logins, alert mails, and the commands a client address and an account may send."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from contextvars import ContextVar
from weakref import WeakKeyDictionary

import redis.asyncio
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

COMMANDS_WINDOW_SECONDS = 60
TOO_MANY_FROM_ADDRESS = "too many commands from your address; try again in a minute"
TOO_MANY_FOR_ACCOUNT = "too many commands for this account; try again in a minute"

asking_from: ContextVar[str | None] = ContextVar("asking_from", default=None)
"""The address of the client whose request is being served (set at the web's edge); None for the bank's own work."""


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


_redis_of_each_loop: WeakKeyDictionary[asyncio.AbstractEventLoop, redis.asyncio.Redis] = WeakKeyDictionary()


def _redis() -> redis.asyncio.Redis:
    """A client of the running event loop's own (Django's cache is synchronous: it would take the thread that
    every database read shares)."""
    loop = asyncio.get_running_loop()
    if (client := _redis_of_each_loop.get(loop)) is None:
        client = redis.asyncio.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
        _redis_of_each_loop[loop] = client
    return client


async def command_refusal(key: str) -> str | None:
    """Count a command from the client being served, under `key` (the account or customer it is for); why not
    to send it when the address or the key sent too many this minute. The bank's own commands are not counted,
    nor those from `COMMAND_LIMIT_EXEMPT_ADDRESSES`."""
    address = asking_from.get()
    if address is None or address in settings.COMMAND_LIMIT_EXEMPT_ADDRESSES:
        return None
    from_address, for_account = _bucket("bank:commands:address", address), _bucket("bank:commands:account", key)
    try:
        async with _redis().pipeline(transaction=True) as both:  # one round trip; a window never loses its expiry
            for bucket in (from_address, for_account):
                both.set(bucket, 0, ex=COMMANDS_WINDOW_SECONDS, nx=True)
                both.incr(bucket)
            _, sent_from_address, _, sent_for_account = await both.execute()
    except redis.RedisError as error:  # counting is a guard, not a gate: the command goes as it would have
        logger.warning("commands not counted (%s): Redis cannot be reached", error)
        return None
    if sent_from_address > settings.COMMANDS_PER_MINUTE_PER_ADDRESS:
        return TOO_MANY_FROM_ADDRESS
    if sent_for_account > settings.COMMANDS_PER_MINUTE_PER_ACCOUNT:
        return TOO_MANY_FOR_ACCOUNT
    return None
