"""Write the transactions of the read model from balance changes: idempotent, so replays and duplicates
change nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import connection

from kernel.balances import BalanceChange
from transfers.models import DailyTotal, LatestTransaction, Transaction


@dataclass(frozen=True)
class BalanceChangedEvent:
    """A balance change, where its event sits in its topic, and which command caused it (if it says)."""

    change: BalanceChange
    partition: int
    offset: int
    command_id: UUID | None = None
    event_index: int | None = None


def record_balance_changes(events: Sequence[BalanceChangedEvent]) -> list[Transaction]:
    """Store one transaction per event (events already stored are skipped) and point each account at its newest;
    return the rows of all of them, in the events' order, in one statement (the projector's hot path).

    A row missing from the answer is an event published again at another offset: its row is already there,
    under the offset it first came at.
    """
    if not events:
        return []
    columns = (
        "id, iban, new_balance_cents, changed_by_cents, counterparty, description, source_partition, source_offset, "
        "changed_at, reference"
    )
    transactions, latest, daily = (m._meta.db_table for m in (Transaction, LatestTransaction, DailyTotal))
    sql = f"""
        WITH event AS (
            SELECT * FROM unnest(%s::text[], %s::bigint[], %s::bigint[], %s::text[], %s::text[], %s::int[],
                                 %s::bigint[], %s::uuid[], %s::smallint[], %s::timestamptz[], %s::text[])
                WITH ORDINALITY AS e(iban, new_balance, changed_by, counterparty, description, part, off, command_id,
                                     event_index, changed_at, reference, n)
        ), new AS (
            INSERT INTO {transactions} (iban, new_balance_cents, changed_by_cents, counterparty, description,
                                        source_partition, source_offset, command_id, event_index, changed_at,
                                        reference, created_at)
            SELECT iban, new_balance, changed_by, counterparty, description, part, off, command_id, event_index,
                   changed_at, coalesce(reference, ''), now()
            FROM event ORDER BY n
            ON CONFLICT DO NOTHING  -- either identity: the command's event, or the topic partition and offset
            RETURNING {columns}
        ), newest AS (
            INSERT INTO {latest} AS l (iban, transaction_id)
            SELECT iban, max(id) FROM new GROUP BY iban ORDER BY iban
            ON CONFLICT (iban) DO UPDATE SET transaction_id = excluded.transaction_id
            WHERE l.transaction_id < excluded.transaction_id
        ), days AS (
            INSERT INTO {daily} AS d (iban, day, credits_cents, debits_cents, changes, closing_balance_cents,
                                      last_changed_at, last_offset)
            SELECT iban, (changed_at AT TIME ZONE 'UTC')::date, sum(greatest(changed_by_cents, 0)),
                   sum(greatest(-changed_by_cents, 0)), count(*),
                   (array_agg(new_balance_cents ORDER BY changed_at DESC, source_offset DESC))[1],
                   max(changed_at), (array_agg(source_offset ORDER BY changed_at DESC, source_offset DESC))[1]
            FROM new WHERE changed_at IS NOT NULL
            GROUP BY 1, 2 ORDER BY 1, 2
            ON CONFLICT (iban, day) DO UPDATE SET
                credits_cents = d.credits_cents + excluded.credits_cents,
                debits_cents = d.debits_cents + excluded.debits_cents,
                changes = d.changes + excluded.changes,
                closing_balance_cents = CASE WHEN (excluded.last_changed_at, excluded.last_offset)
                    > (d.last_changed_at, d.last_offset) THEN excluded.closing_balance_cents
                    ELSE d.closing_balance_cents END,
                last_changed_at = greatest(d.last_changed_at, excluded.last_changed_at),
                last_offset = CASE WHEN (excluded.last_changed_at, excluded.last_offset)
                    > (d.last_changed_at, d.last_offset) THEN excluded.last_offset ELSE d.last_offset END
        ), stored AS (
            SELECT {columns} FROM new
            UNION ALL
            SELECT {", ".join(f"t.{c}" for c in columns.split(", "))} FROM {transactions} t
            JOIN event ON t.source_partition = event.part AND t.source_offset = event.off
        )
        SELECT stored.* FROM stored
        JOIN event ON stored.source_partition = event.part AND stored.source_offset = event.off
        ORDER BY event.n"""
    params: list[Any] = [
        [e.change.iban for e in events],
        [e.change.new_balance_cents for e in events],
        [e.change.changed_by_cents for e in events],
        [e.change.counterparty for e in events],
        [e.change.description for e in events],
        [e.partition for e in events],
        [e.offset for e in events],
        [e.command_id for e in events],
        [e.event_index for e in events],
        [e.change.changed_at for e in events],
        [e.change.reference for e in events],
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    return [
        Transaction(
            id=row[0],
            iban=row[1],
            new_balance_cents=row[2],
            changed_by_cents=row[3],
            counterparty=row[4],
            description=row[5],
            source_partition=row[6],
            source_offset=row[7],
            changed_at=row[8],
            reference=row[9],
        )
        for row in found
    ]
