"""Websockets open now, by path: the GraphQL ones and the pages' live feeds (Prometheus, all web processes)."""

from __future__ import annotations

from prometheus_client import Gauge

OPEN_WEBSOCKETS = Gauge("bank_open_websockets", "Websockets open now, by path", ["path"], multiprocess_mode="livesum")


class CountWebsockets:
    """Count each websocket while its application runs (the whole connection)."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        known = path if path in ("/graphql-ws", "/graphql", "/ws/transactions/", "/ws/alerts/") else "other"
        with OPEN_WEBSOCKETS.labels(known).track_inprogress():
            return await self.application(scope, receive, send)
