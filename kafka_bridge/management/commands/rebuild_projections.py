"""manage.py rebuild_projections: empty the read model and replay every event into it."""

from __future__ import annotations

import time

from confluent_kafka import TopicPartition
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Customer
from kafka_bridge import clients
from kafka_bridge.consumers.projector import TOPICS, Projector
from kafka_bridge.tools.offsets import end_offsets, reader_from
from kafka_bridge.wire.codecs import get_codec
from transfers.models import LatestTransaction, PendingAnswer, Transaction


class Command(BaseCommand):
    help = "Delete the read model's transactions and rebuild them (and customers' IBANs) from the topics."

    def handle(self, *args, **options):
        ends = {(tp.topic, tp.partition): tp.offset for topic in TOPICS for tp in end_offsets(topic)}
        with transaction.atomic():
            LatestTransaction.objects.all().delete()
            deleted, _ = Transaction.objects.all().delete()
            PendingAnswer.objects.all().delete()
            Customer.objects.update(iban="", token="")
        self.stdout.write(f"deleted {deleted} transactions; replaying {sum(ends.values())} records...")
        reader = reader_from([TopicPartition(topic, partition, 0) for topic, partition in ends])
        projector = Projector(reader, get_codec(), notify=False, replaying=True)
        partitions = [TopicPartition(topic, partition) for topic, partition in ends]
        started, reported = time.monotonic(), time.monotonic()
        try:
            # The consumer's position passes transaction markers and aborted records too, which no
            # record is read at: so "done" is every position at its end, not every offset seen.
            while any(max(tp.offset, 0) < ends[(tp.topic, tp.partition)] for tp in reader.position(partitions)):
                records = clients.consume_available(reader, 1000, 1.0)
                records = [r for r in records if r.offset() < ends[(r.topic(), r.partition())]]
                if records:
                    projector.project(records)
                if time.monotonic() - reported > 5:
                    self.stdout.write(f"  {projector.counts['transactions']} transactions so far...")
                    reported = time.monotonic()
        finally:
            reader.close()
        counts = ", ".join(f"{value} {name}" for name, value in projector.counts.items())
        self.stdout.write(self.style.SUCCESS(f"rebuilt in {time.monotonic() - started:.1f}s: {counts}"))
