"""The pages under PRIVATE_READS: an account's page for its customer and staff, every account's for staff; off,
anyone sees every page, as in the original."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User

from kernel.balances import BalanceChange
from pages.session import SESSION_KEY
from transfers.projections import BalanceChangedEvent, record_balance_changes

pytestmark = pytest.mark.django_db(transaction=True)

IBAN = "NL07OPEN0689540112"


@pytest.fixture(autouse=True)
def deposit():
    change = BalanceChange("owner", IBAN, 1000, 1000, "cash", "a private deposit", datetime(2026, 12, 7, tzinfo=UTC))
    record_balance_changes([BalanceChangedEvent(change, 0, 1)])


def logged_in_customer(client, iban):
    session = client.session
    session[SESSION_KEY] = {"username": "owner", "iban": iban, "token": "t" * 20}
    session.save()


def staff(client):
    client.force_login(User.objects.create_user("operator", is_staff=True))


def test_by_default_every_page_is_for_anyone(client):
    assert client.get(f"/accounts/{IBAN}/").status_code == 200
    assert client.get("/employee/").status_code == 200


def test_private_reads_keep_an_account_page_from_strangers_and_other_customers(client, settings):
    settings.PRIVATE_READS = True
    refused = client.get(f"/accounts/{IBAN}/")
    assert refused.status_code == 403 and b"transactions are private" in refused.content
    assert b"a private deposit" not in refused.content

    logged_in_customer(client, "NL66OPEN0000000000")
    assert client.get(f"/accounts/{IBAN}/").status_code == 403


def test_private_reads_show_an_account_page_to_its_customer_and_to_staff(client, settings):
    settings.PRIVATE_READS = True
    logged_in_customer(client, IBAN)
    assert b"a private deposit" in client.get(f"/accounts/{IBAN}/").content
    client.logout()
    staff(client)
    assert b"a private deposit" in client.get(f"/accounts/{IBAN}/").content


def test_private_reads_send_strangers_from_the_employee_page_to_the_staff_login(client, settings):
    settings.PRIVATE_READS = True
    refused = client.get("/employee/")
    assert refused.status_code == 302 and refused["Location"].startswith("/admin/login/?next=/employee/")
    staff(client)
    assert client.get("/employee/").status_code == 200


def test_private_reads_keep_the_company_account_off_the_home_page(client, settings):
    settings.PRIVATE_READS = True
    home = client.get("/")
    assert home.status_code == 200 and b"private" in home.content and b'id="transactions"' not in home.content
    staff(client)
    assert b'id="transactions"' in client.get("/").content
