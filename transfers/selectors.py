"""Reads of the read model: transactions as the GraphQL API and the pages list them."""

from __future__ import annotations

from datetime import datetime

from django.db.models import F, QuerySet

from kernel.rules import MAX_IBAN, is_plain_text
from transfers.models import DailyTotal, Transaction
from transfers.notices import TransactionNotice


def get_transaction(transaction_id: int) -> Transaction | None:
    return Transaction.objects.filter(pk=transaction_id).first()


def list_transactions_for_iban(
    iban: str,
    limit: int,
    before_id: int | None = None,
    reference: str | None = None,
    *,
    until: datetime | None = None,
    since: datetime | None = None,
) -> QuerySet[Transaction]:
    """The newest `limit` transactions of an account, newest first: older than `before_id`, whose payment reference
    contains `reference` (in any case), made at or before `until` and after `since`, each if given."""
    # Both orders are the ledger's; the second reads the as-of index from `until` back instead of every row after it.
    rows = Transaction.objects.filter(iban=iban).order_by("-id") if until is None else changes_until(iban, until)
    if before_id is not None:
        rows = rows.filter(id__lt=before_id)
    if reference:
        rows = rows.filter(reference__icontains=reference)
    if since is not None:
        rows = rows.filter(changed_at__gt=since)
    return rows[: max(limit, 0)]


def changes_until(iban: str, at: datetime | None) -> QuerySet[Transaction]:
    """An account's changes made at or before `at` (all if None), the last first. An account's events are keyed by
    its owner, so they sit in one partition, in the order the ledger made them: the offset orders changes of one
    moment (a batch's changes share it)."""
    rows = Transaction.objects.filter(iban=iban)
    if at is not None:
        rows = rows.filter(changed_at__lte=at)
    return rows.order_by(F("changed_at").desc(nulls_last=True), "-source_offset")


def balance_at(iban: str, at: datetime) -> int | None:
    """The account's balance in cents after every change made at or before `at`; None before its first change."""
    return changes_until(iban, at).values_list("new_balance_cents", flat=True).first()


def balance_steps(iban: str, at: datetime | None, limit: int) -> list[Transaction]:
    """The newest `limit` changes that make up the account's balance at `at` (now if None), oldest first."""
    return list(reversed(changes_until(iban, at)[: max(limit, 0)]))


def newest_notices(iban: str, limit: int, until: datetime | None = None) -> list[TransactionNotice]:
    """The newest `limit` transactions of an account (made at or before `until`, if given) as notices, newest
    first: what a feed shows (none for an IBAN no account can have: a page's address or a feed's query may hold
    anything)."""
    if not is_plain_text(iban, MAX_IBAN):
        return []
    return [TransactionNotice.of(row) for row in list_transactions_for_iban(iban, limit, until=until)]


def list_last_transaction_per_iban(after: str = "") -> QuerySet[Transaction]:
    """The latest transaction of each account that has one, by IBAN, from after `after` (from the first for
    text no IBAN can be); slice it to page it."""
    latest = Transaction.objects.filter(latest_of__isnull=False).order_by("latest_of__iban")
    return latest.filter(latest_of__iban__gt=after) if after and is_plain_text(after, MAX_IBAN) else latest


def daily_totals(iban: str, limit: int, until: datetime | None = None) -> list[DailyTotal]:
    """An account's last `limit` days with changes (up to `until`'s day, if given), the latest first."""
    if not is_plain_text(iban, MAX_IBAN):
        return []
    days = DailyTotal.objects.filter(iban=iban)
    if until is not None:
        days = days.filter(day__lte=until.date())
    return list(days.order_by("-day")[: max(limit, 0)])


def count_undated_transactions() -> int:
    """Rows projected before the read model kept when each change was made: answers about the past miss them."""
    return Transaction.objects.filter(changed_at__isnull=True).count()
