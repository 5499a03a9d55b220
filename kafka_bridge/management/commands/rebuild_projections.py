"""manage.py rebuild_projections: build a new copy of the read model from the topics while the bank serves from
the old one, then put it in place at once."""

from __future__ import annotations

import threading
import time
from collections import Counter

from confluent_kafka import TopicPartition
from django.core.management.base import BaseCommand

from banking.copies import NEXT, drop_retired_copies, start_next_copy, switch
from kafka_bridge.consumers.loop import ConsumerLoop
from kafka_bridge.consumers.projector import TOPICS, Projector
from kafka_bridge.tools.offsets import end_offsets, reader_from
from kafka_bridge.wire.codecs import get_codec

Positions = dict[tuple[str, int], int]


class Command(BaseCommand):
    help = (
        "Build a new copy of the read model (transactions, accounts, alerts) from the topics, while the projector "
        "and the web go on with the old one; switch to it once it has caught up, then drop the old one."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--switch-within",
            type=int,
            default=1000,
            help="records behind the topics' ends at which to switch (the projector waits while they are replayed)",
        )

    def handle(self, *args, switch_within: int, **options):
        started = time.monotonic()
        start_next_copy()
        self.stdout.write(f"building a new read model in schema {NEXT}; the one in place serves meanwhile")
        positions: Positions = {key: 0 for key in _ends()}
        counts: Counter[str] = Counter()
        while (behind := _behind(positions, ends := _ends())) > switch_within:
            self.stdout.write(f"replaying {behind} records...")
            positions = self._replay(positions, ends, counts)
        self.stdout.write(f"switching: the projector waits while the last {behind} records or so are replayed")
        waited = time.monotonic()
        with switch():
            self._replay(positions, _ends(), counts)
        self.stdout.write(f"switched; the projector waited {time.monotonic() - waited:.2f}s")
        drop_retired_copies()
        summary = ", ".join(f"{value} {name}" for name, value in counts.items())
        self.stdout.write(self.style.SUCCESS(f"rebuilt in {time.monotonic() - started:.1f}s: {summary}"))

    def _replay(self, positions: Positions, ends: Positions, counts: Counter[str]) -> Positions:
        """Project the records from `positions` to `ends` into the new copy, telling nobody; return `ends`. Only
        partitions with something to read are read: a reader knows no position in one it has fetched nothing from."""
        ahead = {key: positions.get(key, 0) for key in ends if positions.get(key, 0) < ends[key]}
        if not ahead:
            return ends
        reader = reader_from([TopicPartition(topic, partition, at) for (topic, partition), at in ahead.items()])
        rebuild = Projector(get_codec(), notify=False, copy=NEXT)
        ConsumerLoop(
            reader,
            rebuild,
            batch_size=1000,
            poll_timeout=1.0,
            watch_stalls=False,
            until={key: ends[key] for key in ahead},
            progress=lambda records: self.stdout.write(
                f"  {counts['transactions'] + rebuild.counts['transactions']} transactions so far..."
            ),
        ).run(threading.Event())
        counts.update(rebuild.counts)
        return ends


def _ends() -> Positions:
    return {(tp.topic, tp.partition): tp.offset for topic in TOPICS for tp in end_offsets(topic)}


def _behind(positions: Positions, ends: Positions) -> int:
    return sum(max(ends[key] - positions.get(key, 0), 0) for key in ends)
