"""manage.py benchmark_closed_loop: N customers transferring back to back; throughput, latency, CPU per transfer."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from loadtest.closed_loop import as_json, run_closed_loop


class Command(BaseCommand):
    help = "Run N closed-loop customers against WEB_URL and report against the Kafka floors measured in the same run."

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=1)
        parser.add_argument("--seconds", type=float, default=30.0, help="the timed window")
        parser.add_argument(
            "--warmup",
            type=float,
            default=60.0,
            help="seconds of load before the floors and the window, not counted (a fresh broker needs a minute)",
        )
        parser.add_argument("--web-url", default=settings.WEB_URL)
        parser.add_argument("--results", default=str(settings.LOADTEST_RESULTS_DIR))

    def handle(self, *args, clients, seconds, warmup, web_url, results, **options):
        self.stdout.write(
            f"{clients} closed-loop customer(s) on {web_url}: {warmup:g} s of warm-up, the floors, then {seconds:g} s"
        )
        result = run_closed_loop(web_url, clients, seconds, warmup)
        folder = Path(results)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"closed-loop-{clients}-{datetime.now():%Y-%m-%d-%H-%M-%S}.json"
        path.write_text(as_json(result) + "\n")
        cpu = ", ".join(f"{part} {ms:.2f}" for part, ms in result.cpu_ms_per_transfer.items() if ms)
        self.stdout.write(
            f"{result.transfers} transfers in {result.seconds} s: {result.per_second}/s; "
            f"p50 {result.p50_ms} ms, p90 {result.p90_ms} ms, p99 {result.p99_ms} ms\n"
            f"floors: ping-pong p50 {result.ping_pong['p50_ms']} ms, "
            f"exactly-once relay p50 {result.relay['p50_ms']} ms; our p50 = {result.floor_multiple:.1f} x the "
            f"ping-pong, {result.p50_ms / result.relay['p50_ms']:.1f} x the relay\n"
            f"CPU ms per transfer: {cpu} (total {sum(result.cpu_ms_per_transfer.values()):.2f})\n"
            f"refusals: {result.errors or 'none'}; written to {path}"
        )
