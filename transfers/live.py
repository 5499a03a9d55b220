"""Wait for what the projector announces on the channel layer, from any web process, HTTP or websocket."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from uuid import UUID

from channels.layers import get_channel_layer

from transfers.notifications import COMMAND_ANSWERS

logger = logging.getLogger(__name__)

REJOIN_SECONDS = 3600  # channels_redis forgets a group member after a day (its group_expiry)


@contextlib.asynccontextmanager
async def listening(*groups: str) -> AsyncIterator[Callable[[], Awaitable[dict[str, Any]]]]:
    """Join `groups` on a channel of our own, then hand out its `receive`; leave the groups afterwards.

    Joining comes first, so a command sent inside the block can never be answered before we listen.
    """
    layer = get_channel_layer()
    # The default prefix matters: channels_redis has one receiver per process for all channels that
    # share a prefix, and a receiver busy on another prefix would starve ours.
    channel = await layer.new_channel()
    for group in groups:
        await layer.group_add(group, channel)
    try:
        yield lambda: layer.receive(channel)
    finally:
        for group in groups:
            with contextlib.suppress(Exception):
                await layer.group_discard(group, channel)


class CommandAnswers:
    """Every command answer the projector announces, heard once per process and handed to whoever waits.

    One channel joins the answers group for good, instead of a channel, a group join and a group leave
    per command: those Redis round trips were a fifth of the web process's CPU under load. Every web
    process hears every answer and keeps those it waits for.
    """

    def __init__(self) -> None:
        self._layer = get_channel_layer()
        self._waiting: dict[str, asyncio.Future] = {}
        self._joined = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._hear_forever(), name="command-answers")

    @contextlib.asynccontextmanager
    async def waiting_for(self, command_id: UUID) -> AsyncIterator[asyncio.Future]:
        """A future for the command's answer; enter it before sending the command, so no answer is missed."""
        await self._joined.wait()
        future = asyncio.get_running_loop().create_future()
        self._waiting[command_id.hex] = future
        try:
            yield future
        finally:
            self._waiting.pop(command_id.hex, None)

    async def _hear_forever(self) -> None:
        channel = await self._layer.new_channel()
        joined_at = None
        while True:
            try:
                if joined_at is None or asyncio.get_running_loop().time() - joined_at > REJOIN_SECONDS:
                    await self._layer.group_add(COMMAND_ANSWERS, channel)
                    joined_at = asyncio.get_running_loop().time()
                    self._joined.set()
                message = await asyncio.wait_for(self._layer.receive(channel), REJOIN_SECONDS)
            except TimeoutError:
                continue
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis away: callers time out meanwhile; join again once it is back
                logger.exception("lost the command answers channel; listening again in a second")
                joined_at = None
                await asyncio.sleep(1)
                continue
            for command, answer in message["answers"].items():
                future = self._waiting.get(command)
                if future is not None and not future.done():
                    future.set_result(answer)


_per_loop: dict[asyncio.AbstractEventLoop, CommandAnswers] = {}


def command_answers() -> CommandAnswers:
    """This event loop's `CommandAnswers` (daphne has one loop; tests and tools may run several)."""
    for closed in [loop for loop in _per_loop if loop.is_closed()]:
        del _per_loop[closed]  # its listening task holds the loop, so a weak key would never let go
    loop = asyncio.get_running_loop()
    if loop not in _per_loop:
        _per_loop[loop] = CommandAnswers()
    return _per_loop[loop]
