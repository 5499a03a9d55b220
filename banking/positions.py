"""How far the ledger has read its input, kept in the ledger transaction of every batch.

Kafka keeps a group's offsets too, but may lose them (an operator deletes the group, a retention runs out);
the ledger's own record then says where to resume, so history is never handled (and published) again. Whether
its last batch reached Kafka only Kafka can say: the caller asks it when the ledger does not know.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db import connections, transaction

from accounts.ledger import Write
from banking.models import InputPosition
from kernel.databases import LEDGER


@dataclass(frozen=True)
class Span:
    """The offsets of one partition that a batch took: from `start` to before `end`."""

    topic: str
    partition: int
    start: int
    end: int


def batch_write(consumer: str, spans: Sequence[Span]) -> Write:
    """The statement that keeps the batch's spans, to run with the batch's own writes. Reading on from a
    batch's end means that batch's output reached Kafka (its transaction committed before the next was read)."""
    table = InputPosition._meta.db_table
    return (
        f"""INSERT INTO {table} AS p (consumer, topic, partition, start, "end", published_to)
            SELECT %s, topic, partition, start, "end", start
            FROM unnest(%s::text[], %s::int[], %s::bigint[], %s::bigint[]) AS s(topic, partition, start, "end")
            ON CONFLICT (consumer, topic, partition) DO UPDATE SET
                published_to = CASE WHEN excluded.start >= p."end" THEN p."end" ELSE p.published_to END,
                start = excluded.start, "end" = excluded."end" """,
        [
            consumer,
            [s.topic for s in spans],
            [s.partition for s in spans],
            [s.start for s in spans],
            [s.end for s in spans],
        ],
    )


def record_batch(consumer: str, spans: Sequence[Span]) -> None:
    """Keep the batch's spans on their own, in the caller's ledger transaction (a batch nothing else ran for)."""
    if spans:
        sql, params = batch_write(consumer, spans)
        with connections[LEDGER].cursor() as cursor:
            cursor.execute(sql, params)


def resume_at(
    consumer: str, committed: dict[tuple[str, int], int], kept_in_kafka: Callable[[], dict[tuple[str, int], int]]
) -> dict[tuple[str, int], int]:
    """Where to read each partition from, where the ledger knows better than the group's `committed` offset
    (-1 for none); a partition missing from the answer starts at the group's offset. A partition the ledger
    has no record of is recorded at the group's offset, so that it knows it from now on.

    The group's offset is right when it is at or past the start of the ledger's last batch (at the start: that
    batch's Kafka transaction did not commit, and it is read again). Before it, or lost: the ledger's end if its
    last batch is known to be in Kafka, by the ledger (a later batch followed it) or by the positions that Kafka
    kept with its transactions (`kept_in_kafka`, asked only then); else its start, to publish that batch.
    """
    with transaction.atomic(using=LEDGER):
        known = {
            (p.topic, p.partition): p
            for p in InputPosition.objects.filter(consumer=consumer, topic__in={topic for topic, _ in committed})
        }
        InputPosition.objects.bulk_create(
            [
                InputPosition(consumer=consumer, topic=topic, partition=partition, start=k, end=k, published_to=k)
                for (topic, partition), k in committed.items()
                if (topic, partition) not in known and k >= 0
            ],
            ignore_conflicts=True,
        )
    behind = {key: known[key] for key, k in committed.items() if key in known and k < known[key].start}
    uncertain = [key for key, position in behind.items() if position.published_to < position.end]
    in_kafka = kept_in_kafka() if uncertain else {}
    return {
        key: position.end
        if position.published_to >= position.end or in_kafka.get(key, -1) >= position.end
        else position.start
        for key, position in behind.items()
    }
