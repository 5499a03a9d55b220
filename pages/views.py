"""Server-rendered pages. Every page reads without JavaScript; htmx and a websocket add the live feed."""

from __future__ import annotations

import uuid

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.commands import open_or_log_in
from accounts.iban import CASH, COMPANY_IBAN
from accounts.logins import alert_email_of
from alerts.selectors import alerts_fired_today
from banking.money import format_euro
from pages.alerts import alerts_context
from pages.amounts import AmountError, parse_euros
from pages.feed import FIELDS, SIZES, FeedOptions
from transfers.commands import request_transfer
from transfers.selectors import list_last_transaction_per_iban, newest_notices

DEPOSITS = (1000, 2000, 5000, 10000, 20000, 50000)
SESSION_KEY = "bank_account"
OUTCOME_KEY = "bank_outcome"  # the result of the last deposit or transfer, shown once after the redirect
PENDING_KEY = "bank_pending"  # a deposit or transfer the bank has not answered yet: sent again with the same id


def feed_context(request: HttpRequest, iban: str | None) -> dict:
    options = FeedOptions.from_query(request.GET)
    notices = newest_notices(iban, options.size) if iban else []
    return {
        "feed_iban": iban,
        "feed": notices,
        "options": options,
        "sizes": SIZES,
        "all_fields": FIELDS,
        "balance_cents": notices[0].new_balance_cents if notices else 0,
    }


def page_or_part(request: HttpRequest, template: str, context: dict, parts: dict[str, str]) -> HttpResponse:
    """The whole page, or only the part htmx asked to swap (`parts` maps an element id to its template)."""
    if request.htmx and request.htmx.target in parts:
        template = parts[request.htmx.target]
    return render(request, template, context)


FEED = {"feed": "pages/_feed.html"}


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    context = {**feed_context(request, COMPANY_IBAN), "company_iban": COMPANY_IBAN}
    return page_or_part(request, "pages/home.html", context, FEED)


@require_GET
def employee(request: HttpRequest) -> HttpResponse:
    accounts = Paginator(list_last_transaction_per_iban(), 20).get_page(request.GET.get("page"))
    context = {"accounts": accounts, "alerts_today": alerts_fired_today()}
    return page_or_part(request, "pages/employee.html", context, {"accounts": "pages/_accounts.html"})


@require_GET
def account(request: HttpRequest, iban: str) -> HttpResponse:
    return page_or_part(request, "pages/account.html", feed_context(request, iban), FEED)


async def client(request: HttpRequest) -> HttpResponse:
    """Log in or register (create-or-login); logged in, the account with deposits, a transfer form and its feed."""
    outcome = None
    if request.method == "POST":
        username = request.POST.get("username", "")
        answer = await open_or_log_in(
            username=username, password=request.POST.get("password", ""), client_address=request.META.get("REMOTE_ADDR")
        )
        if answer.reason:
            outcome = {"ok": False, "text": answer.reason}
        else:
            await request.session.acycle_key()  # a new session key at login: a planted one is worth nothing
            await request.session.aset(SESSION_KEY, {"username": username, "iban": answer.iban, "token": answer.token})
            return redirect("client")
    return await _client_page(request, outcome)


async def _client_page(request: HttpRequest, outcome: dict | None) -> HttpResponse:
    outcome = outcome or await request.session.apop(OUTCOME_KEY, None)
    me = await request.session.aget(SESSION_KEY)
    pending = await request.session.aget(PENDING_KEY) or {}
    context = {
        "me": me,
        "outcome": outcome,
        "pending": pending,
        # A command id per form: sending a form again after "no answer" repeats the command, never doubles it.
        "deposits": [(cents, _id_for(pending, "deposit", cents)) for cents in DEPOSITS],
        "transfer_id": _id_for(pending, "transfer"),
    }
    if me:
        context.update(await sync_to_async(feed_context)(request, me["iban"]))
        context.update(await database_sync_to_async(alerts_context)(me["iban"]))
        context["alert_email"] = await database_sync_to_async(alert_email_of)(me["username"])
    return page_or_part(request, "pages/client.html", context, CLIENT_PARTS)


CLIENT_PARTS = {**FEED, "outcome-slot": "pages/_answered.html"}


def _id_for(pending: dict, kind: str, cents: int | None = None) -> str:
    if pending.get("kind") == kind and (cents is None or pending.get("cents") == cents):
        return pending["command_id"]
    return str(uuid.uuid4())


@require_POST
async def deposit(request: HttpRequest, cents: int) -> HttpResponse:
    return await _move_money(request, "deposit", cents, target=None, description="deposit")


@require_POST
async def transfer(request: HttpRequest) -> HttpResponse:
    try:
        cents = parse_euros(request.POST.get("amount", ""))
    except AmountError as error:
        return await _show_after_redirect(request, {"ok": False, "text": str(error)})
    target = request.POST.get("to", "").strip()
    return await _move_money(request, "transfer", cents, target=target, description=request.POST.get("description", ""))


async def _move_money(request, kind: str, cents: int, *, target: str | None, description: str):
    me = await request.session.aget(SESSION_KEY)
    if not me:
        return HttpResponseClientRedirect(reverse("client")) if request.htmx else redirect("client")
    try:
        command_id = uuid.UUID(request.POST.get("command_id", ""))
    except ValueError:
        return await _show_after_redirect(request, {"ok": False, "text": "this form is out of date; try again"})
    answer = await request_transfer(
        command_id=command_id,
        username=me["username"],
        token=me["token"],
        amount_cents=cents,
        from_account=CASH if kind == "deposit" else me["iban"],
        to_account=target or me["iban"],
        description=description,
    )
    if answer.pending:
        pending = {
            "command_id": str(command_id),
            "kind": kind,
            "cents": cents,
            "to": target,
            "description": description,
        }
        await request.session.aset(PENDING_KEY, pending)
        text = (
            f"Your {kind} of {format_euro(cents)} is pending: the bank has not answered yet. "
            f"Press {'Send' if kind == 'transfer' else 'the same button'} again to learn its outcome; "
            "it will not be made twice."
        )
        return await _show_after_redirect(request, {"ok": False, "pending": True, "text": text})
    await request.session.apop(PENDING_KEY, None)
    if answer.success:
        outcome = {"ok": True, "text": f"{format_euro(cents)} {'deposited' if kind == 'deposit' else 'sent'}"}
    else:
        outcome = {"ok": False, "text": answer.reason}
    return await _show_after_redirect(request, outcome)


async def _show_after_redirect(request: HttpRequest, outcome: dict) -> HttpResponse:
    """Post/redirect/get: reloading the page afterwards must never send the money again.

    A form sent by htmx gets its part of the page at once instead: the page stays, so there is nothing to reload.
    """
    if request.htmx:
        return await _client_page(request, outcome)
    await request.session.aset(OUTCOME_KEY, outcome)
    return redirect("client")


@require_POST
async def logout(request: HttpRequest) -> HttpResponse:
    await request.session.aflush()
    return redirect("client")
