"""When a balance change tells an account's owner something: every kind of rule, and what may be a rule."""

import uuid

import pytest

from alerts.rules import (
    KIND_IS_INVALID,
    TEXT_IS_INVALID,
    THRESHOLD_IS_INVALID,
    AlertKind,
    Rule,
    alert_message,
    rule_refusal,
)
from kernel.balances import BalanceChange

ID = uuid.uuid4()


def change(changed_by, new_balance=10_000, counterparty="NL66OPEN0000000000", description="rent for May"):
    return BalanceChange("", "NL1", new_balance, changed_by, counterparty, description)


def test_a_debit_above_the_limit_is_told_in_the_banks_words():
    rule = Rule(ID, AlertKind.DEBIT_ABOVE, threshold_cents=1_000)

    assert alert_message(rule, change(-2_000)) == (
        "Debit of €20,00 to NL66OPEN0000000000 is above your limit of €10,00"
    )
    assert alert_message(rule, change(-1_000)) is None  # at the limit is not above it
    assert alert_message(rule, change(2_000)) is None  # a credit is no debit


def test_a_credit_above_the_limit():
    rule = Rule(ID, AlertKind.CREDIT_ABOVE, threshold_cents=50_000)

    assert alert_message(rule, change(60_000, counterparty="cash")) == (
        "Credit of €600,00 from cash is above your limit of €500,00"
    )
    assert alert_message(rule, change(-60_000)) is None


def test_a_balance_below_the_limit_is_told_when_it_crosses_not_on_every_change_below():
    rule = Rule(ID, AlertKind.BALANCE_BELOW, threshold_cents=0)

    assert alert_message(rule, change(-1_500, new_balance=-500)) == "Balance of -€5,00 is below your limit of €0,00"
    assert alert_message(rule, change(-100, new_balance=-600)) is None  # it was below already
    assert alert_message(rule, change(-100, new_balance=100)) is None


def test_a_description_matches_in_any_case():
    rule = Rule(ID, AlertKind.DESCRIPTION_MATCHES, text="RENT")

    assert alert_message(rule, change(-100)) == '"rent for May" (€1,00) matches "RENT"'
    assert alert_message(rule, change(-100, description="groceries")) is None


@pytest.mark.parametrize(
    ("kind", "threshold", "text", "reason"),
    [
        ("NO_SUCH_KIND", 1, None, KIND_IS_INVALID),
        ("DEBIT_ABOVE", None, None, THRESHOLD_IS_INVALID),
        ("DEBIT_ABOVE", -1, None, THRESHOLD_IS_INVALID),
        ("CREDIT_ABOVE", 10**16, None, THRESHOLD_IS_INVALID),
        ("DESCRIPTION_MATCHES", None, "", TEXT_IS_INVALID),
        ("DESCRIPTION_MATCHES", None, "rent\u0000", TEXT_IS_INVALID),
        ("DESCRIPTION_MATCHES", None, "x" * 141, TEXT_IS_INVALID),
        ("BALANCE_BELOW", -50_000, None, None),  # an overdraft limit is a fine threshold
        ("DESCRIPTION_MATCHES", None, "rent", None),
    ],
)
def test_what_may_be_a_rule(kind, threshold, text, reason):
    assert rule_refusal(kind, threshold, text) == reason
