from django import template

from transfers.money import format_euro

register = template.Library()


@register.filter
def euro(cents: int | None) -> str:
    """Cents as the bank shows money: `€1.234,56`."""
    return format_euro(cents or 0)
