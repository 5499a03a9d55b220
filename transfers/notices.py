"""A transaction as the read side tells it: to live listeners, the GraphQL API and the pages. Money in cents.

Each new transaction goes to the all-transactions group and to its account's.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kernel.live import Notification, group_for
from transfers.models import Transaction

ALL_TRANSACTIONS = "transactions.all"
TRANSACTION_CREATED = "transaction.created"


def transactions_group(iban: str) -> str:
    return group_for("transactions", iban)


@dataclass(frozen=True)
class TransactionNotice:
    id: int
    iban: str
    new_balance_cents: int
    changed_by_cents: int  # negative for a debit
    counterparty: str  # the other IBAN, or a name such as cash
    description: str
    reference: str = ""
    changed_at: datetime | None = None

    @property
    def direction(self) -> str:
        """DEBIT when money left the account, CREDIT otherwise (0 counts as CREDIT, as in the original)."""
        return Transaction.Direction.DEBIT if self.changed_by_cents < 0 else Transaction.Direction.CREDIT

    @property
    def is_debit(self) -> bool:
        return self.changed_by_cents < 0

    @classmethod
    def of(cls, row: Transaction) -> TransactionNotice:
        return cls(
            row.pk,
            row.iban,
            row.new_balance_cents,
            row.changed_by_cents,
            row.counterparty,
            row.description,
            row.reference,
            row.changed_at,
        )

    def as_message(self) -> dict[str, Any]:
        """As the channel layer carries it (plain data: the time as ISO 8601 text)."""
        return dataclasses.asdict(self) | {"changed_at": self.changed_at and self.changed_at.isoformat()}

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> TransactionNotice:
        at = data.get("changed_at")
        return cls(**data | {"changed_at": at and datetime.fromisoformat(at)})


def transactions_created(rows: list[Transaction]) -> list[Notification]:
    """Each new transaction goes to the all-transactions feed and to its account's group."""
    return [
        (group, {"type": TRANSACTION_CREATED, "transaction": TransactionNotice.of(row).as_message()})
        for row in rows
        for group in (ALL_TRANSACTIONS, transactions_group(row.iban))
    ]
