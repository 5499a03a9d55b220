"""Server-rendered pages. Every page reads without JavaScript; htmx and a websocket add the live feed."""

from __future__ import annotations

import uuid

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.commands import open_or_log_in
from accounts.iban import CASH, COMPANY_IBAN
from accounts.logins import alert_emails_of
from alerts.selectors import alerts_fired_today
from kernel.money import format_euro
from kernel.rules import UUID_ALREADY_USED
from pages.alerts import alerts_context
from pages.feed import FIELDS, SIZES, FeedOptions, moment
from pages.forms import CommandForm, HtmxHttpRequest, LoginForm, TransferForm, first_error
from pages.privacy import account_readers_only, may_read, staff_only
from pages.session import FORM_IDS_KEY, OUTCOME_KEY, PENDING_KEY, SESSION_KEY, customer_required
from transfers.commands import request_transfer
from transfers.selectors import balance_at, daily_totals, list_last_transaction_per_iban, newest_notices

DEPOSITS = (1000, 2000, 5000, 10000, 20000, 50000)
FORM_ALREADY_USED = (
    "This form's last transfer was already made (see your transactions), so this one was not sent: send it again."
)


def feed_context(request: HttpRequest, iban: str | None) -> dict:
    """An account's newest transactions and its balance, live, or as they were at the moment `as_of` names."""
    options = FeedOptions.from_query(request.GET)
    notices = newest_notices(iban, options.size, until=options.as_of) if iban else []
    return {
        "feed_iban": iban,
        "feed": notices,
        "options": options,
        "sizes": SIZES,
        "all_fields": FIELDS,
        "balance_cents": notices[0].new_balance_cents if notices else 0,  # the newest: the balance then
    }


def page_or_part(request: HtmxHttpRequest, template: str, context: dict, parts: dict[str, str]) -> HttpResponse:
    """The whole page, or only the part htmx asked to swap (`parts` maps an element id to its template)."""
    if request.htmx and request.htmx.target in parts:
        template = parts[request.htmx.target]
    return render(request, template, context)


FEED = {"feed": "pages/_feed.html"}


@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    readable = may_read(request, COMPANY_IBAN)
    context = {**feed_context(request, COMPANY_IBAN if readable else None), "company_iban": COMPANY_IBAN}
    return page_or_part(request, "pages/home.html", context, FEED)


ACCOUNTS_PER_PAGE = 20


@require_GET
@staff_only
def employee(request: HtmxHttpRequest) -> HttpResponse:
    """Every account's latest transaction, a page at a time by IBAN: no count and no offset over all of them."""
    after, as_of = request.GET.get("after", ""), moment(request.GET.get("as_of", ""))
    rows = list(list_last_transaction_per_iban(after)[: ACCOUNTS_PER_PAGE + 1])
    accounts, more = rows[:ACCOUNTS_PER_PAGE], len(rows) > ACCOUNTS_PER_PAGE
    context = {
        "accounts": [(row, balance_at(row.iban, as_of) if as_of else row.new_balance_cents) for row in accounts],
        "after": after,
        "as_of": as_of,
        "next_after": accounts[-1].iban if more else None,
        "alerts_today": alerts_fired_today(),
    }
    return page_or_part(request, "pages/employee.html", context, {"accounts": "pages/_accounts.html"})


@require_GET
@account_readers_only
def account(request: HtmxHttpRequest, iban: str) -> HttpResponse:
    context = feed_context(request, iban)
    context["days"] = daily_totals(iban, 7, until=context["options"].as_of)
    return page_or_part(request, "pages/account.html", context, FEED)


async def client(request: HtmxHttpRequest) -> HttpResponse:
    """Log in or register (create-or-login); logged in, the account with deposits, a transfer form and its feed."""
    outcome = None
    if request.method == "POST":
        login = LoginForm(request.POST)
        login.is_valid()  # two texts: the domain says what is wrong with them
        username, password = login.cleaned_data.get("username", ""), login.cleaned_data.get("password", "")
        answer = await open_or_log_in(username=username, password=password)
        if answer.reason:
            outcome = {"ok": False, "text": answer.reason}
        else:
            await request.session.acycle_key()  # a new session key at login: a planted one is worth nothing
            await request.session.aset(SESSION_KEY, {"username": username, "iban": answer.iban, "token": answer.token})
            return redirect("client")
    return await _client_page(request, outcome)


