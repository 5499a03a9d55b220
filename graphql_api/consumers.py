"""The HTTP and websocket endpoints, with the legacy `graphql-ws` protocol as the original's clients speak it."""

import asyncio
import json
from functools import lru_cache

from channels.exceptions import StopConsumer
from cross_web import HTTPException
from django.conf import settings
from graphql import GraphQLError, parse
from strawberry.channels import GraphQLHTTPConsumer, GraphQLWSConsumer
from strawberry.channels.handlers.http_handler import ChannelsResponse
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.utils.operation import get_operation_type

from graphql_api import fast_path
from graphql_api.errors import could_not_run
from graphql_api.limits import MAX_TOKENS
from kernel.consumers import NoConnectionSweepPerMessage

MESSAGE_TOO_LARGE = 4413
GRAPHQL_RESPONSE = "application/graphql-response+json"  # the GraphQL-over-HTTP spec's own media type
SUBSCRIPTION_OVER_HTTP = (
    "a subscription needs a websocket (ws://.../graphql-ws or ws://.../graphql); "
    "over HTTP, use the mutation of the same name"
)


class ReadsJsonStrictly:
    """JSON that Python cannot read (a number of 4,301 digits and more, nesting deeper than its recursion
    limit) is a JSON error, which strawberry answers with 400 (or 4400 on a websocket); it raised other
    errors, which became 500s with a traceback."""

    def decode_json(self, data: str | bytes) -> object:
        try:
            return json.loads(data)
        except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError
            raise json.JSONDecodeError(str(error)[:200], "", 0) from None


class StartWithoutInitHandler(BaseGraphQLWSHandler):
    """Legacy `graphql-ws`, accepting `start` without a `connection_init` first, as the original server did.

    The original load-test client never sends `connection_init`; strawberry would close with 4401.
    """

    async def handle_start(self, message) -> None:
        self.connection_acknowledged = True
        await super().handle_start(message)

    async def handle_async_results(self, operation_id, query, operation_name, variables) -> None:
        """`get_account` and `money_transfer` on the fast road (`fast_path`); the rest on strawberry's. An operation
        that fails on the fast road runs again on strawberry's, which answers its error as it always has: both
        operations may run twice (the same uuid is one transfer, the same login one account)."""
        answer = fast_path.answer_for(query, operation_name, variables) if settings.GRAPHQL_FAST_PATH else None
        if answer is None:
            await super().handle_async_results(operation_id, query, operation_name, variables)
            return
        try:
            try:
                data = await answer()
            except Exception:
                await super().handle_async_results(operation_id, query, operation_name, variables)
                return
            await self.send_message({"type": "data", "id": operation_id, "payload": {"data": data}})
            await self.send_message({"type": "complete", "id": operation_id})
        except asyncio.CancelledError:  # a `stop`, or the socket closed: as strawberry's road ends
            await self.send_message({"type": "complete", "id": operation_id})
        finally:
            self.tasks.pop(operation_id, None)


class BankGraphQLWSConsumer(ReadsJsonStrictly, NoConnectionSweepPerMessage, GraphQLWSConsumer):
    graphql_ws_handler_class = StartWithoutInitHandler

    async def websocket_receive(self, message) -> None:
        """Close on a frame larger than any operation of ours (4413, "too large", as servers may not send 1009)."""
        data = message.get("text") or message.get("bytes") or ""
        if len(data) > settings.GRAPHQL_MAX_REQUEST_BYTES:
            await self.close(code=MESSAGE_TOO_LARGE)
            return
        await super().websocket_receive(message)


# GraphiQL's files, vendored (static/vendor/graphiql/, the same bytes and subresource hashes as the
# CDN), so the IDE also works without internet.
GRAPHIQL_FILES = {
    "https://unpkg.com/react@18.2.0/umd/react.production.min.js": "react-18.2.0.production.min.js",
    "https://unpkg.com/react-dom@18.2.0/umd/react-dom.production.min.js": "react-dom-18.2.0.production.min.js",
    "https://unpkg.com/js-cookie@3.0.5/dist/js.cookie.min.js": "js.cookie-3.0.5.min.js",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.css": "graphiql-3.8.3.min.css",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.js": "graphiql-3.8.3.min.js",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/style.css": "plugin-explorer-1.0.2.css",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/index.umd.js": "plugin-explorer-1.0.2.umd.js",
}


def graphiql_from_our_static_files(html: str) -> str:
    for cdn, name in GRAPHIQL_FILES.items():
        html = html.replace(cdn, f"/{settings.STATIC_URL.strip('/')}/vendor/graphiql/{name}")
    return html


@lru_cache(maxsize=256)
def is_subscription(query: str | None, operation_name: str | None) -> bool:
    try:
        return (
            get_operation_type(parse(query or "", max_tokens=MAX_TOKENS), operation_name) == OperationType.SUBSCRIPTION
        )
    except (GraphQLError, RuntimeError):
        return False  # strawberry reports the syntax error or the missing operation itself


class BankGraphQLHTTPConsumer(ReadsJsonStrictly, GraphQLHTTPConsumer):
    async def http_request(self, message) -> None:
        """Refuse a body larger than any operation of ours with 413, before it is all read into memory."""
        declared = dict(self.scope.get("headers", [])).get(b"content-length", b"0")
        received = sum(map(len, self.body)) + len(message.get("body", b""))
        if max(received, int(declared) if declared.isdigit() else 0) > settings.GRAPHQL_MAX_REQUEST_BYTES:
            limit = settings.GRAPHQL_MAX_REQUEST_BYTES
            await self.send_response(
                413,
                f"a GraphQL request may have {limit} bytes at most".encode(),
                headers=[(b"Content-Type", b"text/plain")],
            )
            raise StopConsumer
        await super().http_request(message)

    async def execute_single(self, **kwargs) -> ExecutionResult:  # type: ignore[override]  # it passes all on
        """Refuse a plain HTTP subscription with a reason: strawberry would run it as a query and answer null.

        (Subscriptions over HTTP with `Accept: multipart/mixed` are streamed and never come here.)
        """
        data = kwargs["request_data"]
        if not isinstance(data.operation_name, str | None):
            raise HTTPException(400, "operationName must be a string")
        if is_subscription(data.query, data.operation_name):
            return ExecutionResult(data=None, errors=[GraphQLError(SUBSCRIPTION_OVER_HTTP)])
        return await super().execute_single(**kwargs)

    def create_response(self, response_data, sub_response) -> ChannelsResponse:
        """For a client that accepts the spec's `application/graphql-response+json`: that type, and a request
        that could not run (a syntax or validation error, variables of the wrong type) as 400 without `data`.
        Clients of plain `application/json`, the original's among them, get 200 as before."""
        response = super().create_response(response_data, sub_response)
        if GRAPHQL_RESPONSE.encode() not in dict(self.scope.get("headers", [])).get(b"accept", b""):
            return response
        if isinstance(response_data, dict) and could_not_run(response_data):
            without_data = GraphQLHTTPResponse(errors=response_data.get("errors"))
            if "extensions" in response_data:
                without_data["extensions"] = response_data["extensions"]
            response = super().create_response(without_data, sub_response)
            response.status = 400
        response.content_type = GRAPHQL_RESPONSE
        response.headers.pop(b"Content-Type", None)
        return response

    @property
    def graphql_ide_html(self) -> str:  # type: ignore[override]  # strawberry reads it, never writes it
        return graphiql_from_our_static_files(super().graphql_ide_html)
