"""The HTTP and websocket endpoints, with the legacy `graphql-ws` protocol as the original's clients speak it."""

from django.conf import settings
from strawberry.channels import GraphQLHTTPConsumer, GraphQLWSConsumer
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler


class StartWithoutInitHandler(BaseGraphQLWSHandler):
    """Legacy `graphql-ws`, accepting `start` without a `connection_init` first, as the original server did.

    The original load-test client never sends `connection_init`; strawberry would close with 4401.
    """

    async def handle_start(self, message) -> None:
        self.connection_acknowledged = True
        await super().handle_start(message)


class BankGraphQLWSConsumer(GraphQLWSConsumer):
    graphql_ws_handler_class = StartWithoutInitHandler


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


class BankGraphQLHTTPConsumer(GraphQLHTTPConsumer):
    @property
    def graphql_ide_html(self) -> str:
        return graphiql_from_our_static_files(super().graphql_ide_html)
