"""What the websocket consumers share: no trip to the shared sync thread for every frame."""

from __future__ import annotations

from typing import Any

from channels.consumer import get_handler_name


class NoConnectionSweepPerMessage:
    """Dispatch each message without Channels' `aclose_old_connections()` before it.

    That sweep runs on the one thread every `sync_to_async` call of the process shares, so every websocket
    frame waited its turn there. Here nothing uses a database connection between messages: each read closes
    its own (`database_sync_to_async` and `kernel.reads` do it around every call).
    """

    async def dispatch(self, message: Any) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)
