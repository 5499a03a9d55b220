"""Commands in, records out, without a broker: names, keys and the original's event order."""

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from accounts.commands import OpenAccount
from accounts.services import AccountCreationOutcome
from alerts.rules import AlertKind, EventOfCommand, FiredAlert, PlaceInLog, Rule, parse_trigger
from alerts.services import AlertRulesOutcome
from kafka_bridge.translate import (
    NotACommand,
    alert_triggered,
    command_record,
    read_model_input,
    to_command,
    to_records,
)
from kafka_bridge.wire.headers import COMMAND_EVENTS, COMMAND_ID, EVENT_INDEX
from kafka_bridge.wire.messages import (
    AccountCreationConfirmed,
    AccountCreationFailed,
    AlertTriggered,
    BalanceChanged,
    ConfirmAccountCreation,
    ConfirmMoneyTransfer,
    MoneyTransferConfirmed,
    MoneyTransferFailed,
)
from kafka_bridge.wire.topology import Topic
from kernel.balances import BalanceChange
from testing.fake_kafka import FakeRecord
from transfers.commands import TransferMoney
from transfers.services import TransferOutcome

ID = uuid.uuid4()


def test_a_transfer_command_becomes_the_domain_command():
    message = ConfirmMoneyTransfer(
        id=ID, token="t", amount_cents=5, from_account="cash", to_account="NL", description="d"
    )

    assert to_command(message) == TransferMoney(ID, "t", 5, "cash", "NL", "d")
    assert to_command(ConfirmAccountCreation(id=ID, username="u")) == OpenAccount(ID, "u")


def test_feedback_is_no_command():
    with pytest.raises(NotACommand):
        to_command(MoneyTransferConfirmed(id=ID))


def test_a_transfer_emits_the_debit_then_the_credit_keyed_by_owner_then_the_feedback_keyed_like_the_command():
    outcome = TransferOutcome(
        ID,
        None,
        (
            BalanceChange("alice", "NL1", 900, -100, "NL2", "d"),
            BalanceChange("bob", "NL2", 100, 100, "NL1", "d"),
        ),
        events_caused=2,
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


def test_events_say_which_command_caused_them_and_the_feedback_how_many_there_are():
    changes = (BalanceChange("alice", "NL1", 900, -100, "NL2", "d"), BalanceChange("bob", "NL2", 100, 100, "NL1", "d"))

    debit, credit, feedback = to_records(TransferOutcome(ID, None, changes, events_caused=2), "alice")
    (repeat,) = to_records(TransferOutcome(ID, None, (), events_caused=2), "alice")  # answered again later

    assert dict(debit.headers) == {COMMAND_ID: ID.hex.encode(), EVENT_INDEX: b"0"}
    assert dict(credit.headers) == {COMMAND_ID: ID.hex.encode(), EVENT_INDEX: b"1"}
    assert dict(feedback.headers) == dict(repeat.headers) == {COMMAND_ID: ID.hex.encode(), COMMAND_EVENTS: b"2"}


def test_a_rule_change_says_its_feedback_waits_for_the_accounts_new_rules():
    rule = Rule(uuid.uuid4(), AlertKind.DEBIT_ABOVE, 1_000)

    settings, feedback = to_records(AlertRulesOutcome(ID, "NL1", rules=(rule,)), "NL1")
    (refused,) = to_records(AlertRulesOutcome(ID, "NL1", reason="invalid token"), "NL1")

    assert (settings.topic, dict(settings.headers)) == (
        Topic.ALERT_SETTINGS,
        {COMMAND_ID: ID.hex.encode(), EVENT_INDEX: b"0"},
    )
    assert dict(feedback.headers)[COMMAND_EVENTS] == b"1" and dict(refused.headers)[COMMAND_EVENTS] == b"0"


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


def test_a_command_no_record_carries_is_an_error():
    from dataclasses import dataclass

    from kafka_bridge.translate import command_record
    from kernel.bus import Command, UnknownCommand

    @dataclass(frozen=True)
    class CloseAccount(Command[AccountCreationOutcome]):
        iban: str

    with pytest.raises(UnknownCommand):
        command_record(CloseAccount(ID, "NL66OPEN0000000000"))


def test_a_record_that_is_no_feedback_is_never_taken_for_a_successful_transfer():
    """The answer once was "success" for anything it did not recognise."""
    from kafka_bridge.translate import NotUnderstood, feedback_of
    from transfers.commands import TransferAnswer

    assert feedback_of(MoneyTransferConfirmed(id=ID)) == (ID, TransferAnswer(success=True))
    with pytest.raises(NotUnderstood):
        feedback_of(BalanceChanged("NL", 1, 1, "cash", "d"))


def test_an_event_of_version_1_was_made_when_kafka_stamped_it_and_one_of_version_2_when_it_says():
    stamped = datetime(2026, 12, 7, 9, 0, 0, 123000, UTC)
    record = FakeRecord("balance_changed", 3, 40, key_=b"alice", timestamp_=int(stamped.timestamp() * 1000))
    old = BalanceChanged("NL66OPEN0000000000", 100, 100, "cash", "deposit")
    new = dataclasses.replace(old, changed_at=stamped - timedelta(seconds=1), reference="R1")

    [old_event, new_event] = read_model_input([(record, old), (record, new)]).events

    assert old_event.change == BalanceChange("alice", old.iban, 100, 100, "cash", "deposit", stamped)
    assert (new_event.change.changed_at, new_event.change.reference) == (stamped - timedelta(seconds=1), "R1")
    assert (old_event.partition, old_event.offset) == (3, 40)


def test_a_transfers_reference_travels_from_the_command_to_its_record_and_back():
    command = TransferMoney(ID, "t", 5, "cash", "NL66OPEN0000000000", "d", reference="INV-1")

    assert to_command(command_record(command)) == command


@pytest.mark.parametrize("trigger", [EventOfCommand(ID, 1), PlaceInLog("balance_changed", 23, 2**40)], ids=str)
def test_an_alert_of_version_1_is_read_as_the_same_alert_of_version_2(trigger):
    """Version 2 made `trigger` a record (a breaking change, so a record of its own); version 1 had it as text."""
    fired_at = datetime(2026, 12, 7, 9, 0, 0, 123000, UTC)  # when its record was written, either version
    alert = FiredAlert(ID, "NL66OPEN0000000000", ID, "DEBIT_ABOVE", "Debit of €20,00", trigger, fired_at)
    version_1 = AlertTriggered(alert.id, alert.iban, alert.rule_id, alert.kind, alert.message, str(trigger))
    record = FakeRecord("alerts", 0, 1, timestamp_=int(fired_at.timestamp() * 1000))

    assert read_model_input([(record, version_1)]).fired == [alert]
    assert read_model_input([(record, alert_triggered(alert))]).fired == [alert]
    assert parse_trigger(str(trigger)) == trigger


@pytest.mark.parametrize("text", ["not a trigger", "x/0", "balance_changed:1:" + "9" * 5000, ""])
def test_a_trigger_of_version_1_that_names_no_balance_change_is_refused_with_its_text(text):
    with pytest.raises(ValueError, match="names no balance change"):
        parse_trigger(text)
