"""How many websockets one client address (as `bankproject.addresses` found it) may hold open on a web process
(`WEBSOCKETS_PER_ADDRESS`): each costs the event loop that serves every connection, so one client must not take
them all."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from django.conf import settings

from kernel.limits import asking_from

TOO_MANY_WEBSOCKETS = 4429  # 4000-4999 are the application's; 429 as HTTP's "too many requests"


class WebsocketsPerAddress:
    """Accept a websocket beyond the address's limit, tell why in a `connection_error` (legacy graphql-ws's word
    for it; daphne sends no close reason) and close it (4429)."""

    def __init__(self, application: Any) -> None:
        self.application = application
        self.open: Counter[str] = Counter()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        address = asking_from.get() or ""
        if self.open[address] >= settings.WEBSOCKETS_PER_ADDRESS:
            await receive()  # websocket.connect
            await send({"type": "websocket.accept"})
            reason = f"{settings.WEBSOCKETS_PER_ADDRESS} websockets from one address at most"
            error = {"type": "connection_error", "payload": {"message": reason}}
            await send({"type": "websocket.send", "text": json.dumps(error)})
            await send({"type": "websocket.close", "code": TOO_MANY_WEBSOCKETS, "reason": reason})
            return None
        self.open[address] += 1
        try:
            return await self.application(scope, receive, send)
        finally:
            self.open[address] -= 1
            if not self.open[address]:
                del self.open[address]
