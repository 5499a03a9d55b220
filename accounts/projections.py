"""Complete or undo customers from the ledger's answers to their account creation."""

from __future__ import annotations

from uuid import UUID

from django.db import transaction

from accounts.models import Customer


def record_account_creation(*, command_id: UUID, iban: str, token: str, reason: str | None) -> None:
    """Give the customer their IBAN and token; when the creation failed, free the username for another try."""
    with transaction.atomic():
        customer = Customer.objects.select_related("user").filter(command_id=command_id).first()
        if customer is None:
            return  # created by another client of the topics, or already undone
        if reason:
            customer.user.delete()
        elif (customer.iban, customer.token) != (iban, token):
            customer.iban, customer.token = iban, token
            customer.save(update_fields=["iban", "token"])