async def _client_page(request: HtmxHttpRequest, outcome: dict | None) -> HttpResponse:
    outcome = outcome or await request.session.apop(OUTCOME_KEY, None)
    me = await request.session.aget(SESSION_KEY)
    context = {"me": me, "outcome": outcome, "pending": await request.session.aget(PENDING_KEY) or {}}
    if me:
        context.update(await _form_context(request))
        context.update(await sync_to_async(feed_context)(request, me["iban"]))
        context.update(await database_sync_to_async(alerts_context)(me["iban"]))
        context["alert_email"], context["unverified_email"] = await database_sync_to_async(alert_emails_of)(
            me["username"]
        )
    return page_or_part(request, "pages/client.html", context, CLIENT_PARTS)


CLIENT_PARTS = FEED
FORMS = ("transfer", *(f"deposit-{cents}" for cents in DEPOSITS))


async def _form_context(request: HttpRequest) -> dict:
    ids = await _form_ids(request)
    return {"deposits": [(cents, ids[f"deposit-{cents}"]) for cents in DEPOSITS], "transfer_id": ids["transfer"]}


async def _form_ids(request: HttpRequest) -> dict[str, str]:
    """Each form's command id, made and kept in the session the first time the form is shown."""
    ids = await request.session.aget(FORM_IDS_KEY) or {}
    if missing := [form for form in FORMS if form not in ids]:
        ids = {**ids, **{form: str(uuid.uuid4()) for form in missing}}
        await request.session.aset(FORM_IDS_KEY, ids)
    return ids


async def _form_answered(request: HttpRequest, form: str) -> None:
    """The bank answered the form's command: its next use is another command."""
    ids = await request.session.aget(FORM_IDS_KEY) or {}
    await request.session.aset(FORM_IDS_KEY, {name: value for name, value in ids.items() if name != form})


@require_POST
@customer_required
async def deposit(request: HtmxHttpRequest, me: dict, cents: int) -> HttpResponse:
    return await _move_money(request, me, "deposit", CommandForm(request.POST), cents)


@require_POST
@customer_required
async def transfer(request: HtmxHttpRequest, me: dict) -> HttpResponse:
    return await _move_money(request, me, "transfer", TransferForm(request.POST))


async def _move_money(request: HtmxHttpRequest, me: dict, kind: str, form: CommandForm, cents: int = 0) -> HttpResponse:
    if not form.is_valid():
        return await _show_after_redirect(request, me, {"ok": False, "text": first_error(form)})
    command_id = form.cleaned_data["command_id"]
    cents = form.cleaned_data.get("amount", cents)
    target = form.cleaned_data.get("to") or None
    description = form.cleaned_data.get("description", "deposit")
    reference = form.cleaned_data.get("reference") or None
    answer = await request_transfer(
        command_id=command_id,
        username=me["username"],
        token=me["token"],
        amount_cents=cents,
        from_account=CASH if kind == "deposit" else me["iban"],
        to_account=target or me["iban"],
        description=description,
        reference=reference,
    )
    if answer.pending:
        await request.session.aset(
            PENDING_KEY,
            {"kind": kind, "cents": cents, "to": target, "description": description, "reference": reference},
        )
        text = (
            f"Your {kind} of {format_euro(cents)} is pending: the bank has not answered yet. "
            f"Press {'Send' if kind == 'transfer' else 'the same button'} again to learn its outcome; "
            "it will not be made twice."
        )
        return await _show_after_redirect(request, me, {"ok": False, "pending": True, "text": text})
    await request.session.apop(PENDING_KEY, None)
    await _form_answered(request, "transfer" if kind == "transfer" else f"deposit-{cents}")
    if answer.success:
        outcome = {"ok": True, "text": f"{format_euro(cents)} {'deposited' if kind == 'deposit' else 'sent'}"}
    elif answer.reason == UUID_ALREADY_USED:
        outcome = {"ok": False, "text": FORM_ALREADY_USED}
    else:
        outcome = {"ok": False, "text": answer.reason}
    return await _show_after_redirect(request, me, outcome)


async def _show_after_redirect(request: HtmxHttpRequest, me: dict, outcome: dict) -> HttpResponse:
    """Post/redirect/get: reloading the page afterwards must never send the money again.

    A form sent by htmx gets its answer in place at once instead (the page stays, so there is nothing to
    reload): the outcome, the new balance and the forms' next command ids; the feed shows the transaction live.
    """
    if request.htmx:
        newest = await sync_to_async(newest_notices)(me["iban"], 1)
        balance = {"balance_cents": newest[0].new_balance_cents if newest else 0}
        return render(request, "pages/_answered.html", {"outcome": outcome, **balance, **await _form_context(request)})
    await request.session.aset(OUTCOME_KEY, outcome)
    return redirect("client")


@require_POST
async def logout(request: HttpRequest) -> HttpResponse:
    await request.session.aflush()
    return redirect("client")
