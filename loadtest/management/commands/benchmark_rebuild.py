"""manage.py benchmark_rebuild: a rebuild of a long history on a serving bank, and the deposits meanwhile."""

from __future__ import annotations

import os
import platform
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from loadtest.rebuild_bench import measured, rebuild_in_its_own_process
from loadtest.time_travel import Web, account_with_history


class Command(BaseCommand):
    help = "Give the bank N balance changes, then time rebuild_projections while customers deposit, against before."

    def add_arguments(self, parser):
        parser.add_argument("--changes", type=int, default=1_000_000, help="balance changes of one account's history")
        parser.add_argument("--customers", type=int, default=5, help="closed-loop customers depositing (default 5)")
        parser.add_argument("--baseline", type=float, default=30, help="seconds of deposits before the rebuild")
        parser.add_argument("--web-url", default=settings.WEB_URL, help="the application (default: WEB_URL)")

    def handle(self, *args, changes, customers, baseline, web_url, **options):
        account_with_history(Web(web_url), "rebuild-history", changes, self.stdout.write)
        self.stdout.write(f"machine: {platform.node()}, {os.cpu_count()} CPUs; {customers} customers on {web_url}")
        before, _ = measured(web_url, customers, lambda: time.sleep(baseline))
        self.stdout.write(f"before the rebuild ({baseline:.0f} s): {before}")
        during, (seconds, last_line) = measured(web_url, customers, rebuild_in_its_own_process)
        self.stdout.write(f"rebuild_projections: {seconds:.1f} s; it said: {last_line}")
        self.stdout.write(f"during the rebuild: {during}")
