"""The pages' side of `PRIVATE_READS` (the rule: accounts.access): an account's page for the customer logged in to
it and staff (the admin's login), the pages of every account for staff only."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from channels.auth import get_user
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.access import PRIVATE_ACCOUNT, is_staff, may_read_account, may_read_every_account
from kernel.reads import read
from pages.session import SESSION_KEY

View = Callable[..., HttpResponse]


def may_read(request: HttpRequest, iban: str) -> bool:
    own_iban = (request.session.get(SESSION_KEY) or {}).get("iban")
    return may_read_account(iban, own_iban=own_iban, staff=is_staff(request.user))


def account_readers_only(view: View) -> View:
    """A view of the account `iban`, for those who may read it; others get 403 with the way in."""

    @functools.wraps(view)
    def guarded(request: HttpRequest, iban: str, *args: Any, **kwargs: Any) -> HttpResponse:
        if may_read(request, iban):
            return view(request, iban, *args, **kwargs)
        return render(request, "pages/private.html", {"reason": PRIVATE_ACCOUNT}, status=403)

    return guarded


def staff_only(view: View) -> View:
    """A view of every account, for staff when reads are private: others log in to the admin first."""

    @functools.wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if may_read_every_account(staff=is_staff(request.user)):
            return view(request, *args, **kwargs)
        return redirect_to_login(request.get_full_path(), "admin:login")

    return guarded


async def may_listen(scope: dict, iban: str | None) -> bool:
    """Whether a websocket (its scope, with the session) may follow the account `iban`, or every account."""
    if may_read_every_account(staff=False):
        return True
    staff = "session" in scope and is_staff(await get_user(scope))
    if iban is None:
        return may_read_every_account(staff=staff)
    own_iban = ((await scope["session"].aget(SESSION_KEY)) or {}).get("iban") if "session" in scope else None
    return await read(lambda: may_read_account(iban, own_iban=own_iban, staff=staff))
