"""ASGI entry point: Django for HTTP; websocket routes join as the GraphQL and live pages arrive."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankproject.settings")
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402 - Django must be set up first

application = ProtocolTypeRouter({"http": django_application})
