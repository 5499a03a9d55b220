"""The read model's side of the bank: a batch of events and feedback, written in one transaction.

Read-your-writes: a command's answer is told only once every event it caused (balance changes, an account's
new alert rules) is in the read model, so a client that reads right after its answer sees them. The feedback
says how many events there are; whichever projector writes the last of them (or the feedback, if the events
came first) tells the answer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from django.db import connection, transaction

from accounts.commands import AccountAnswer
from accounts.projections import record_account_creation
from alerts.models import Alert, ProjectedRuleSettings
from alerts.notices import alerts_fired
from alerts.projections import RuleSettings, record_alerts, record_rule_settings
from alerts.rules import FiredAlert
from banking.answers import Answer, answer_as_data, answer_from_data, answers_told
from banking.copies import SERVING, writing_to
from banking.models import PendingAnswer
from kernel.databases import advisory_lock_key
from kernel.live import Notification
from transfers.models import Transaction
from transfers.notices import transactions_created
from transfers.projections import BalanceChangedEvent, record_balance_changes


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

    def notifications(self) -> list[Notification]:
        """What to tell live once the batch is written (so that a page reloaded on an answer shows its rows):
        the answers, the new transactions, the fired alerts."""
        return [*answers_told(self.answers), *transactions_created(self.rows), *alerts_fired(self.alerts)]


def project(
    events: Sequence[BalanceChangedEvent],
    feedback: Sequence[Feedback],
    settings: Sequence[RuleSettings] = (),
    fired: Sequence[FiredAlert] = (),
    copy: str = SERVING,
) -> Projected:
    """Store a batch in one transaction, in the serving copy of the read model or another (`banking.copies`):
    events, feedback, alert settings and alerts; return what to tell."""
    with transaction.atomic():
        writing_to(copy)
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


def _events_per_command(events: Sequence[BalanceChangedEvent | RuleSettings]) -> Counter[UUID]:
    """How many distinct events of each command a batch holds (an event read twice counts once)."""
    distinct = {
        (event.command_id, event.event_index if isinstance(event, BalanceChangedEvent) else None)
        for event in events
        if event.command_id is not None
    }
    return Counter(command_id for command_id, _ in distinct)


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
        keys = sorted({advisory_lock_key(command_id.bytes) for command_id in candidates})
        cursor.execute("SELECT count(pg_advisory_xact_lock(key)) FROM unnest(%s::bigint[]) AS key", [keys])
    PendingAnswer.objects.bulk_create(
        [
            PendingAnswer(command_id=item.command_id, events=item.events or 0, answer=answer_as_data(item.answer))
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
