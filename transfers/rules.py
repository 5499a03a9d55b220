"""The rules a money transfer must pass before any account is looked at, for the web edge and the handler."""

from __future__ import annotations

from accounts.iban import CASH, is_open_iban, is_valid_iban, looks_like_an_iban, names_this_bank
from kernel.rules import (
    INVALID_TOKEN,
    MAX_AMOUNT_CENTS,
    MAX_DESCRIPTION,
    MAX_IBAN,
    MAX_TOKEN,
    UUID_ALREADY_USED,
    is_plain_text,
)

# The original's reasons, word for word: clients match on them.
FROM_IS_INVALID = "from is invalid"
FROM_AND_TO_ARE_THE_SAME = "from and to can't be same for transfer"
INSUFFICIENT_FUNDS = "insufficient funds"
BOTH_UNKNOWN = "both to and from not known at this bank"
# Ours: the original accepted these and did something surprising, or stopped.
AMOUNT_NOT_POSITIVE = "amount must be positive"
AMOUNT_TOO_LARGE = "amount is too large"
TO_IS_INVALID = "to is invalid"
BALANCE_TOO_LARGE = "the balance of to would be too large"
DESCRIPTION_IS_INVALID = "description is invalid"
REFERENCE_IS_INVALID = "reference is invalid"

MAX_REFERENCE = 35  # characters: SEPA's end-to-end and structured creditor references have at most 35

MAX_BALANCE_CENTS = 10**18  # ten times the company account's start; a bigint holds 9 times as much: no sum overflows

__all__ = ["INVALID_TOKEN", "MAX_TOKEN", "UUID_ALREADY_USED"]  # the kernel's, shared with the other commands


def transfer_refusal(
    *, amount_cents: int, from_account: str, to_account: str, description: str, reference: str | None = None
) -> str | None:
    """The reason to refuse a transfer before any account is looked at, or None. Accounts come normalized."""
    if amount_cents <= 0:
        return AMOUNT_NOT_POSITIVE
    if amount_cents > MAX_AMOUNT_CENTS:
        return AMOUNT_TOO_LARGE
    if from_account != CASH and not is_open_iban(from_account):
        return FROM_IS_INVALID
    if (
        not is_plain_text(to_account, MAX_IBAN)
        or not to_account.strip()
        or (names_this_bank(to_account) and not is_open_iban(to_account))
        or (looks_like_an_iban(to_account) and not is_valid_iban(to_account))
    ):
        return TO_IS_INVALID
    if not is_plain_text(description, MAX_DESCRIPTION):
        return DESCRIPTION_IS_INVALID
    if reference is not None and not is_plain_text(reference, MAX_REFERENCE):
        return REFERENCE_IS_INVALID
    if from_account == to_account:
        return FROM_AND_TO_ARE_THE_SAME
    return None
