"""What every command's checks share: plain text, and the reasons more than one kind of command gives."""

from __future__ import annotations

import unicodedata

UUID_ALREADY_USED = "uuid already used for another command"  # a command id reused with another payload
INVALID_TOKEN = "invalid token"  # the original's: the token is the only authorisation of an account
MAX_TOKEN = 64  # tokens have 20 digits; anything much longer is not worth looking up


def is_plain_text(value: object, max_length: int) -> bool:
    """True for a string of at most `max_length` characters without control characters (NUL, newlines, ...)."""
    return (
        isinstance(value, str)
        and len(value) <= max_length
        and not any(unicodedata.category(c) in ("Cc", "Cs") for c in value)
    )
