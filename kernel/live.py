"""What the read side tells live, through the channel layer: heard by any web process, since it is Redis.

The projector sends (`Notifier`); subscriptions, pages and the command bus listen (`listening`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

Notification = tuple[str, dict[str, Any]]  # (group, message)


def group_for(kind: str, iban: str) -> str:
    """The channel-layer group of an account's `kind` of news (`transactions`, `alerts`): a name Redis takes."""
    return f"{kind}.{''.join(c for c in iban if c.isalnum())[:80]}"


@contextlib.asynccontextmanager
async def listening(*groups: str) -> AsyncIterator[Callable[[], Awaitable[dict[str, Any]]]]:
    """Join `groups` on a channel of our own, then hand out its `receive`; leave the groups afterwards.

    Joining comes first, so a command sent inside the block can never be answered before we listen.
    """
    layer = get_channel_layer()
    channel = await layer.new_channel()
    for group in groups:
        await layer.group_add(group, channel)
    try:
        yield lambda: layer.receive(channel)
    finally:
        for group in groups:
            with contextlib.suppress(Exception):
                await layer.group_discard(group, channel)


class Notifier:
    """Sends notifications from synchronous code (the projector) on one long-lived event loop.

    `async_to_sync` per call would start a thread and an event loop every time, and channels_redis
    keeps its Redis connections per event loop: each call paid for new connections (a profile showed
    it as 44% of the projector's time). Here the loop, and so the connections, live as long as we do.
    """

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, daemon=True, name="notifier").start()

    def send(self, notifications: list[Notification], timeout: float = 30.0) -> None:
        """Send them in order and return when the channel layer has every one.

        Live notifications are best effort: the read model is already written, so when the channel
        layer fails we say so and go on (a caller waiting for an answer then times out and is told
        to try again), rather than stop the projector.
        """
        if not notifications:
            return
        try:
            asyncio.run_coroutine_threadsafe(_send_all(notifications), self._loop).result(timeout)
        except Exception:
            logger.exception("could not tell live listeners about %d notification(s)", len(notifications))

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)


async def _send_all(notifications: list[Notification]) -> None:
    """In order: a command's answer goes before its transactions."""
    layer = get_channel_layer()
    if hasattr(layer, "group_send_many"):  # the project's Redis layer: two round trips for them all
        await layer.group_send_many(notifications)
        return
    for group, message in notifications:
        await layer.group_send(group, message)
