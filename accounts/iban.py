"""OPEN bank account numbers (ISO 13616 mod-97, `NL` + check digits + `OPEN` + 10 digits) and tokens."""

from __future__ import annotations

import re
import secrets
import unicodedata

COMPANY_IBAN = "NL66OPEN0000000000"
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


def names_this_bank(value: str) -> bool:
    """True when `value` is meant as one of our IBANs: it carries our bank code, `OPEN`, where IBANs have it."""
    return len(value) >= 8 and value[4:8].upper() == "OPEN" and value[:2].isalpha()


def looks_like_an_iban(value: str) -> bool:
    """True when a (normalized) account reads as an IBAN of some bank, rather than a name."""
    return _IBAN_SHAPE.fullmatch(value) is not None


def is_valid_iban(value: str) -> bool:
    """True for an IBAN of any bank whose check digits are right (ISO 13616 mod-97)."""
    if not _IBAN_SHAPE.fullmatch(value):
        return False
    rearranged = value[4:] + value[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


_IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
# What people put between the groups of an IBAN, and the word some write in front of it (`IBAN: NL66 ...`).
_SEPARATORS = re.compile(r"[\s\-.\u2010-\u2015/_:]")
_PREFIX = re.compile(r"^IBAN:?", re.IGNORECASE)
# Cyrillic and Greek capitals that look like Latin ones (NFKC keeps them apart): `NL66 OРEN ...` with a
# Cyrillic Р is our IBAN to a reader, and was once another bank's customer's name, so the money left.
_LOOK_ALIKES = str.maketrans("АВЕКМНОРСТУХІЈЅΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEKMHOPCTYXIJSABEZHIKMNOPTYX")


def normalized_account(value: str) -> str:
    """An account as typed, made canonical: an IBAN without separators in upper case (`nl66-open 0000.0000 00`,
    `IBAN NL66...`, `NL66_OPEN:...`, full-width letters, Cyrillic or Greek look-alikes); `cash` in any case;
    anything else (another bank's customer by name) as given, trimmed. Unicode is read as NFKC, and invisible
    format characters (a zero-width space) go."""
    text = "".join(c for c in unicodedata.normalize("NFKC", value) if unicodedata.category(c) != "Cf").strip()
    if text.lower() == CASH:
        return CASH
    compact = _SEPARATORS.sub("", _PREFIX.sub("", text.strip())).upper().translate(_LOOK_ALIKES)
    return compact if _IBAN_SHAPE.fullmatch(compact) else text


def new_token() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(20))
