"""ASGI entry point: GraphQL over HTTP (/graphql) and websockets (/graphql-ws); Django for everything else."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankproject.settings")
django_application = get_asgi_application()

# Django must be set up before these imports.
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402
from django.urls import re_path  # noqa: E402

from graphql_api.consumers import BankGraphQLHTTPConsumer, BankGraphQLWSConsumer  # noqa: E402
from graphql_api.schema import schema  # noqa: E402
from pages.consumers import TransactionFeedConsumer  # noqa: E402

if settings.DEBUG:  # daphne serves no static files; in development Django does (admin CSS, htmx)
    django_application = ASGIStaticFilesHandler(django_application)

application = ProtocolTypeRouter(
    {
        "http": URLRouter(
            [
                re_path(r"^graphql/?$", BankGraphQLHTTPConsumer.as_asgi(schema=schema, graphql_ide="graphiql")),
                re_path(r"", django_application),
            ]
        ),
        "websocket": URLRouter(
            [
                re_path(r"^graphql-ws/?$", BankGraphQLWSConsumer.as_asgi(schema=schema)),
                re_path(r"^ws/transactions/$", TransactionFeedConsumer.as_asgi()),
            ]
        ),
    }
)
