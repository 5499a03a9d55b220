"""Who may read an account's transactions and balance, now or in the past.

By default anyone, as in the original, whose clients read every account. With `settings.PRIVATE_READS`, an account
only its owner (its token, or a session logged in to it) and staff; every account at once, staff only.
"""

from __future__ import annotations

from django.conf import settings

from accounts.models import Customer

PRIVATE_ACCOUNT = "this account's transactions are private: give its token, or log in as its owner"
STAFF_ONLY = "the transactions of every account are private: log in as staff"


def reads_are_private() -> bool:
    return bool(settings.PRIVATE_READS)


def is_staff(user: object) -> bool:
    """Whether a Django user (or None, or an anonymous one) is staff who may read every account."""
    return bool(getattr(user, "is_active", False) and getattr(user, "is_staff", False))


def is_owner(iban: str, token: str | None) -> bool:
    """True when `token` is the account's token, as the read side knows it."""
    return bool(iban) and bool(token) and Customer.objects.filter(iban=iban, token=token).exists()


def may_read_account(iban: str, *, token: str | None = None, own_iban: str | None = None, staff: bool = False) -> bool:
    """Whether whoever gave `token`, is logged in to `own_iban` (or is staff) may read the account `iban`."""
    if not reads_are_private() or staff or (own_iban is not None and own_iban == iban):
        return True
    return is_owner(iban, token)


def may_read_every_account(*, staff: bool) -> bool:
    return staff or not reads_are_private()
