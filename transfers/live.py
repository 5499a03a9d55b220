"""Listen to what the projector announces on the channel layer, from any web process: live transactions."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from channels.layers import get_channel_layer


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
