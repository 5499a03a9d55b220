"""manage.py run_projector: keep the read model and the live subscribers up to date with the events."""

from __future__ import annotations

import os
import socket

from django.core.management.base import BaseCommand

from kafka_bridge import clients
from kafka_bridge.consumers.loop import ConsumerLoop
from kafka_bridge.consumers.projector import GROUP_ID, TOPICS, Projector, warn_of_undated_transactions
from kafka_bridge.heartbeats import Heartbeat
from kafka_bridge.shutdown import add_retry_deadline, stop_on_signals
from kafka_bridge.wire.codecs import get_codec


class Command(BaseCommand):
    help = "Project balance_changed and the feedback topics into the read model until SIGTERM or SIGINT."

    def add_arguments(self, parser):
        parser.add_argument("--group", default=GROUP_ID, help="consumer group; projectors in one group share the work")
        add_retry_deadline(parser)

    def handle(self, *args, group: str, retry_deadline: float, **options):
        warn_of_undated_transactions()
        consumer = clients.consumer(group, **{"session.timeout.ms": 10_000})
        heartbeat = Heartbeat(group, os.environ.get("PROCESS_NAME", f"projector-{socket.gethostname()}-{os.getpid()}"))
        loop = ConsumerLoop(
            consumer,
            Projector(get_codec()),
            producer=clients.producer(),
            topics=TOPICS,
            retry_deadline=retry_deadline,
            heartbeat=heartbeat,
        )
        loop.run(stop_on_signals())
