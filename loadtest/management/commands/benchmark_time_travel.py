"""manage.py benchmark_time_travel: balance_at and its neighbours on an account with a long history."""

from __future__ import annotations

import os
import platform

from django.conf import settings
from django.core.management.base import BaseCommand

from loadtest.time_travel import Web, account_with_history, measure, plan


class Command(BaseCommand):
    help = "Give one account N changes through the running bank, then time balance_at at random moments of them."

    def add_arguments(self, parser):
        parser.add_argument("--changes", type=int, default=50_000, help="the account's history (default 50000)")
        parser.add_argument("--queries", type=int, default=1000, help="moments asked about, per query (default 1000)")
        parser.add_argument("--username", default="time-travel-history", help="whose account (kept between runs)")
        parser.add_argument("--web-url", default=settings.WEB_URL, help="the application (default: WEB_URL)")

    def handle(self, *args, changes, queries, username, web_url, **options):
        web = Web(web_url)
        iban = account_with_history(web, username, changes, self.stdout.write)
        self.stdout.write(f"{iban}: {changes}+ changes; {queries} moments each, one client, on {web_url}")
        self.stdout.write(f"machine: {platform.node()}, {os.cpu_count()} CPUs, {platform.platform()}")
        for timings in measure(web, iban, queries):
            self.stdout.write(str(timings))
        self.stdout.write("balance_at's plan, at the middle of the history:")
        self.stdout.write(plan(iban))
