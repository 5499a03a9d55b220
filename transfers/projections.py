"""Write the read model from events: idempotent, so replays and duplicates change nothing."""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce

from django.db import transaction
from django.db.models import Q

from transfers.models import Transaction


@dataclass(frozen=True)
class BalanceChangedEvent:
    """A BalanceChanged event and where it sits in its topic."""

    partition: int
    offset: int
    iban: str
    new_balance_cents: int
    changed_by_cents: int
    counterparty: str
    description: str


def record_balance_changes(events: Sequence[BalanceChangedEvent]) -> list[Transaction]:
    """Store one transaction per event (events already stored are skipped); return the rows of all of them."""
    if not events:
        return []
    with transaction.atomic():
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
                )
                for e in events
            ],
            ignore_conflicts=True,
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
    # A row can be missing only if a rebuild deleted it meanwhile; the rebuild's replay brings it back.
    return [stored[key] for key in ((e.partition, e.offset) for e in events) if key in stored]
