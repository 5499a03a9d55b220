"""The client page's Alerts panel: rules added and removed, the newest alerts, an e-mail address for them."""

from __future__ import annotations

import uuid

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.logins import ask_for_alert_email, verify_alert_email
from alerts.commands import add_alert_rule, remove_alert_rule
from alerts.models import KINDS
from alerts.selectors import latest_alerts, rules_of
from alerts.tasks import send_verification_email
from pages.forms import NOT_AN_EMAIL, AlertEmailForm, AlertRuleForm, first_error
from pages.session import OUTCOME_KEY, customer_required

NEWEST = 5


def alerts_context(iban: str) -> dict:
    return {
        "alert_rules": list(rules_of(iban)),
        "alerts": list(latest_alerts(iban, NEWEST)),
        "alert_kinds": KINDS,
    }


async def _tell(request: HttpRequest, ok: bool, text: str) -> HttpResponse:
    await request.session.aset(OUTCOME_KEY, {"ok": ok, "text": text})
    return redirect("client")


@require_POST
@customer_required
async def add_rule(request: HttpRequest, me: dict) -> HttpResponse:
    form = AlertRuleForm(request.POST)
    if not form.is_valid():
        return await _tell(request, False, first_error(form))
    rule = form.cleaned_data
    answer = await add_alert_rule(
        iban=me["iban"], token=me["token"], kind=rule["kind"], threshold_cents=rule["amount"], text=rule["text"]
    )
    return await _tell(request, answer.reason is None, answer.reason or "Alert rule added")


@require_POST
@customer_required
async def remove_rule(request: HttpRequest, me: dict, rule_id: uuid.UUID) -> HttpResponse:
    answer = await remove_alert_rule(iban=me["iban"], token=me["token"], rule_id=rule_id)
    return await _tell(request, answer.reason is None, answer.reason or "Alert rule removed")


@require_POST
@customer_required
async def set_email(request: HttpRequest, me: dict) -> HttpResponse:
    form = AlertEmailForm(request.POST)
    if not form.is_valid():
        return await _tell(request, False, first_error(form))
    email = form.cleaned_data["email"]
    link = await database_sync_to_async(ask_for_alert_email)(me["username"], email)
    if link is None:
        return await _tell(request, False, NOT_AN_EMAIL)
    if not link:
        return await _tell(request, True, "Alerts are no longer mailed")
    url = request.build_absolute_uri(reverse("verify-alert-email", args=[link]))
    await sync_to_async(send_verification_email.delay)(email, url)
    return await _tell(request, True, f"A link is on its way to {email}: alerts are mailed there once it is opened")


async def verify_email(request: HttpRequest, link: str) -> HttpResponse:
    """The link of a verification mail: its address now gets the alerts."""
    email = await database_sync_to_async(verify_alert_email)(link)
    if email is None:
        return await _tell(request, False, "This link is not valid (or no longer): save the address again")
    return await _tell(request, True, f"Alerts are mailed to {email}")
