"""Opening accounts on the ledger (command side)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from accounts.iban import new_iban, new_token
from accounts.ledger import Ledger
from accounts.models import ProcessedAccountCreation

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
