"""Alert mails: only to a verified address, and at most ALERT_MAILS_PER_HOUR an account."""

import uuid

import pytest
from django.contrib.auth.hashers import make_password

from accounts.logins import ask_for_alert_email, register, verify_alert_email
from accounts.tests.factories import LedgerAccountFactory
from alerts.models import Alert
from alerts.tasks import send_alert_email

pytestmark = pytest.mark.django_db(databases=["default", "ledger"])


@pytest.fixture(autouse=True)
def _own_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def fire(iban):
    alert = Alert.objects.create(
        id=uuid.uuid4(), iban=iban, rule_id=uuid.uuid4(), kind="CREDIT_ABOVE", message="€1,00 in", trigger="t"
    )
    send_alert_email(str(alert.id))


def test_an_address_not_yet_verified_is_never_mailed(mailoutbox):
    """Any customer could once have the bank mail anyone, as often as their rules fired."""
    account = LedgerAccountFactory(username="victim-picker")
    register("victim-picker", make_password("secret-password"))
    ask_for_alert_email("victim-picker", "someone-else@example.com")

    fire(account.iban)

    assert mailoutbox == []


def test_an_account_gets_at_most_its_mails_per_hour(mailoutbox, settings):
    settings.ALERT_MAILS_PER_HOUR = 2
    account = LedgerAccountFactory(username="busy-owner")
    register("busy-owner", make_password("secret-password"))
    verify_alert_email(ask_for_alert_email("busy-owner", "owner@example.com"))

    for _ in range(4):
        fire(account.iban)

    assert [mail.to for mail in mailoutbox] == [["owner@example.com"]] * 2
