from django import template

from kernel.money import format_euro

register = template.Library()


@register.filter
def euro(cents: int | None) -> str:
    """Cents as the bank shows money: `€1.234,56`."""
    return format_euro(cents or 0)


@register.filter
def euro_input(cents: int | None) -> str:
    """Cents as a person types euros into the transfer form: `1234,56`."""
    euros, rest = divmod(cents or 0, 100)
    return f"{euros},{rest:02d}"


@register.filter
def euro_amount(cents: int | None) -> str:
    """The size of a change, without its sign (the entry says debit or credit): `€12,34`."""
    return format_euro(abs(cents or 0))
