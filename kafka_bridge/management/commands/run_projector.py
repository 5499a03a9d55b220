"""manage.py run_projector: keep the read model and the live subscribers up to date with the events."""

from __future__ import annotations

import os
import socket

from django.core.management.base import BaseCommand

from kafka_bridge import clients
from kafka_bridge.consumers.projector import GROUP_ID, Projector
from kafka_bridge.heartbeats import Heartbeat
from kafka_bridge.retry import DEFAULT_DEADLINE
from kafka_bridge.shutdown import stop_on_signals
from kafka_bridge.wire.codecs import get_codec


class Command(BaseCommand):
    help = "Project balance_changed and the feedback topics into the read model until SIGTERM or SIGINT."

    def add_arguments(self, parser):
        parser.add_argument("--group", default=GROUP_ID, help="consumer group; projectors in one group share the work")
        parser.add_argument(
            "--retry-deadline",
            type=float,
            default=DEFAULT_DEADLINE,
            help="seconds to retry a batch while the database, broker or registry is away, before exiting",
        )

    def handle(self, *args, group: str, retry_deadline: float, **options):
        consumer = clients.consumer(group, **{"session.timeout.ms": 10_000})
        heartbeat = Heartbeat(group, os.environ.get("PROCESS_NAME", f"projector-{socket.gethostname()}-{os.getpid()}"))
        Projector(consumer, get_codec(), retry_deadline=retry_deadline, heartbeat=heartbeat).run(stop_on_signals())
