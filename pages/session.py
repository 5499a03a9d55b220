"""What the pages keep in a visitor's session, and the guard of the views that need a logged-in customer."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

SESSION_KEY = "bank_account"  # the logged-in customer: username, IBAN and token (the web session owns the account)
OUTCOME_KEY = "bank_outcome"  # the result of the last form, shown once after the redirect
PENDING_KEY = "bank_pending"  # a transfer the bank has not answered yet: its form shows what was typed
# The command id each form sends, kept from when the form is first shown until the bank answers it: a page
# reloaded after a crash, a second tab or a double click send the same command, never a second one.
FORM_IDS_KEY = "bank_form_ids"

AsyncView = Callable[..., Coroutine[Any, Any, HttpResponse]]


def customer_required(view: AsyncView) -> AsyncView:
    """An async view for the logged-in customer, who comes as its second argument (username, IBAN and token);
    anyone else is sent to the client page to log in (htmx follows it as a whole-page redirect)."""

    @functools.wraps(view)
    async def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        me = await request.session.aget(SESSION_KEY)
        if not me:
            return (
                HttpResponseClientRedirect(reverse("client")) if getattr(request, "htmx", False) else redirect("client")
            )
        return await view(request, me, *args, **kwargs)

    return guarded
