"""The pages' forms: what a person types, read and checked as Django forms, in cents and ids, before the domain.

The domain checks again what it must (a command may come from anywhere); a form only makes what was typed
into the values a command takes, with a reason a person can read when it cannot.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from alerts.rules import AlertKind
from pages.amounts import AmountError, parse_euros
from transfers.rules import MAX_REFERENCE

OUT_OF_DATE = "this form is out of date; try again"
NOT_AN_EMAIL = "that is not an e-mail address"


class HtmxHttpRequest(HttpRequest):
    """A request as django-htmx's middleware leaves it: `request.htmx` says whether htmx sent it, and what for."""

    htmx: HtmxDetails


class EuroField(forms.CharField):
    """Euros as people type them (`11,11`, `1.234,56`, `€ 5`): integer cents, rounded (pages.amounts)."""

    def to_python(self, value: Any) -> int:  # type: ignore[override]  # cents, not text
        try:
            return parse_euros(str(value or ""))
        except AmountError as error:
            raise forms.ValidationError(str(error)) from None


class ThresholdField(EuroField):
    """A rule's threshold: like an amount, but zero and below are thresholds too (an overdraft)."""

    def to_python(self, value: Any) -> int:  # type: ignore[override]
        cleaned = str(value or "").strip()
        if cleaned.lstrip("-€ ").strip("0,. ") == "":
            return 0
        if cleaned.startswith("-"):
            return -super().to_python(cleaned[1:])
        return super().to_python(cleaned)


class LoginForm(forms.Form):
    username = forms.CharField(strip=False, required=False)
    password = forms.CharField(strip=False, required=False)


class CommandForm(forms.Form):
    """Every form that sends a command carries its id, kept from when the form was shown (pages.views)."""

    command_id = forms.UUIDField(error_messages={"invalid": OUT_OF_DATE, "required": OUT_OF_DATE})


class TransferForm(CommandForm):
    amount = EuroField()
    to = forms.CharField(required=False)
    description = forms.CharField(required=False, strip=False)
    reference = forms.CharField(required=False, max_length=MAX_REFERENCE)


class AlertRuleForm(forms.Form):
    kind = forms.CharField(required=False)  # the domain names a kind it does not know
    amount = ThresholdField(required=False)
    text = forms.CharField(required=False, strip=False)

    def clean(self) -> dict[str, Any]:
        """Only the field the kind uses is read: the text for DESCRIPTION_MATCHES, else the amount."""
        cleaned = super().clean() or {}
        if cleaned.get("kind") == AlertKind.DESCRIPTION_MATCHES:
            self.errors.pop("amount", None)
            cleaned["amount"] = None
        else:
            cleaned["text"] = None
        return cleaned


class AlertEmailForm(forms.Form):
    email = forms.EmailField(required=False, error_messages={"invalid": NOT_AN_EMAIL})


def first_error(form: forms.Form) -> str:
    """The first reason the form gives, as a person reads it."""
    for errors in form.errors.values():
        return str(errors[0])
    return OUT_OF_DATE
