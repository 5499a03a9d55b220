"""manage.py run_command_handler: consume commands, run them on the ledger, emit feedback and events."""

from __future__ import annotations

import os
import socket

from django.core.management.base import BaseCommand

from kafka_bridge import clients
from kafka_bridge.consumers.command_handler import GROUP_ID, CommandHandler
from kafka_bridge.consumers.loop import ConsumerLoop
from kafka_bridge.heartbeats import Heartbeat
from kafka_bridge.shutdown import add_retry_deadline, stop_on_signals
from kafka_bridge.wire.codecs import get_codec
from kafka_bridge.wire.topology import Topic


class Command(BaseCommand):
    help = "Handle the commands topic exactly once until SIGTERM or SIGINT; run several to share the partitions."

    def add_arguments(self, parser):
        parser.add_argument(
            "--instance",
            default=socket.gethostname(),
            help="a name unique among running handlers and stable across restarts: a restart "
            "with the same name aborts the transaction its crashed predecessor left open",
        )
        parser.add_argument("--batch-size", type=int, default=500, help="most commands per transaction")
        parser.add_argument("--group", default=GROUP_ID, help="consumer group; handlers in one group share the work")
        add_retry_deadline(parser)

    def handle(self, *args, instance: str, batch_size: int, group: str, retry_deadline: float, **options):
        name = f"{group}-{instance}"
        # A short session: when a handler dies, its partitions move to the others within 10 s.
        consumer = clients.consumer(group, **{"client.id": name, "session.timeout.ms": 10_000})
        heartbeat = Heartbeat(group, os.environ.get("PROCESS_NAME", f"command-handler-{instance}"))
        loop = ConsumerLoop(
            consumer,
            CommandHandler(get_codec(), group=group),
            producer=clients.transactional_producer(name),
            topics=[Topic.COMMANDS.value],
            batch_size=batch_size,
            retry_deadline=retry_deadline,
            heartbeat=heartbeat,
        )
        loop.run(stop_on_signals())
