"""manage.py loadtest CONFIG: the original's end-to-end load test against a running application."""

from __future__ import annotations

import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from loadtest.analysis import read_rows
from loadtest.config import load_config
from loadtest.runner import run_load_test


class Command(BaseCommand):
    help = "Run a load test (it, demo, full, or a TOML file of your own) against WEB_URL; exit 0 when it succeeds."

    def add_arguments(self, parser):
        parser.add_argument("config", help="it, demo, full, or the path of a .toml file with the same keys")
        parser.add_argument("--web-url", default=None, help="the application to test (default: WEB_URL)")
        parser.add_argument(
            "--results",
            default=str(settings.LOADTEST_RESULTS_DIR),
            help="folder for the results file (one JSON row per loop)",
        )

    def handle(self, *args, config, web_url, results, **options):
        try:
            chosen = load_config(config)
        except (OSError, ValueError) as error:
            raise CommandError(f"cannot read configuration {config!r}: {error}") from error
        url = (web_url or settings.WEB_URL).rstrip("/")
        self.stdout.write(f"load test '{chosen.name}' against {url}")
        outcome = run_load_test(chosen, url, Path(results), report=self.stdout.write)
        for error in outcome.errors:
            self.stderr.write(error)
        self._compare_with_floor(outcome)
        verdict = "succeeded" if outcome.succeeded(chosen) else "failed"
        self.stdout.write(
            f"{verdict}: {outcome.last_loop} loops, {outcome.time_outs} time-outs, "
            f"{outcome.generators} generators; results in {outcome.results}"
        )
        if not outcome.succeeded(chosen) or outcome.errors:
            sys.exit(1)

    def _compare_with_floor(self, outcome) -> None:
        """Our generator round trip as a multiple of the bare Kafka ping-pong measured in the same run."""
        rows = read_rows([outcome.results])
        latencies = sorted(x for row in rows for x in row.get("generator_latencies_ms", []))
        if not latencies:
            return
        p50 = latencies[len(latencies) // 2]
        floor = outcome.floor["p50_ms"]
        self.stdout.write(
            f"generator round trip p50 {p50:.1f} ms = {p50 / floor:.1f} x the ping-pong floor "
            f"({floor} ms) over {len(latencies)} round trips"
        )
