"""manage.py loadtest_report: aggregate load-test runs like the original did, beside its published results."""

from __future__ import annotations

import csv
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from loadtest.analysis import aggregate_runs, cpu_per_configuration, original_results


class Command(BaseCommand):
    help = "Group every results file by configuration and generator count; print a summary and write a CSV."

    def add_arguments(self, parser):
        parser.add_argument("--results", default=str(settings.LOADTEST_RESULTS_DIR))
        parser.add_argument("--out", default=None, help="CSV to write (default: <results>/report.csv)")
        parser.add_argument("--with-original", action="store_true", help="include the original's 2019 results")

    def handle(self, *args, results, out, with_original, **options):
        folder = Path(results)
        items = aggregate_runs(folder)
        if not items:
            raise CommandError(f"no results in {folder}; run `manage.py loadtest demo` first")
        for item in items:
            self.stdout.write(
                f"{item['category']:>10} gen {item['generators']:>3}  ui {_ms(item['average-latency'])} "
                f"(p99 {_ms(item['99-latency'])})  generators {_ms(item['average-generator-latency'])} "
                f"(p99 {_ms(item['99-generator-latency'])})  {item['transactions-per-second']:.1f} tx/s"
            )
        for row in cpu_per_configuration(folder):
            parts = ", ".join(f"{part} {ms:.2f}" for part, ms in row.ms_by_part.items() if ms)
            self.stdout.write(f"{row.configuration:>10} CPU ms per transaction {row.total_ms:.2f}: {parts}")
        if with_original:
            items += original_results()
        target = Path(out) if out else folder / "report.csv"
        columns = list(dict.fromkeys(key for item in items for key in item))
        with target.open("w", newline="") as sink:
            writer = csv.DictWriter(sink, columns)
            writer.writeheader()
            writer.writerows(items)
        self.stdout.write(self.style.SUCCESS(f"wrote {len(items)} rows to {target}"))


def _ms(value: float | None) -> str:
    return "   -  " if value is None else f"{value:6.1f}"
