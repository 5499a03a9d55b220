"""Money is integer cents everywhere; only here does it become text, as the original showed it (nl_NL)."""


def format_euro(cents: int) -> str:
    """`€10,00`, `€1.234,56`, `-€5,00`: the euro sign, dots between thousands, a decimal comma."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign}€{euros:,}".replace(",", ".") + f",{rest:02d}"
