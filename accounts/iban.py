"""OPEN bank account numbers (ISO 13616 mod-97, `NL` + check digits + `OPEN` + 10 digits) and tokens."""

from __future__ import annotations

import re
import secrets

COMPANY_IBAN = "NL66OPEN0000000000"
COMPANY_USERNAME = "open_web"
COMPANY_TOKEN = "0" * 20
CASH = "cash"  # the outside world's money: a source for deposits, a target for withdrawals

# ISO 13616 turns letters into numbers (A=10 ... Z=35): OPEN -> 24251423, NL00 -> 232100.
_OPEN = "24251423"
_NL00 = "232100"


def check_digits(account_digits: str) -> str:
    return f"{98 - int(_OPEN + account_digits + _NL00) % 97:02d}"


def iban_for(account_digits: str) -> str:
    return f"NL{check_digits(account_digits)}OPEN{account_digits}"


def new_iban() -> str:
    """A random OPEN IBAN; like the original, the account number starts with 0 (room for 10^9 accounts)."""
    return iban_for("0" + "".join(secrets.choice("0123456789") for _ in range(9)))


def is_open_iban(value: str) -> bool:
    """True for a well-formed IBAN of this bank, whatever its characters (the original crashed on letters)."""
    digits = value[8:]
    return (
        len(value) == 18
        and value.startswith("NL")
        and value[4:8] == "OPEN"
        and digits.isascii()
        and digits.isdigit()
        and value == iban_for(digits)
    )


def looks_like_open_iban(value: str) -> bool:
    """True when `value` is meant as one of our IBANs (NL..OPEN...), well-formed or not."""
    return value[:2].upper() == "NL" and value[4:8].upper() == "OPEN"


_IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}")


def normalized_account(value: str) -> str:
    """An account as typed, made canonical: an IBAN without spaces in upper case (`nl66 open 0000 0000 00`);
    `cash` in any case; anything else (another bank's customer by name) as given, trimmed."""
    trimmed = value.strip()
    if trimmed.lower() == CASH:
        return CASH
    compact = "".join(trimmed.split()).upper()
    return compact if _IBAN_SHAPE.fullmatch(compact) else trimmed


def new_token() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(20))
