"""Reads of the read model: transactions as the GraphQL API and the pages list them."""

from __future__ import annotations

from django.db.models import Max, QuerySet

from transfers.models import Transaction
from transfers.notices import TransactionNotice


def get_transaction(transaction_id: int) -> Transaction | None:
    return Transaction.objects.filter(pk=transaction_id).first()


def list_transactions_for_iban(iban: str, limit: int) -> QuerySet[Transaction]:
    """The newest `limit` transactions of an account, newest first."""
    return Transaction.objects.filter(iban=iban).order_by("-id")[: max(limit, 0)]


def newest_notices(iban: str, limit: int) -> list[TransactionNotice]:
    """The newest `limit` transactions of an account as notices, newest first: what a feed shows."""
    return [TransactionNotice.of(row) for row in list_transactions_for_iban(iban, limit)]


def list_last_transaction_per_iban() -> QuerySet[Transaction]:
    """The latest transaction of every account that has one, by IBAN."""
    latest = Transaction.objects.values("iban").annotate(last=Max("id")).values("last")
    return Transaction.objects.filter(id__in=latest).order_by("iban")
