"""The read side's logins: a Django user per customer, with the id of their account-creation command."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid4

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from accounts.models import Customer


@dataclass(frozen=True)
class KnownLogin:
    command_id: UUID  # of their ConfirmAccountCreation: sending it again gives the same IBAN and token
    password_hash: str


def find_login(username: str) -> KnownLogin | None:
    customer = Customer.objects.select_related("user").filter(user__username=username).first()
    return None if customer is None else KnownLogin(customer.command_id, customer.user.password)


def register(username: str, password_hash: str) -> KnownLogin | None:
    """A new user with an already hashed password, and a fresh command id; None if the name was just taken."""
    try:
        with transaction.atomic():
            user = User.objects.create(username=username, password=password_hash)
            customer = Customer.objects.create(user=user, command_id=uuid4())
    except IntegrityError:
        return None
    return KnownLogin(customer.command_id, password_hash)


def set_alert_email(username: str, email: str) -> bool:
    """Where the customer's alerts are mailed ("" for nowhere); False when it is no e-mail address."""
    if email:
        try:
            validate_email(email)
        except ValidationError:
            return False
    return Customer.objects.filter(user__username=username).update(email=email) == 1


def alert_email_of(username: str) -> str:
    return Customer.objects.filter(user__username=username).values_list("email", flat=True).first() or ""
