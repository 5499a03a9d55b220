"""The client page's Alerts panel: rules added and removed, the newest alerts, an e-mail address for them."""

from __future__ import annotations

import uuid

from channels.db import database_sync_to_async
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts.logins import set_alert_email
from alerts.commands import add_alert_rule, remove_alert_rule
from alerts.rules import AlertKind
from alerts.selectors import latest_alerts, rules_of
from pages.amounts import AmountError, parse_euros

SESSION_KEY = "bank_account"
OUTCOME_KEY = "bank_outcome"
NEWEST = 5


def alerts_context(iban: str) -> dict:
    return {
        "alert_rules": list(rules_of(iban)),
        "alerts": list(latest_alerts(iban, NEWEST)),
        "alert_kinds": [(kind.value, kind.value.replace("_", " ").lower()) for kind in AlertKind],
    }


def parse_threshold(text: str) -> int:
    """Euros as typed, to cents; a balance threshold may be zero or below (an overdraft)."""
    cleaned = text.strip()
    if cleaned.lstrip("-€ ").strip("0,. ") == "":
        return 0
    if cleaned.startswith("-"):
        return -parse_euros(cleaned[1:])
    return parse_euros(cleaned)


async def _tell(request: HttpRequest, ok: bool, text: str) -> HttpResponse:
    await request.session.aset(OUTCOME_KEY, {"ok": ok, "text": text})
    return redirect("client")


@require_POST
async def add_rule(request: HttpRequest) -> HttpResponse:
    me = await request.session.aget(SESSION_KEY)
    if not me:
        return redirect("client")
    kind = request.POST.get("kind", "")
    threshold = text = None
    if kind == AlertKind.DESCRIPTION_MATCHES:
        text = request.POST.get("text", "")
    else:
        try:
            threshold = parse_threshold(request.POST.get("amount", ""))
        except AmountError as error:
            return await _tell(request, False, str(error))
    answer = await add_alert_rule(iban=me["iban"], token=me["token"], kind=kind, threshold_cents=threshold, text=text)
    return await _tell(request, answer.reason is None, answer.reason or "Alert rule added")


@require_POST
async def remove_rule(request: HttpRequest, rule_id: uuid.UUID) -> HttpResponse:
    me = await request.session.aget(SESSION_KEY)
    if not me:
        return redirect("client")
    answer = await remove_alert_rule(iban=me["iban"], token=me["token"], rule_id=rule_id)
    return await _tell(request, answer.reason is None, answer.reason or "Alert rule removed")


@require_POST
async def set_email(request: HttpRequest) -> HttpResponse:
    me = await request.session.aget(SESSION_KEY)
    if not me:
        return redirect("client")
    email = request.POST.get("email", "").strip()
    if not await database_sync_to_async(set_alert_email)(me["username"], email):
        return await _tell(request, False, "that is not an e-mail address")
    return await _tell(request, True, f"Alerts are mailed to {email}" if email else "Alerts are no longer mailed")
