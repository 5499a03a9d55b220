"""Write the read model from events: idempotent, so replays and duplicates change nothing.

Read-your-writes: a command's answer is told only once every event it caused (balance changes, an account's
new alert rules) is in the read model, so a client that reads right after its answer sees them. The feedback
says how many events there are; whichever projector writes the last of them (or the feedback, if the events
came first) tells the answer.
"""

from __future__ import annotations

import hashlib
import operator
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import reduce
from uuid import UUID

from django.db import connection, transaction
from django.db.models import Q

from accounts.commands import AccountAnswer
from accounts.projections import record_account_creation
from alerts.models import Alert, ProjectedRuleSettings
from alerts.projections import FiredAlert, RuleSettings, record_alerts, record_rule_settings
from transfers.answers import Answer, answer_as_data, answer_from_data
from transfers.models import LatestTransaction, PendingAnswer, Transaction


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


@dataclass(frozen=True)
class Feedback:
    """The bank's answer to a command, and how many events the command caused (None: it does not say)."""

    command_id: UUID
    answer: Answer
    events: int | None = None


@dataclass
class Projected:
    """What a batch added: new transaction rows, the answers that may be told now, new alerts."""

    rows: list[Transaction] = field(default_factory=list)
    answers: dict[UUID, Answer] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)

    def __add__(self, other: Projected) -> Projected:
        return Projected(self.rows + other.rows, {**self.answers, **other.answers}, self.alerts + other.alerts)


def project(
    events: Sequence[BalanceChangedEvent],
    feedback: Sequence[Feedback],
    settings: Sequence[RuleSettings] = (),
    fired: Sequence[FiredAlert] = (),
) -> Projected:
    """Store a batch in one transaction: events, feedback, alert settings and alerts; return what to tell."""
    with transaction.atomic():
        for update in settings:
            record_rule_settings(update)
        alerts = record_alerts(fired)
        rows = record_balance_changes(events)
        for item in feedback:
            if isinstance(item.answer, AccountAnswer):
                answer = item.answer
                record_account_creation(
                    command_id=item.command_id, iban=answer.iban or "", token=answer.token or "", reason=answer.reason
                )
        answers = _answers_ready(feedback, [*events, *settings])
    return Projected(rows, answers, alerts)


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


def _events_per_command(events: Sequence[BalanceChangedEvent | RuleSettings]) -> Counter[UUID]:
    """How many distinct events of each command a batch holds (an event read twice counts once)."""
    distinct = {
        (event.command_id, event.event_index if isinstance(event, BalanceChangedEvent) else None)
        for event in events
        if event.command_id is not None
    }
    return Counter(command_id for command_id, _ in distinct)


def _lock_key(command_id: UUID) -> int:
    return int.from_bytes(hashlib.blake2b(command_id.bytes, digest_size=8).digest(), "big", signed=True)


def _answers_ready(
    feedback: Sequence[Feedback], events: Sequence[BalanceChangedEvent | RuleSettings]
) -> dict[UUID, Answer]:
    """The answers whose events are all stored now: this batch's feedback, or answers waiting for its events.

    The usual case needs no query: the handler publishes a command's events and feedback in one transaction,
    so they mostly come in one batch. Otherwise two projectors may hold a command's feedback and its last
    event at once. Each locks the command (in one order, so they never deadlock) before it looks in the
    pending answers; the second sees what the first committed.
    """
    in_batch = _events_per_command(events)
    ready: dict[UUID, Answer] = {}
    waiting: dict[UUID, Feedback] = {}
    for item in feedback:
        # Ready: it caused no events (or does not say how many), or all of them are in this batch.
        if not item.events or in_batch[item.command_id] >= item.events:
            ready[item.command_id] = item.answer
        else:
            waiting[item.command_id] = item
    candidates = set(waiting) | {command_id for command_id in in_batch if command_id not in ready}
    if not candidates:
        return ready
    with connection.cursor() as cursor:
        keys = sorted({_lock_key(command_id) for command_id in candidates})
        cursor.execute("SELECT count(pg_advisory_xact_lock(key)) FROM unnest(%s::bigint[]) AS key", [keys])
    PendingAnswer.objects.bulk_create(
        [
            PendingAnswer(command_id=item.command_id, events=item.events, answer=answer_as_data(item.answer))
            for item in sorted(waiting.values(), key=lambda item: item.command_id)
        ],
        update_conflicts=True,
        unique_fields=["command_id"],
        update_fields=["events", "answer"],
    )
    pending = {p.command_id: p for p in PendingAnswer.objects.filter(command_id__in=candidates)}
    if not pending:
        return ready
    stored = Counter(Transaction.objects.filter(command_id__in=pending).values_list("command_id", flat=True))
    stored.update(ProjectedRuleSettings.objects.filter(command_id__in=pending).values_list("command_id", flat=True))
    complete = [command_id for command_id, p in pending.items() if stored[command_id] >= p.events]
    PendingAnswer.objects.filter(command_id__in=complete).delete()
    return {**ready, **{command_id: answer_from_data(pending[command_id].answer) for command_id in complete}}
