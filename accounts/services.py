"""Opening accounts on the ledger (command side)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid4

from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from accounts.iban import new_iban, new_token
from accounts.ledger import Ledger
from accounts.models import Customer, ProcessedAccountCreation

IBAN_ALREADY_EXISTS = "generated iban already exists, try again"
USERNAME_REQUIRED = "username is required"


@dataclass(frozen=True)
class OpenAccount:
    """The ConfirmAccountCreation command. `delivery` says where it was read from (opaque to the domain)."""

    command_id: UUID
    username: str
    delivery: str


@dataclass(frozen=True)
class AccountCreationOutcome:
    command_id: UUID
    iban: str = ""
    token: str = ""
    reason: str | None = None


def open_account(
    command: OpenAccount, *, ledger: Ledger, processed: dict[UUID, ProcessedAccountCreation]
) -> AccountCreationOutcome:
    """Open an account with a new IBAN and token, or repeat the stored answer for a known command id.

    A repeat is also how a returning user logs in: the same command id gives the same IBAN and token.
    """
    earlier = processed.get(command.command_id)
    if earlier is not None:
        return AccountCreationOutcome(earlier.command_id, earlier.iban, earlier.token, earlier.reason or None)
    iban, token, reason = new_iban(), new_token(), None
    if not command.username.strip():
        reason = USERNAME_REQUIRED
    elif ledger.is_taken(iban):
        reason = IBAN_ALREADY_EXISTS
    else:
        ledger.open(username=command.username, iban=iban, token=token)
    if reason:
        iban, token = "", ""
    processed[command.command_id] = ProcessedAccountCreation(
        command_id=command.command_id,
        username=command.username,
        iban=iban,
        token=token,
        reason=reason or "",
        delivery=command.delivery,
    )
    return AccountCreationOutcome(command.command_id, iban, token, reason)


# The read side's logins (create-or-login, as the original's get_account).
INCORRECT_PASSWORD = "incorrect password"
USERNAME_TOO_SHORT = "username needs at least 8 characters"
PASSWORD_TOO_SHORT = "password needs at least 8 characters"
MINIMUM_LENGTH = 8


@dataclass(frozen=True)
class Login:
    """Who logged in and the account-creation command to (re)send for them, or why not."""

    username: str
    command_id: UUID | None = None
    reason: str | None = None


def register_or_log_in(*, username: str, password: str) -> Login:
    """Log an existing user in, or register a new one; both give the id of their account-creation command.

    A new username gets a Django user (password hashed) and a customer with a fresh command id; the
    account itself is opened by the command handler when that command arrives.
    """
    if len(username) < MINIMUM_LENGTH:
        return Login(username, reason=USERNAME_TOO_SHORT)
    if len(password) < MINIMUM_LENGTH:
        return Login(username, reason=PASSWORD_TOO_SHORT)
    customer = Customer.objects.select_related("user").filter(user__username=username).first()
    if customer is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(username=username, password=password)
                customer = Customer.objects.create(user=user, command_id=uuid4())
            return Login(username, customer.command_id)
        except IntegrityError:  # registered a moment ago by another request: log in instead
            customer = Customer.objects.select_related("user").get(user__username=username)
    if authenticate(username=username, password=password) is None:
        return Login(username, reason=INCORRECT_PASSWORD)
    return Login(username, customer.command_id)
