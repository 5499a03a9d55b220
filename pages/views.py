"""Server-rendered pages. Every page reads without JavaScript; htmx and a websocket add the live feed."""

from __future__ import annotations

import uuid

from asgiref.sync import sync_to_async
from celery.result import AsyncResult
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.iban import CASH, COMPANY_IBAN
from kafka_bridge.requests import open_or_log_in, transfer_money
from loadtest.analysis import METRICS, load_test_results
from loadtest.tasks import STARTABLE, run_load_test_task
from pages.amounts import AmountError, parse_euros
from pages.feed import FIELDS, SIZES, FeedOptions, balance_text, entry, newest_transactions
from transfers.selectors import list_last_transaction_per_iban

DEPOSITS = (1000, 2000, 5000, 10000, 20000, 50000)
SESSION_KEY = "bank_account"
OUTCOME_KEY = "bank_outcome"  # the result of the last deposit or transfer, shown once after the redirect


def feed_context(request: HttpRequest, iban: str | None) -> dict:
    options = FeedOptions.from_query(request.GET)
    payloads = newest_transactions(iban, options.size) if iban else []
    return {
        "feed_iban": iban,
        "feed": [entry(payload) for payload in payloads],
        "options": options,
        "sizes": SIZES,
        "all_fields": FIELDS,
        "balance": payloads[0]["new_balance"] if payloads else balance_text(None),
    }


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "pages/home.html", {**feed_context(request, COMPANY_IBAN), "company_iban": COMPANY_IBAN})


@require_GET
def employee(request: HttpRequest) -> HttpResponse:
    accounts = Paginator(list_last_transaction_per_iban(), 20).get_page(request.GET.get("page"))
    return render(request, "pages/employee.html", {"accounts": accounts})


@require_GET
def account(request: HttpRequest, iban: str) -> HttpResponse:
    return render(request, "pages/account.html", feed_context(request, iban))


@require_GET
def results(request: HttpRequest) -> HttpResponse:
    metric = request.GET.get("metric", "average-generator-latency")
    context = {
        "metrics": METRICS,
        "metric": metric if metric in METRICS else "average-generator-latency",
        "startable": STARTABLE,
        "task_id": request.GET.get("task"),
    }
    return render(request, "pages/results.html", context)


@require_POST
def start_load_test(request: HttpRequest) -> HttpResponse:
    """Start a short load test on the Celery worker; the Results page then follows its progress."""
    config = request.POST.get("config", "")
    if config not in STARTABLE:
        return HttpResponse(f"unknown configuration {config!r}", status=400)
    task = run_load_test_task.delay(config)
    return redirect(f"{reverse('results')}?task={task.id}")


@require_GET
def load_test_progress(request: HttpRequest, task_id: str) -> HttpResponse:
    """The progress bar of a running load test; it polls itself until the run has ended."""
    result = AsyncResult(task_id)
    info = result.info if isinstance(result.info, dict) else {}
    return render(request, "pages/_progress.html", {"task_id": task_id, "state": result.state, "info": info})


@require_GET
def results_data(request: HttpRequest) -> JsonResponse:
    """Every run in loadtest-results/, aggregated by configuration and generators, and the original's runs."""
    return JsonResponse({"items": load_test_results()}, json_dumps_params={"allow_nan": False})


async def client(request: HttpRequest) -> HttpResponse:
    """Log in or register (create-or-login); logged in, the account with deposits, a transfer form and its feed."""
    outcome = None
    if request.method == "POST":
        answer = await open_or_log_in(request.POST.get("username", ""), request.POST.get("password", ""))
        if answer.reason:
            outcome = {"ok": False, "text": answer.reason}
        else:
            await request.session.aset(
                SESSION_KEY, {"username": request.POST["username"], "iban": answer.iban, "token": answer.token}
            )
            return redirect("client")
    return await _client_page(request, outcome)


async def _client_page(request: HttpRequest, outcome: dict | None, status: int = 200) -> HttpResponse:
    outcome = outcome or await request.session.apop(OUTCOME_KEY, None)
    me = await request.session.aget(SESSION_KEY)
    context = {"me": me, "outcome": outcome, "deposits": [(cents, balance_text(cents)) for cents in DEPOSITS]}
    if me:
        context.update(await sync_to_async(feed_context)(request, me["iban"]))
    return render(request, "pages/client.html", context, status=status)


@require_POST
async def deposit(request: HttpRequest, cents: int) -> HttpResponse:
    return await _move_money(request, cents, source=CASH, target=None, description="deposit")


@require_POST
async def transfer(request: HttpRequest) -> HttpResponse:
    try:
        cents = parse_euros(request.POST.get("amount", ""))
    except AmountError as error:
        return await _show_after_redirect(request, {"ok": False, "text": str(error)})
    target = request.POST.get("to", "").strip()
    return await _move_money(
        request, cents, source=None, target=target, description=request.POST.get("description", "").strip()
    )


async def _move_money(request, cents: int, *, source: str | None, target: str | None, description: str):
    me = await request.session.aget(SESSION_KEY)
    if not me:
        return redirect("client")
    answer = await transfer_money(
        command_id=uuid.uuid4(),
        username=me["username"],
        token=me["token"],
        amount_cents=cents,
        from_account=source or me["iban"],
        to_account=target or me["iban"],
        description=description,
    )
    if answer.success:
        outcome = {"ok": True, "text": f"{balance_text(cents)} {'deposited' if source == CASH else 'sent'}"}
    else:
        outcome = {"ok": False, "text": answer.reason}
    return await _show_after_redirect(request, outcome)


async def _show_after_redirect(request: HttpRequest, outcome: dict) -> HttpResponse:
    """Post/redirect/get: reloading the page afterwards must never send the money again."""
    await request.session.aset(OUTCOME_KEY, outcome)
    return redirect("client")


@require_POST
async def logout(request: HttpRequest) -> HttpResponse:
    await request.session.aflush()
    return redirect("client")
