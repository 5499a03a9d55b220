"""ASGI entry point: GraphQL over HTTP (/graphql) and websockets (/graphql-ws, /graphql); Django for everything else."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankproject.settings")
django_application = get_asgi_application()

# Django must be set up before these imports.
from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.sessions import SessionMiddlewareStack  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import re_path  # noqa: E402

from bankproject.addresses import KnowClientAddress  # noqa: E402
from bankproject.metrics import CountWebsockets  # noqa: E402
from bankproject.origins import GraphQLCors, WebsocketOriginCheck  # noqa: E402
from bankproject.websockets import WebsocketsPerAddress  # noqa: E402
from graphql_api.consumers import BankGraphQLHTTPConsumer, BankGraphQLWSConsumer  # noqa: E402
from graphql_api.schema import schema  # noqa: E402
from pages.alert_consumers import AlertFeedConsumer  # noqa: E402
from pages.consumers import TransactionFeedConsumer  # noqa: E402


class NoSuchWebsocket(AsyncWebsocketConsumer):
    """Refuse a websocket to an unknown path with 403, instead of a 500 and a traceback in the log."""

    async def connect(self) -> None:
        await self.close()


graphql_over_http = BankGraphQLHTTPConsumer.as_asgi(schema=schema, graphql_ide="graphiql")
feed = SessionMiddlewareStack(TransactionFeedConsumer.as_asgi())

application = KnowClientAddress(
    ProtocolTypeRouter(
        {
            "http": URLRouter(
                [
                    re_path(
                        r"^graphql/?$",
                        # The session (read only when PRIVATE_READS asks who is staff).
                        GraphQLCors(SessionMiddlewareStack(graphql_over_http)),
                    ),
                    re_path(r"", django_application),
                ]
            ),
            "websocket": CountWebsockets(
                WebsocketsPerAddress(
                    WebsocketOriginCheck(
                        URLRouter(
                            [
                                # /graphql-ws is the original's; /graphql is where GraphiQL and most clients look.
                                re_path(
                                    r"^graphql(-ws)?/?$",
                                    SessionMiddlewareStack(
                                        BankGraphQLWSConsumer.as_asgi(
                                            schema=schema,
                                            allowed_origins=settings.CORS_ALLOWED_ORIGINS,
                                            max_subscriptions_per_connection=settings.GRAPHQL_OPERATIONS_PER_WEBSOCKET,
                                        )
                                    ),
                                ),
                                re_path(r"^ws/transactions/$", feed),
                                re_path(r"^ws/alerts/$", SessionMiddlewareStack(AlertFeedConsumer.as_asgi())),
                                re_path(r"", NoSuchWebsocket.as_asgi()),
                            ]
                        )
                    )
                )
            ),
        }
    )
)
