"""What every command's checks share: plain text, and the reasons more than one kind of command gives."""

from __future__ import annotations

import unicodedata

UUID_ALREADY_USED = "uuid already used for another command"  # a command id reused with another payload
INVALID_TOKEN = "invalid token"  # the original's: the token is the only authorisation of an account
MAX_TOKEN = 64  # tokens have 20 digits; anything much longer is not worth looking up
# The sizes every layer shares (the domain's checks, the rows' columns, the handler's bounds on a record).
MAX_USERNAME = 150  # Django's own limit for a username
MAX_IBAN = 34  # the longest IBAN there is; also the longest name of another bank's customer
MAX_DESCRIPTION = 140  # of a transfer, and the text an alert rule looks for in one
MAX_AMOUNT_CENTS = 10**15  # ten trillion euro: beyond any real transfer (or alert threshold), far from a bigint


def is_plain_text(value: object, max_length: int) -> bool:
    """True for a string of at most `max_length` characters without control characters (NUL, newlines, ...)."""
    return (
        isinstance(value, str)
        and len(value) <= max_length
        and not any(unicodedata.category(c) in ("Cc", "Cs") for c in value)
    )
