"""manage.py sync_topology: make the Kafka cluster and the schema registry match the declared topology."""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kafka_bridge import clients
from kafka_bridge.logging import silent_librdkafka_logger
from kafka_bridge.wire.codecs import registry_client
from kafka_bridge.wire.sync import TopologySync
from kafka_bridge.wire.topology import TopologyError, get_topology


class Command(BaseCommand):
    help = "Register the schemas and create or fix the topics declared in the topology file."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
        parser.add_argument(
            "--check", action="store_true", help="change nothing; exit with status 1 when anything would change"
        )
        parser.add_argument(
            "--prune", action="store_true", help="also delete topics that are not in the topology (never internal ones)"
        )
        parser.add_argument(
            "--wait",
            type=float,
            default=0,
            metavar="SECONDS",
            help="wait up to SECONDS for the broker and the registry to answer",
        )

    def handle(self, *args, dry_run: bool, check: bool, prune: bool, wait: float, **options):
        try:
            topology = get_topology()
        except TopologyError as error:
            raise CommandError(str(error)) from error
        sync = TopologySync(clients.admin(logger=silent_librdkafka_logger()), registry_client(), topology)
        try:
            if wait:
                self.stdout.write(
                    f"waiting up to {wait:.0f}s for {settings.KAFKA_BOOTSTRAP_SERVERS} "
                    f"and {settings.SCHEMA_REGISTRY_URL}..."
                )
            sync.wait_until_reachable(wait)
            plan = sync.plan(prune=prune)
        except Exception as error:
            raise CommandError(f"cannot read the cluster or the registry: {error}") from error

        for problem in plan.problems:
            self.stderr.write(self.style.ERROR(f"! {problem}"))
        if plan.in_sync:
            self.stdout.write(self.style.SUCCESS("Nothing to do: the cluster and the registry match the topology."))
            return
        if plan.changes:
            self.stdout.write("Plan:" if (dry_run or check) else "Applying:")
            for change in plan.changes:
                self.stdout.write(f"  {change}")
        if plan.problems:
            raise CommandError(f"{len(plan.problems)} problem(s) the sync cannot fix; nothing was changed.")
        if dry_run or check:
            if check:
                sys.exit(1)
            return
        try:
            sync.apply(plan, report=lambda line: self.stdout.write(line))
            remaining = sync.settled_plan(prune=prune)
        except Exception as error:
            raise CommandError(f"sync failed part-way; run it again to finish: {error}") from error
        if not remaining.in_sync:
            raise CommandError(
                "after the sync the cluster still differs: "
                + "; ".join(map(str, remaining.changes))
                + "; ".join(remaining.problems)
            )
        self.stdout.write(self.style.SUCCESS(f"Done: {len(plan.changes)} change(s) applied."))
