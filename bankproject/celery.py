"""The Celery application: background jobs such as load-test runs started from the Results page."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankproject.settings")

app = Celery("bankproject")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
