"""Balances and transactions as they were at a moment, from the rows the projector keeps, and over GraphQL."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from graphql_api.schema import schema
from kernel.balances import BalanceChange
from transfers.projections import BalanceChangedEvent, record_balance_changes
from transfers.selectors import balance_at, balance_steps, list_transactions_for_iban

pytestmark = pytest.mark.django_db(transaction=True)

IBAN = "NL07OPEN0689540112"
T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
MS = timedelta(milliseconds=1)


def changes(*steps):
    """Rows for (offset, seconds after T0, amount in cents): each balance the running sum."""
    balance, events = 0, []
    for offset, seconds, amount in steps:
        balance += amount
        change = BalanceChange("owner", IBAN, balance, amount, "cash", f"#{offset}", T0 + timedelta(seconds=seconds))
        events.append(BalanceChangedEvent(change, 3, offset))
    record_balance_changes(events)


@pytest.fixture
def history():
    # two changes of one batch share a moment (T0 + 2 s), and the offset orders them
    changes((10, 0, 1000), (11, 1, -300), (12, 2, 50), (13, 2, 25), (14, 5, 1))


@pytest.mark.parametrize(
    ("at", "cents"),
    [
        (T0 - MS, None),  # before the account's first change
        (T0, 1000),  # on a change's own millisecond
        (T0 + 500 * MS, 1000),
        (T0 + timedelta(seconds=1) - MS, 1000),
        (T0 + timedelta(seconds=2), 775),  # both changes of the batch
        (T0 + timedelta(seconds=4), 775),
        (T0 + timedelta(days=3650), 776),  # the future
    ],
)
def test_the_balance_at_a_moment_is_the_one_after_every_change_made_by_then(history, at, cents):
    assert balance_at(IBAN, at) == cents


def test_transactions_until_and_since_a_moment(history):
    def offsets(**moments):
        return [row.source_offset for row in list_transactions_for_iban(IBAN, 10, **moments)]

    assert offsets(until=T0 + timedelta(seconds=2)) == [13, 12, 11, 10]
    assert offsets(since=T0 + timedelta(seconds=1)) == [14, 13, 12]  # after it: not the change made on it
    assert offsets(since=T0, until=T0 + timedelta(seconds=1)) == [11]
    assert offsets(until=T0 - MS) == []


def test_the_steps_of_a_balance_are_its_changes_oldest_first_and_sum_to_it(history):
    steps = balance_steps(IBAN, T0 + timedelta(seconds=3), 10)

    assert [row.source_offset for row in steps] == [10, 11, 12, 13]
    assert sum(row.changed_by_cents for row in steps) == balance_at(IBAN, T0 + timedelta(seconds=3)) == 775
    assert [row.source_offset for row in balance_steps(IBAN, None, 2)] == [13, 14]  # the newest two, oldest first


def ask(query, **variables):
    result = asyncio.run(schema.execute(query, variable_values=variables))
    return result.data, [error.message for error in result.errors or []]


def test_over_graphql_a_moment_without_an_offset_is_utc(history):
    query = "query ($iban: String!, $at: DateTime!) { balance_at(iban: $iban, at: $at) }"

    assert ask(query, iban=IBAN, at="2026-12-07T09:00:01") == ({"balance_at": "€7,00"}, [])
    assert ask(query, iban=IBAN, at="2026-12-07T10:00:00.999+01:00") == ({"balance_at": "€10,00"}, [])
    assert ask(query, iban=IBAN, at="2026-12-07T08:59:59.999Z") == ({"balance_at": None}, [])


def test_over_graphql_each_step_cites_its_event(history):
    query = """query ($iban: String!) { explain_balance(iban: $iban, max_items: 1) {
        amount amount_cents balance balance_cents changed_at descr from_to command_id topic partition offset } }"""

    data, errors = ask(query, iban=IBAN)

    assert errors == []
    assert data["explain_balance"] == [
        {
            "amount": "€0,01",
            "amount_cents": 1,
            "balance": "€7,76",
            "balance_cents": 776,
            "changed_at": "2026-12-07T09:00:05+00:00",
            "descr": "#14",
            "from_to": "cash",
            "command_id": None,
            "topic": "balance_changed",
            "partition": 3,
            "offset": 14,
        }
    ]


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59.999999-05:00"])
def test_the_first_and_last_moments_anyone_can_write_are_answered(history, at):
    """In UTC the one is in year 0 and the other in year 10000, which Python cannot hold."""
    query = "query ($iban: String!, $at: DateTime!) { balance_at(iban: $iban, at: $at) }"

    assert ask(query, iban=IBAN, at=at) == ({"balance_at": None if at.startswith("0001") else "€7,76"}, [])


@pytest.mark.parametrize("at", ["yesterday", "2026-13-01", "", "2026-12-07T09:00:00+25:00"])
def test_what_is_no_moment_is_the_clients_mistake(at):
    data, errors = ask('query ($at: DateTime!) { balance_at(iban: "NL1", at: $at) }', at=at)

    assert data is None
    assert errors and "internal" not in errors[0].lower(), errors
