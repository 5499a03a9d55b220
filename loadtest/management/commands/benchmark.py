"""manage.py benchmark: the goals of issue #42 on the running stack, as the table that opens docs/performance.md."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from loadtest.benchmark_table import markdown, measure, write_into


class Command(BaseCommand):
    help = "Measure 50 closed-loop customers, one customer against the floors, and an open loop; print the table."

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=float, default=30.0, help="each timed window")
        parser.add_argument("--warmup", type=float, default=60.0, help="load before the first window, not counted")
        parser.add_argument("--web-url", default=settings.WEB_URL)
        parser.add_argument("--results", default=str(settings.LOADTEST_RESULTS_DIR))
        parser.add_argument("--write", metavar="DOCUMENT", help="put the table into this document (its markers)")

    def handle(self, *args, seconds, warmup, web_url, results, write, **options):
        table = measure(web_url, seconds, warmup, self.stdout.write)
        folder = Path(results)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"benchmark-{datetime.now():%Y-%m-%d-%H-%M-%S}.json"
        path.write_text(json.dumps(table.as_dict()) + "\n")
        text = markdown(table)
        self.stdout.write(f"{text}\nwritten to {path}")
        if write:
            write_into(Path(write), text)
            self.stdout.write(f"and into {write}")
