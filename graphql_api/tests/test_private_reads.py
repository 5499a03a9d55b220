"""Who may read accounts over GraphQL: anyone by default (the original's clients), and with PRIVATE_READS the
account's token or a staff login for one account, a staff login for every account."""

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from accounts.access import PRIVATE_ACCOUNT, STAFF_ONLY
from accounts.models import Customer
from graphql_api.schema import schema
from kernel.balances import BalanceChange
from transfers.models import Transaction
from transfers.projections import BalanceChangedEvent, record_balance_changes

pytestmark = pytest.mark.django_db(transaction=True)

IBAN, TOKEN = "NL07OPEN0689540112", "t" * 20
AT = "2026-12-08T00:00:00Z"
ONE_ACCOUNT = {
    "transactions_by_iban": "query ($iban: String!, $token: String) "
    "{ transactions_by_iban(iban: $iban, max_items: 5, token: $token) { iban } }",
    "balance_at": f'query ($iban: String!, $token: String) {{ balance_at(iban: $iban, at: "{AT}", token: $token) }}',
    "explain_balance": "query ($iban: String!, $token: String) "
    "{ explain_balance(iban: $iban, token: $token) { balance } }",
}
EVERY_ACCOUNT = "{ all_last_transactions { iban } }"


@pytest.fixture
def account():
    Customer.objects.create(command_id="00000000-0000-0000-0000-000000000001", iban=IBAN, token=TOKEN)
    change = BalanceChange("owner", IBAN, 1000, 1000, "cash", "a deposit", datetime(2026, 12, 7, 9, tzinfo=UTC))
    record_balance_changes([BalanceChangedEvent(change, 0, 1)])


def ask(query, context=None, **variables):
    result = asyncio.run(schema.execute(query, variable_values=variables, context_value=context))
    return result.data, [error.message for error in result.errors or []]


def refused(query, context=None, **variables):
    """The messages of a refused query, whose field is then null (or the whole answer, for a non-null field)."""
    data, errors = ask(query, context, **variables)
    assert data is None or set(data.values()) == {None}
    return errors


def staff_context(is_staff=True):
    """A request whose session is a logged-in admin user's, as the ASGI scope carries it."""
    user = User.objects.create_user("operator", password="secret", is_staff=is_staff)
    client = Client()
    client.force_login(user)
    session = SessionStore(client.session.session_key)
    return {"request": SimpleNamespace(scope={"session": session})}


@pytest.mark.parametrize("field", ONE_ACCOUNT)
def test_by_default_anyone_reads_any_account_as_in_the_original(account, field):
    data, errors = ask(ONE_ACCOUNT[field], iban=IBAN)
    assert errors == [] and data[field]
    assert ask(EVERY_ACCOUNT)[0]["all_last_transactions"] == [{"iban": IBAN}]


@pytest.mark.parametrize("field", ONE_ACCOUNT)
def test_private_reads_refuse_an_anonymous_reader_and_a_wrong_token(account, field, settings):
    settings.PRIVATE_READS = True
    assert refused(ONE_ACCOUNT[field], iban=IBAN) == [PRIVATE_ACCOUNT]
    assert refused(ONE_ACCOUNT[field], iban=IBAN, token="x" * 20) == [PRIVATE_ACCOUNT]
    assert refused(ONE_ACCOUNT[field], staff_context(is_staff=False), iban=IBAN) == [PRIVATE_ACCOUNT]


@pytest.mark.parametrize("field", ONE_ACCOUNT)
def test_private_reads_answer_the_accounts_token_and_staff(account, field, settings):
    settings.PRIVATE_READS = True
    data, errors = ask(ONE_ACCOUNT[field], iban=IBAN, token=TOKEN)
    assert errors == [] and data[field]
    data, errors = ask(ONE_ACCOUNT[field], staff_context(), iban=IBAN)
    assert errors == [] and data[field]


def test_private_reads_show_every_account_and_a_transaction_by_id_to_staff_only(account, settings):
    settings.PRIVATE_READS = True
    by_id = "query ($id: Int!, $token: String) { transaction_by_id(id: $id, token: $token) { iban } }"
    row = Transaction.objects.get(iban=IBAN)

    assert refused(EVERY_ACCOUNT) == [STAFF_ONLY]
    assert ask(EVERY_ACCOUNT, staff_context())[0] == {"all_last_transactions": [{"iban": IBAN}]}
    assert refused(by_id, id=row.id) == [PRIVATE_ACCOUNT]
    assert ask(by_id, id=row.id, token=TOKEN)[0] == {"transaction_by_id": {"iban": IBAN}}
