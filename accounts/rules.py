"""What a customer may type: the checks the web edge and the command handler both make, in one place.

Anyone with access to Kafka can send a command without our API, so the handler checks again what the
edge already checked. Reasons are in the original's style (`from is invalid`).
"""

from __future__ import annotations

from kernel.rules import INVALID_TOKEN, MAX_IBAN, MAX_TOKEN, MAX_USERNAME, is_plain_text

MIN_USERNAME = 8  # the original's GraphQL endpoint asked for 8 characters at least
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # hashing cost does not grow with the length, but nobody types more

USERNAME_IS_INVALID = "username is invalid"
USERNAME_TOO_SHORT = "username needs at least 8 characters"
PASSWORD_IS_INVALID = "password is invalid"
PASSWORD_TOO_SHORT = "password needs at least 8 characters"
IBAN_IS_INVALID = "iban is invalid"
IBAN_ALREADY_EXISTS = "generated iban already exists, try again"  # the original's


def username_refusal(username: str) -> str | None:
    """Why the ledger cannot take this username (as a command's key or an account's owner), or None."""
    if not is_plain_text(username, MAX_USERNAME) or not username.strip():
        return USERNAME_IS_INVALID
    return None


def account_refusal(iban: str, token: str) -> str | None:
    """Why `iban` and `token` cannot name one of our accounts and prove its owner, before anything is looked up."""
    if not is_plain_text(iban, MAX_IBAN) or not iban.strip():
        return IBAN_IS_INVALID
    if not is_plain_text(token, MAX_TOKEN):
        return INVALID_TOKEN
    return None


def login_refusal(username: str, password: str) -> str | None:
    """Why a login or registration is refused before anything is looked up, or None."""
    if reason := username_refusal(username):
        return reason
    if len(username) < MIN_USERNAME:
        return USERNAME_TOO_SHORT
    if not is_plain_text(password, MAX_PASSWORD):
        return PASSWORD_IS_INVALID
    if len(password) < MIN_PASSWORD:
        return PASSWORD_TOO_SHORT
    return None
