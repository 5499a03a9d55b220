"""A transaction as the read side tells it: to live listeners, the GraphQL API and the pages. Money in cents."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from transfers.models import Transaction


@dataclass(frozen=True)
class TransactionNotice:
    id: int
    iban: str
    new_balance_cents: int
    changed_by_cents: int  # negative for a debit
    counterparty: str  # the other IBAN, or a name such as cash
    description: str

    @property
    def direction(self) -> str:
        """DEBIT when money left the account, CREDIT otherwise (0 counts as CREDIT, as in the original)."""
        return Transaction.Direction.DEBIT if self.changed_by_cents < 0 else Transaction.Direction.CREDIT

    @property
    def is_debit(self) -> bool:
        return self.changed_by_cents < 0

    @classmethod
    def of(cls, row: Transaction) -> TransactionNotice:
        return cls(row.pk, row.iban, row.new_balance_cents, row.changed_by_cents, row.counterparty, row.description)

    def as_message(self) -> dict[str, Any]:
        """As the channel layer carries it (plain data)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_message(cls, data: dict[str, Any]) -> TransactionNotice:
        return cls(**data)
