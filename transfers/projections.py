"""Write the transactions of the read model from balance changes: idempotent, so replays and duplicates
change nothing."""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from uuid import UUID

from django.db import connection, transaction
from django.db.models import Q

from transfers.models import LatestTransaction, Transaction


@dataclass(frozen=True)
class BalanceChangedEvent:
    """A BalanceChanged event, where it sits in its topic, and which command caused it (if it says)."""

    partition: int
    offset: int
    iban: str
    new_balance_cents: int
    changed_by_cents: int
    counterparty: str
    description: str
    command_id: UUID | None = None
    event_index: int | None = None


def record_balance_changes(events: Sequence[BalanceChangedEvent]) -> list[Transaction]:
    """Store one transaction per event (events already stored are skipped); return the rows of all of them."""
    if not events:
        return []
    with transaction.atomic(savepoint=False):  # inside `project`'s transaction, a savepoint would buy nothing
        Transaction.objects.bulk_create(
            [
                Transaction(
                    iban=e.iban,
                    new_balance_cents=e.new_balance_cents,
                    changed_by_cents=e.changed_by_cents,
                    counterparty=e.counterparty,
                    description=e.description,
                    source_partition=e.partition,
                    source_offset=e.offset,
                    command_id=e.command_id,
                    event_index=e.event_index,
                )
                for e in events
            ],
            ignore_conflicts=True,  # on either identity: the command's event, or the topic partition and offset
        )
        # Read the rows back in the same transaction, so nothing (a rebuild's delete) can come between.
        # Per partition, its own offsets: "partition in P and offset in O" would also match every
        # other partition's rows at those offsets, up to |P| x |O| rows for a batch of |O| events.
        offsets_by_partition = defaultdict(set)
        for e in events:
            offsets_by_partition[e.partition].add(e.offset)
        these = reduce(
            operator.or_,
            (Q(source_partition=p, source_offset__in=offsets) for p, offsets in offsets_by_partition.items()),
        )
        stored = {(t.source_partition, t.source_offset): t for t in Transaction.objects.filter(these)}
        rows = [stored[key] for key in ((e.partition, e.offset) for e in events) if key in stored]
        record_latest_transactions(rows)
    # Missing: an event published again at another offset (its row is already there), or a row a rebuild
    # deleted meanwhile (the rebuild's replay brings it back).
    return rows


def record_latest_transactions(rows: Sequence[Transaction]) -> None:
    """Point each account at its newest transaction: ids grow in the order an account's events are stored."""
    newest: dict[str, int] = {}
    for row in rows:
        newest[row.iban] = max(newest.get(row.iban, 0), row.pk)
    if not newest:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {LatestTransaction._meta.db_table} AS latest (iban, transaction_id)
                SELECT * FROM unnest(%s::text[], %s::bigint[]) ORDER BY 1
                ON CONFLICT (iban) DO UPDATE SET transaction_id = excluded.transaction_id
                WHERE latest.transaction_id < excluded.transaction_id""",
            [list(newest), list(newest.values())],
        )
