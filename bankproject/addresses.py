"""The client's address, known to all the work a request does (`kernel.limits.asking_from`): the domain counts
commands by it without every caller passing it along."""

from __future__ import annotations

from typing import Any

from kernel.limits import asking_from


class KnowClientAddress:
    """ASGI middleware for every connection, HTTP or websocket: tasks started while serving it inherit the address."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        client = scope.get("client")
        serving = asking_from.set(client[0] if client else None)
        try:
            return await self.application(scope, receive, send)
        finally:
            asking_from.reset(serving)
