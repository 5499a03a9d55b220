"""Amounts typed by people: euros with a decimal comma or point, rounded to cents (the original truncated)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

MAX_EUROS = Decimal("1000000000")


class AmountError(ValueError):
    pass


def parse_euros(text: str) -> int:
    """`11,11`, `11.11`, `1.234,56`, `1,234.56`, `0.29` -> cents; raise AmountError with a readable reason."""
    cleaned = text.strip().replace("€", "").replace(" ", "")
    if not cleaned:
        raise AmountError("enter an amount")
    last_separator = max(cleaned.rfind(","), cleaned.rfind("."))
    digits_after = len(cleaned) - last_separator - 1
    # `1.234` is a thousand and more; `0,295` and `11,11` are fractions (rounded to cents below).
    grouping = digits_after == 3 and cleaned[:last_separator].strip("0,.") != ""
    if last_separator >= 0 and not grouping:
        whole, fraction = cleaned[:last_separator], cleaned[last_separator + 1 :]
    else:
        whole, fraction = cleaned, ""
    whole = whole.replace(",", "").replace(".", "")
    try:
        euros = Decimal(f"{whole or '0'}.{fraction or '0'}")
    except InvalidOperation:
        raise AmountError(f"{text!r} is not an amount") from None
    if not euros.is_finite() or euros <= 0:
        raise AmountError("the amount must be more than zero")
    if euros > MAX_EUROS:
        raise AmountError("the amount is too large")
    return int((euros * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
