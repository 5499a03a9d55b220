"""Commands in, records out, without a broker: names, keys and the original's event order."""

import uuid

import pytest

from accounts.services import AccountCreationOutcome, OpenAccount
from kafka_bridge.ledger_handlers import NotACommand, to_command, to_records
from kafka_bridge.messages import (
    AccountCreationConfirmed,
    AccountCreationFailed,
    BalanceChanged,
    ConfirmAccountCreation,
    ConfirmMoneyTransfer,
    MoneyTransferConfirmed,
    MoneyTransferFailed,
)
from kafka_bridge.topology import Topic
from transfers.services import BalanceChange, TransferMoney, TransferOutcome

ID = uuid.uuid4()


def test_a_transfer_command_becomes_the_domain_command_with_where_it_was_read():
    message = ConfirmMoneyTransfer(
        id=ID, token="t", amount_cents=5, from_account="cash", to_account="NL", description="d"
    )

    assert to_command(message, "commands:3:42") == TransferMoney(ID, "t", 5, "cash", "NL", "d", "commands:3:42")
    assert to_command(ConfirmAccountCreation(id=ID, username="u"), "x") == OpenAccount(ID, "u", "x")


def test_feedback_is_no_command():
    with pytest.raises(NotACommand):
        to_command(MoneyTransferConfirmed(id=ID), "x")


def test_a_transfer_emits_the_debit_then_the_credit_keyed_by_owner_then_the_feedback_keyed_like_the_command():
    outcome = TransferOutcome(
        ID,
        None,
        (
            BalanceChange("alice", "NL1", 900, -100, "NL2", "d"),
            BalanceChange("bob", "NL2", 100, 100, "NL1", "d"),
        ),
    )

    records = to_records(outcome, "alice")

    assert [(r.topic, r.key) for r in records] == [
        (Topic.BALANCE_CHANGED, "alice"),
        (Topic.BALANCE_CHANGED, "bob"),
        (Topic.MONEY_TRANSFER_FEEDBACK, "alice"),
    ]
    assert records[0].message == BalanceChanged(
        iban="NL1", new_balance_cents=900, changed_by_cents=-100, counterparty="NL2", description="d"
    )
    assert records[2].message == MoneyTransferConfirmed(id=ID)


def test_a_refused_transfer_emits_only_its_reason():
    assert [r.message for r in to_records(TransferOutcome(ID, "invalid token"), "k")] == [
        MoneyTransferFailed(id=ID, reason="invalid token")
    ]


def test_account_creation_feedback():
    assert to_records(AccountCreationOutcome(ID, "NL66", "123"), "u")[0].message == AccountCreationConfirmed(
        id=ID, iban="NL66", token="123"
    )
    failed = to_records(AccountCreationOutcome(ID, reason="generated iban already exists, try again"), "u")
    assert failed[0].message == AccountCreationFailed(id=ID, reason="generated iban already exists, try again")
    assert failed[0].topic == Topic.ACCOUNT_CREATION_FEEDBACK
