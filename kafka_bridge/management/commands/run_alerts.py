"""manage.py run_alerts: for every balance change that matches an account's alert rule, one AlertTriggered."""

from __future__ import annotations

import os
import socket

from confluent_kafka import OFFSET_BEGINNING, TopicPartition
from django.core.management.base import BaseCommand

from kafka_bridge import clients
from kafka_bridge.consumers.alerter import GROUP_ID, Alerter, Rules
from kafka_bridge.consumers.loop import ConsumerLoop
from kafka_bridge.heartbeats import Heartbeat
from kafka_bridge.shutdown import add_retry_deadline, stop_on_signals
from kafka_bridge.wire.codecs import get_codec
from kafka_bridge.wire.topology import Topic, get_topology


class Command(BaseCommand):
    help = "Turn balance changes that match alert rules into AlertTriggered records, exactly once, until SIGTERM."

    def add_arguments(self, parser):
        parser.add_argument("--instance", default=socket.gethostname(), help="unique and stable, as the handler's")
        parser.add_argument("--group", default=GROUP_ID, help="consumer group; instances in one group share the work")
        add_retry_deadline(parser)

    def handle(self, *args, instance: str, group: str, retry_deadline: float, **options):
        name = f"{group}-{instance}"
        settings_topic = get_topology().topic(Topic.ALERT_SETTINGS.value)
        reader = clients.consumer(f"{name}-rules")  # assigned, never subscribed: it reads every account's rules
        reader.assign(
            [TopicPartition(Topic.ALERT_SETTINGS.value, p, OFFSET_BEGINNING) for p in range(settings_topic.partitions)]
        )
        consumer = clients.consumer(group, **{"client.id": name, "session.timeout.ms": 10_000})
        rules = Rules(reader, get_codec(), clients.admin)
        heartbeat = Heartbeat(group, os.environ.get("PROCESS_NAME", f"alerts-{instance}"))
        loop = ConsumerLoop(
            consumer,
            Alerter(rules, get_codec(), group=group),
            producer=clients.transactional_producer(name),
            topics=[Topic.BALANCE_CHANGED.value],
            retry_deadline=retry_deadline,
            heartbeat=heartbeat,
        )
        loop.run(stop_on_signals())
