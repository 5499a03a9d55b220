"""Opening accounts on the ledger (command side)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from accounts.commands import OpenAccount
from accounts.iban import new_iban, new_token
from accounts.ledger import Ledger
from accounts.models import ProcessedAccountCreation
from accounts.rules import IBAN_ALREADY_EXISTS, username_refusal
from kernel.rules import UUID_ALREADY_USED


@dataclass(frozen=True)
class AccountCreationOutcome:
    command_id: UUID
    iban: str = ""
    token: str = ""
    reason: str | None = None


def open_account(command: OpenAccount, *, delivery: str, ledger: Ledger) -> AccountCreationOutcome:
    """Open an account with a new IBAN and token, or repeat the stored answer for a known command id.

    A repeat is also how a returning user logs in: the same command id gives the same IBAN and token.
    """
    earlier = ledger.processed(ProcessedAccountCreation, command.command_id)
    if earlier is not None:
        if earlier.username != command.username:
            return AccountCreationOutcome(command.command_id, reason=UUID_ALREADY_USED)
        return AccountCreationOutcome(earlier.command_id, earlier.iban, earlier.token, earlier.reason or None)
    if reason := username_refusal(command.username):
        return AccountCreationOutcome(command.command_id, reason=reason)  # not stored: it may not even be storable
    iban, token, reason = new_iban(), new_token(), None
    if ledger.is_taken(iban):
        iban, token, reason = "", "", IBAN_ALREADY_EXISTS
    else:
        ledger.open(username=command.username, iban=iban, token=token)
    ledger.handled(
        ProcessedAccountCreation(
            command_id=command.command_id,
            username=command.username,
            iban=iban,
            token=token,
            reason=reason or "",
            delivery=delivery,
        )
    )
    return AccountCreationOutcome(command.command_id, iban, token, reason)
