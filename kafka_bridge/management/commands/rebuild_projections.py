"""manage.py rebuild_projections: empty the read model and replay every event into it."""

from __future__ import annotations

import threading
import time

from confluent_kafka import TopicPartition
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Customer
from alerts.models import Alert
from banking.models import PendingAnswer
from kafka_bridge.consumers.loop import ConsumerLoop
from kafka_bridge.consumers.projector import TOPICS, Projector
from kafka_bridge.tools.offsets import end_offsets, reader_from
from kafka_bridge.wire.codecs import get_codec
from transfers.models import LatestTransaction, Transaction


class Command(BaseCommand):
    help = "Delete the read model's transactions, accounts and alerts and rebuild them from the topics."

    def handle(self, *args, **options):
        ends = {(tp.topic, tp.partition): tp.offset for topic in TOPICS for tp in end_offsets(topic)}
        with transaction.atomic():
            LatestTransaction.objects.all().delete()
            deleted, _ = Transaction.objects.all().delete()
            PendingAnswer.objects.all().delete()
            Customer.objects.all().delete()
            Alert.objects.all().delete()  # read again from `alerts`, dated as they fired, mailed to nobody
        self.stdout.write(f"deleted {deleted} transactions; replaying {sum(ends.values())} records...")
        reader = reader_from([TopicPartition(topic, partition, 0) for topic, partition in ends])
        rebuild = Projector(get_codec(), notify=False)
        started = time.monotonic()
        ConsumerLoop(
            reader,
            rebuild,
            batch_size=1000,
            poll_timeout=1.0,
            watch_stalls=False,
            until=ends,
            progress=lambda records: self.stdout.write(f"  {rebuild.counts['transactions']} transactions so far..."),
        ).run(threading.Event())
        counts = ", ".join(f"{value} {name}" for name, value in rebuild.counts.items())
        self.stdout.write(self.style.SUCCESS(f"rebuilt in {time.monotonic() - started:.1f}s: {counts}"))
