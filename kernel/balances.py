"""A balance change: the fact the ledger makes, the alerts judge and the read model keeps, in one shape."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any


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
    changed_at: datetime | None = None  # the ledger's clock; None in outcomes stored before it was kept
    reference: str | None = None  # the payment reference of the transfer, if it had one

    def as_json(self) -> dict[str, Any]:
        """As the ledger stores it with its command's outcome, to publish it again the same."""
        stored = asdict(self)
        stored["changed_at"] = None if self.changed_at is None else self.changed_at.isoformat()
        return stored

    @classmethod
    def from_json(cls, stored: dict[str, Any]) -> BalanceChange:
        """Keys of a later version are left out: a handler rolled back can still publish what a newer one stored."""
        known = {field.name for field in fields(cls)}
        at = stored.get("changed_at")
        kept = {key: value for key, value in stored.items() if key in known}
        return cls(**kept | {"changed_at": None if at is None else datetime.fromisoformat(at)})
