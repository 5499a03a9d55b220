"""Reads of the read model: transactions as the GraphQL API and the pages list them."""

from __future__ import annotations

from django.db.models import QuerySet

from kernel.rules import MAX_IBAN, is_plain_text
from transfers.models import Transaction
from transfers.notices import TransactionNotice


def get_transaction(transaction_id: int) -> Transaction | None:
    return Transaction.objects.filter(pk=transaction_id).first()


def list_transactions_for_iban(
    iban: str, limit: int, before_id: int | None = None, reference: str | None = None
) -> QuerySet[Transaction]:
    """The newest `limit` transactions of an account (older than `before_id`, and whose payment reference contains
    `reference`, in any case, if given), newest first."""
    rows = Transaction.objects.filter(iban=iban)
    if before_id is not None:
        rows = rows.filter(id__lt=before_id)
    if reference:
        rows = rows.filter(reference__icontains=reference)
    return rows.order_by("-id")[: max(limit, 0)]


def newest_notices(iban: str, limit: int) -> list[TransactionNotice]:
    """The newest `limit` transactions of an account as notices, newest first: what a feed shows (none for
    an IBAN no account can have: a page's address or a feed's query may hold anything)."""
    if not is_plain_text(iban, MAX_IBAN):
        return []
    return [TransactionNotice.of(row) for row in list_transactions_for_iban(iban, limit)]


def list_last_transaction_per_iban(after: str = "") -> QuerySet[Transaction]:
    """The latest transaction of each account that has one, by IBAN, from after `after` (from the first for
    text no IBAN can be); slice it to page it."""
    latest = Transaction.objects.filter(latest_of__isnull=False).order_by("latest_of__iban")
    return latest.filter(latest_of__iban__gt=after) if after and is_plain_text(after, MAX_IBAN) else latest
