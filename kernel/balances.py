"""A balance change: the fact the ledger makes, the alerts judge and the read model keeps, in one shape."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BalanceChange:
    """One account's balance moved: its owner (the event's key), the account, the balance after, by how much, with
    whom and why."""

    username: str
    iban: str
    new_balance_cents: int
    changed_by_cents: int
    counterparty: str
    description: str
