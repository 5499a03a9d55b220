"""manage.py benchmark_logins: many new customers log in at once while one logged-in customer transfers."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from loadtest.logins import run_login_storm


class Command(BaseCommand):
    help = "Open N accounts at once over GraphQL websockets while a logged-in customer transfers; print the times."

    def add_arguments(self, parser):
        parser.add_argument("--logins", type=int, default=100, help="new customers logging in at once")
        parser.add_argument("--web-url", default=settings.WEB_URL, help="the application (default: WEB_URL)")

    def handle(self, *args, logins: int, web_url: str, **options):
        self.stdout.write(f"{logins} new customers log in at once on {web_url}...")
        result = run_login_storm(web_url, logins)
        self.stdout.write(
            f"all {result.answered} logins answered in {result.all_answered_s} s "
            f"(refused: {result.refused or 'none'}); "
            f"meanwhile {result.transfers} transfers of a logged-in customer: "
            f"p50 {result.transfer_p50_ms} ms, p99 {result.transfer_p99_ms} ms"
        )
