"""WSGI entry point, for tools that want one; the application itself is served over ASGI (daphne)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankproject.settings")
application = get_wsgi_application()
