"""The HTTP and websocket endpoints, with the legacy `graphql-ws` protocol as the original's clients speak it."""

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


class BankGraphQLHTTPConsumer(GraphQLHTTPConsumer):
    pass
