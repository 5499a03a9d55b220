"""manage.py rebuild_projections: build a new copy of the read model from the topics while the bank serves from
the old one, then put it in place at once."""

from __future__ import annotations

import threading
import time
from collections import Counter

from confluent_kafka import TopicPartition
from django.core.management.base import BaseCommand, CommandError

from banking.copies import (
    NEXT,
    AnotherRebuildRuns,
    drop_retired_copies,
    report_progress,
    start_next_copy,
    switch,
    the_only_rebuild,
)
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
        try:
            with the_only_rebuild():
                self._rebuild(switch_within)
        except AnotherRebuildRuns as error:
            raise CommandError(str(error)) from error

    def _rebuild(self, switch_within: int) -> None:
        started = time.monotonic()
        start_next_copy()
        self.stdout.write(f"building a new read model in schema {NEXT}; the one in place serves meanwhile")
        positions: Positions = {key: 0 for key in _ends()}
        counts: Counter[str] = Counter()
        while (behind := _behind(positions, ends := _ends())) > switch_within:
            self.stdout.write(f"replaying {behind} records...")
            report_progress("replaying", counts["transactions"], behind)
            positions = self._replay(positions, ends, counts)
        self.stdout.write(f"switching: the projector waits while the last {behind} records or so are replayed")
        report_progress("switching", counts["transactions"], behind)
        waited = time.monotonic()
        with switch():
            self._replay(positions, _ends(), counts)
        self.stdout.write(f"switched; the projector waited {time.monotonic() - waited:.2f}s")
        drop_retired_copies()
        report_progress("done", counts["transactions"], 0)
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
        so_far, to_read = counts["transactions"], _behind(ahead, ends)

        def progress(records: int) -> None:
            transactions, behind = so_far + rebuild.counts["transactions"], max(to_read - records, 0)
            self.stdout.write(f"  {transactions} transactions so far, about {behind} records to go...")
            report_progress("replaying", transactions, behind)

        ConsumerLoop(
            reader,
            rebuild,
            batch_size=1000,
            poll_timeout=1.0,
            watch_stalls=False,
            until={key: ends[key] for key in ahead},
            progress=progress,
        ).run(threading.Event())
        counts.update(rebuild.counts)
        return ends


def _ends() -> Positions:
    return {(tp.topic, tp.partition): tp.offset for topic in TOPICS for tp in end_offsets(topic)}


def _behind(positions: Positions, ends: Positions) -> int:
    return sum(max(ends[key] - positions.get(key, 0), 0) for key in ends)
