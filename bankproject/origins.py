"""Which browser pages may talk to us: our own, and those on `settings.CORS_ALLOWED_ORIGINS`.

Websockets: browsers apply no CORS to a handshake, so a page anywhere could open one with the user's
cookies; a handshake from another origin not on the list is refused (403). Clients that send no
`Origin` are not browsers and carry no cookies to abuse. HTTP `/graphql`: CORS headers for the same list
(django-cors-headers' settings and defaults; its middleware cannot serve the Channels consumer).
"""

from __future__ import annotations

from channels.security.websocket import WebsocketDenier
from corsheaders.conf import conf as cors
from django.conf import settings
from strawberry.http.websocket_origin import is_same_origin, normalize_origin


def is_allowed(origin: str | None, host: str | None) -> bool:
    if origin is None or is_same_origin(origin, host):
        return True
    allowed = {normalize_origin(o) for o in settings.CORS_ALLOWED_ORIGINS}
    return normalize_origin(origin) in allowed


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin1")
    return None


class WebsocketOriginCheck:
    """Refuse a websocket handshake from another origin's page unless it is allowed."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        if is_allowed(_header(scope, b"origin"), _header(scope, b"host")):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)


class GraphQLCors:
    """CORS for `/graphql`: answer preflights, and let allowed origins read the answers."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        origin = _header(scope, b"origin")
        if origin is None or not is_allowed(origin, _header(scope, b"host")):
            return await self.application(scope, receive, send)
        allow = [(b"access-control-allow-origin", origin.encode("latin1")), (b"vary", b"origin")]
        if scope["method"] == "OPTIONS" and _header(scope, b"access-control-request-method"):
            headers = [
                *allow,
                (b"access-control-allow-methods", ", ".join(cors.CORS_ALLOW_METHODS).encode()),
                (b"access-control-allow-headers", ", ".join(cors.CORS_ALLOW_HEADERS).encode()),
                (b"access-control-max-age", str(cors.CORS_PREFLIGHT_MAX_AGE).encode()),
            ]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return None

        async def send_with_cors(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *allow]}
            await send(message)

        return await self.application(scope, receive, send_with_cors)
