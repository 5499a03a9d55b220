import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts.commands import RuleAnswer
from alerts.models import AlertRule
from alerts.projections import RuleSettings
from alerts.rules import AlertKind, Rule
from banking.copies import SWITCH
from banking.models import PendingAnswer
from banking.read_model import Feedback, project
from kernel.balances import BalanceChange
from transfers.commands import TransferAnswer
from transfers.models import Transaction
from transfers.projections import BalanceChangedEvent, record_balance_changes
from transfers.selectors import list_last_transaction_per_iban, list_transactions_for_iban

pytestmark = pytest.mark.django_db


def event(offset, iban="NL66OPEN0000000000", change=1000, partition=0):
    return BalanceChangedEvent(BalanceChange("", iban, 5000, change, "cash", "deposit"), partition, offset)


def test_an_event_stored_twice_is_one_transaction():
    first = record_balance_changes([event(1), event(2)])
    again = record_balance_changes([event(2), event(1)])

    assert Transaction.objects.count() == 2
    assert [row.pk for row in again] == [first[1].pk, first[0].pk]


def test_events_of_several_partitions_get_their_own_rows_back():
    record_balance_changes([event(offset, partition=3) for offset in (7, 8)])

    rows = record_balance_changes([event(7, iban="NL1", partition=1), event(8, iban="NL2", partition=2)])

    assert [(row.source_partition, row.source_offset, row.iban) for row in rows] == [(1, 7, "NL1"), (2, 8, "NL2")]


def test_direction_follows_the_sign():
    debit, credit = record_balance_changes([event(1, change=-5), event(2, change=0)])
    assert (debit.direction, credit.direction) == ("DEBIT", "CREDIT")


def test_transactions_of_an_iban_come_newest_first_and_limited():
    record_balance_changes([event(n, iban="NL1") for n in range(5)] + [event(9, iban="NL2")])

    assert [t.source_offset for t in list_transactions_for_iban("NL1", 3)] == [4, 3, 2]
    assert [(t.iban, t.source_offset) for t in list_last_transaction_per_iban()] == [("NL1", 4), ("NL2", 9)]


# -- read-your-writes --------------------------------------------------------------------------------------


@pytest.fixture
def command_id():
    return uuid.uuid4()


def identified(offset, command_id, index, iban="NL1"):
    return BalanceChangedEvent(
        BalanceChange("", iban, 5000, -100 if index == 0 else 100, "cash", "x"), 0, offset, command_id, index
    )


CONFIRMED = TransferAnswer(success=True)


def test_an_answer_waits_until_the_last_event_of_its_command_is_stored(command_id):
    debit, credit = identified(1, command_id, 0), identified(2, command_id, 1, iban="NL2")

    first = project([debit], [Feedback(command_id, CONFIRMED, events=2)])
    second = project([credit], [])

    assert first.answers == {} and second.answers == {command_id: CONFIRMED}
    assert not PendingAnswer.objects.exists()


def test_an_answer_whose_events_came_first_is_told_at_once(command_id):
    project([identified(1, command_id, 0), identified(2, command_id, 1)], [])

    assert project([], [Feedback(command_id, CONFIRMED, events=2)]).answers == {command_id: CONFIRMED}


def test_an_answer_that_comes_with_all_its_events_is_told_without_the_pending_answers(command_id):
    table = PendingAnswer._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        projected = project(
            [identified(1, command_id, 0), identified(2, command_id, 1, iban="NL2")],
            [Feedback(command_id, CONFIRMED, events=2)],
        )

    assert projected.answers == {command_id: CONFIRMED}
    looked = [query["sql"] for query in queries if table in query["sql"] or "advisory" in query["sql"]]
    assert [sql for sql in looked if str(SWITCH) not in sql] == []  # the copy switch's lock aside (banking.copies)


def test_an_event_read_twice_in_one_batch_counts_once(command_id):
    twice = [identified(1, command_id, 0), identified(5, command_id, 0)]

    assert project(twice, [Feedback(command_id, CONFIRMED, events=2)]).answers == {}
    assert project([identified(6, command_id, 1, iban="NL2")], []).answers == {command_id: CONFIRMED}


def test_events_published_again_neither_double_rows_nor_tell_an_answer_twice(command_id):
    project([identified(1, command_id, 0), identified(2, command_id, 1)], [Feedback(command_id, CONFIRMED, events=2)])

    again = project([identified(7, command_id, 0), identified(8, command_id, 1)], [])

    assert again.answers == {} and again.rows == []
    assert Transaction.objects.filter(command_id=command_id).count() == 2


def test_answers_without_events_or_without_a_count_are_told_at_once(command_id):
    other = uuid.uuid4()
    refused = TransferAnswer(success=False, reason="insufficient funds")

    projected = project([], [Feedback(command_id, refused, events=0), Feedback(other, CONFIRMED, events=None)])

    assert projected.answers == {command_id: refused, other: CONFIRMED}


def test_a_rule_change_is_answered_once_the_accounts_new_rules_are_stored(command_id):
    rules = RuleSettings("NL1", [Rule(uuid.uuid4(), AlertKind.DEBIT_ABOVE, 1_000)], command_id)

    first = project([], [Feedback(command_id, RuleAnswer(), events=1)])
    second = project([], [], [rules])

    assert first.answers == {} and second.answers == {command_id: RuleAnswer()}
    assert list(AlertRule.objects.values_list("iban", "threshold_cents")) == [("NL1", 1_000)]
    assert not PendingAnswer.objects.exists()


# -- a projection added later: each account's days ---------------------------------------------------------


def dated(offset, at, change, balance, iban="NL1"):
    from datetime import UTC, datetime

    when = datetime.fromisoformat(at).replace(tzinfo=UTC)
    return BalanceChangedEvent(BalanceChange("", iban, balance, change, "cash", "d", when), 0, offset)


def test_each_day_of_an_account_sums_its_changes_once_and_ends_at_its_last_balance():
    from transfers.models import DailyTotal

    record_balance_changes([dated(1, "2026-12-06T23:59:59", 1000, 1000), dated(2, "2026-12-07T08:00:00", -300, 700)])
    record_balance_changes([dated(2, "2026-12-07T08:00:00", -300, 700), dated(3, "2026-12-07T09:00:00", 50, 750)])
    record_balance_changes([dated(4, "2026-12-07T09:00:00", 25, 775)])  # the same moment: the offset orders them

    days = DailyTotal.objects.order_by("day").values_list(
        "day", "credits_cents", "debits_cents", "changes", "closing_balance_cents"
    )
    assert [(str(day), *rest) for day, *rest in days] == [
        ("2026-12-06", 1000, 0, 1, 1000),
        ("2026-12-07", 75, 300, 3, 775),  # the event read twice counts once
    ]
