"""Each process's database role may do what it needs and nothing more (the grants `migrate` gives, on the test
databases, as the roles devstack makes)."""

from __future__ import annotations

import psycopg
import pytest

from testing.live import database_env

pytestmark = pytest.mark.django_db(databases="__all__")


def run_as(process: str, alias: str, statement: str) -> None:
    """Run `statement` on the test database `alias` as the Procfile's `process` logs in to it."""
    url = database_env(process)["LEDGER_DATABASE_URL" if alias == "ledger" else "DATABASE_URL"]
    with psycopg.connect(url) as connection:
        connection.execute(statement)


@pytest.mark.parametrize(
    ("process", "alias", "statement"),
    [
        ("web", "ledger", "UPDATE accounts_ledgeraccount SET balance_cents = balance_cents + 1"),
        ("web", "ledger", "DELETE FROM transfers_processedtransfer"),
        ("web", "ledger", "DELETE FROM banking_inputposition"),
        ("web", "default", "UPDATE transfers_transaction SET iban = iban"),
        ("web", "default", "DELETE FROM accounts_customer"),
        ("command-handler", "default", "SELECT count(*) FROM transfers_transaction"),
        ("projector", "ledger", "SELECT count(*) FROM accounts_ledgeraccount"),
        ("projector", "default", "DELETE FROM django_session"),
        ("alerts", "ledger", "SELECT count(*) FROM accounts_login"),
        ("alerts", "default", "SELECT count(*) FROM alerts_alert"),
        ("worker", "ledger", "SELECT count(*) FROM transfers_processedtransfer"),
        ("worker", "default", "UPDATE alerts_alert SET message = ''"),
    ],
)
def test_a_process_may_not_touch_what_is_not_its_own(process, alias, statement):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        run_as(process, alias, statement)


@pytest.mark.parametrize(
    ("process", "alias", "statement"),
    [
        ("web", "ledger", "UPDATE accounts_login SET alert_email = alert_email"),
        ("web", "ledger", "SELECT count(*) FROM accounts_ledgeraccount"),
        ("web", "default", "SELECT count(*) FROM transfers_transaction"),
        ("web", "default", "DELETE FROM django_session WHERE false"),
        ("command-handler", "ledger", "UPDATE accounts_ledgeraccount SET balance_cents = balance_cents WHERE false"),
        ("projector", "default", "UPDATE transfers_transaction SET iban = iban WHERE false"),
        ("projector", "default", "DELETE FROM banking_pendinganswer WHERE false"),
        ("worker", "ledger", "SELECT alert_email FROM accounts_login"),
    ],
)
def test_a_process_may_do_what_it_needs(process, alias, statement):
    run_as(process, alias, statement)
