"""Customers' accounts on the read side, projected from the ledger's answers to account creations."""

from __future__ import annotations

from uuid import UUID

from accounts.models import Customer


def record_account_creation(*, command_id: UUID, iban: str, token: str, reason: str | None) -> None:
    """Keep the IBAN and token the ledger gave a creation (the same again when it is read twice)."""
    if reason:
        return  # nothing opened: the login renews its command id and tries again (accounts.commands)
    Customer.objects.update_or_create(command_id=command_id, defaults={"iban": iban, "token": token})
