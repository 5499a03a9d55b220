import uuid

import pytest
from django.contrib.auth.models import User

from accounts.models import Customer, Login
from accounts.tests.factories import LedgerAccountFactory
from kernel.balances import BalanceChange
from transfers.models import ProcessedTransfer
from transfers.projections import BalanceChangedEvent, record_balance_changes

pytestmark = pytest.mark.django_db(databases=["default", "ledger"])


@pytest.fixture
def staff_client(client):
    client.force_login(User.objects.create_superuser("admin-user", password="x"))
    return client


@pytest.mark.parametrize(
    "page",
    [
        "accounts/ledgeraccount",
        "accounts/processedaccountcreation",
        "accounts/customer",
        "accounts/login",
        "transfers/processedtransfer",
        "transfers/transaction",
    ],
)
def test_every_admin_list_shows_and_searches(staff_client, page):
    LedgerAccountFactory(username="searchable")
    ProcessedTransfer.objects.create(command_id=uuid.uuid4(), reason="insufficient funds", delivery="commands:0:1")
    record_balance_changes(
        [BalanceChangedEvent(BalanceChange("", "NL66OPEN0000000000", 100, -100, "cash", "rent"), 0, 1)]
    )
    Customer.objects.create(command_id=uuid.uuid4(), iban="NL1")
    Login.objects.create(username="searchable-login", password="x", command_id=uuid.uuid4())

    assert staff_client.get(f"/admin/{page}/").status_code == 200
    assert staff_client.get(f"/admin/{page}/", {"q": "searchable"}).status_code == 200


def test_the_ledger_cannot_be_edited_in_the_admin(staff_client):
    account = LedgerAccountFactory()

    assert staff_client.get("/admin/accounts/ledgeraccount/add/").status_code == 403
    page = staff_client.get(f"/admin/accounts/ledgeraccount/{account.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content


def test_transactions_filter_by_direction(staff_client):
    record_balance_changes(
        [
            BalanceChangedEvent(BalanceChange("", "NL-debit", 0, -100, "cash", "out"), 0, 1),
            BalanceChangedEvent(BalanceChange("", "NL-credit", 100, 100, "cash", "in"), 0, 2),
        ]
    )

    page = staff_client.get("/admin/transfers/transaction/", {"direction": "DEBIT"}).content

    assert b"NL-debit" in page and b"NL-credit" not in page


def test_the_admin_login_is_locked_after_wrong_passwords_like_customers_logins(client, settings):
    """The admin's login once let anyone try passwords as fast as they could send them."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.LOGIN_FAILURES_PER_MINUTE = 3
    User.objects.create_superuser("guarded-admin", password="the-right-one")

    def log_in(password):
        return client.post("/admin/login/", {"username": "guarded-admin", "password": password, "next": "/admin/"})

    assert [log_in("a-guess").status_code for _ in range(3)] == [200] * 3  # the form again, with its error
    assert log_in("the-right-one").status_code == 200
    assert "_auth_user_id" not in client.session
    settings.LOGIN_FAILURES_PER_MINUTE = 10
    assert log_in("the-right-one").status_code == 302
