"""manage.py run_projector: keep the read model and the live subscribers up to date with the events."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand

from kafka_bridge import clients
from kafka_bridge.codecs import get_codec
from kafka_bridge.projector import GROUP_ID, Projector


class Command(BaseCommand):
    help = "Project balance_changed and the feedback topics into the read model until SIGTERM or SIGINT."

    def add_arguments(self, parser):
        parser.add_argument("--group", default=GROUP_ID, help="consumer group; projectors in one group share the work")

    def handle(self, *args, group: str, **options):
        stop = threading.Event()
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stop_signal, lambda *_: stop.set())
        Projector(clients.consumer(group, **{"session.timeout.ms": 10_000}), get_codec()).run(stop)
