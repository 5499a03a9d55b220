"""Between Kafka and the ledger: commands in, domain outcomes out, and the records they become."""

from __future__ import annotations

from dataclasses import dataclass, field

from accounts.commands import OpenAccount
from accounts.services import AccountCreationOutcome
from alerts.commands import ChangeAlertRule
from alerts.services import AlertRulesOutcome
from kafka_bridge.wire.headers import Headers, event_headers, feedback_headers
from kafka_bridge.wire.messages import (
    AccountCreationConfirmed,
    AccountCreationFailed,
    AlertRule,
    AlertRuleChangeConfirmed,
    AlertRuleChangeFailed,
    AlertsSettingsUpdated,
    BalanceChanged,
    ConfirmAccountCreation,
    ConfirmAlertRuleChange,
    ConfirmMoneyTransfer,
    Message,
    MoneyTransferConfirmed,
    MoneyTransferFailed,
)
from kafka_bridge.wire.topology import Topic
from transfers.commands import TransferMoney
from transfers.services import LedgerCommand, LedgerOutcome

# Ours: told to a client whose transfer the ledger failed on for a reason of its own (a bug, a value out
# of range); the command is dead-lettered, and sending it again fails the same way.
COMMAND_FAILED = "the bank could not process this command"


@dataclass(frozen=True)
class Outgoing:
    """A record to produce: where, under which key, what, and our headers."""

    topic: Topic
    key: str | None
    message: Message
    headers: Headers = field(default_factory=list)


class NotACommand(Exception):
    """A record decoded fine but is no command the handler knows."""


def to_command(message: Message) -> LedgerCommand:
    if isinstance(message, ConfirmMoneyTransfer):
        return TransferMoney(
            command_id=message.id,
            token=message.token,
            amount_cents=message.amount_cents,
            from_account=message.from_account,
            to_account=message.to_account,
            description=message.description,
        )
    if isinstance(message, ConfirmAccountCreation):
        return OpenAccount(command_id=message.id, username=message.username)
    if isinstance(message, ConfirmAlertRuleChange):
        return ChangeAlertRule(
            message.id,
            message.iban,
            message.token,
            message.action,
            message.rule_id,
            message.kind,
            message.threshold,
            message.text,
        )
    raise NotACommand(f"{message.RECORD} is not a command")


def to_records(outcome: LedgerOutcome, command_key: str | None) -> list[Outgoing]:
    """BalanceChanged for the debited then the credited account (keyed by their owners), then the feedback."""
    if isinstance(outcome, AlertRulesOutcome):
        return _alert_rule_records(outcome, command_key)
    if isinstance(outcome, AccountCreationOutcome):
        feedback: Message = (
            AccountCreationFailed(id=outcome.command_id, reason=outcome.reason)
            if outcome.reason
            else AccountCreationConfirmed(id=outcome.command_id, iban=outcome.iban, token=outcome.token)
        )
        return [
            Outgoing(Topic.ACCOUNT_CREATION_FEEDBACK, command_key, feedback, feedback_headers(outcome.command_id, 0))
        ]
    records = [
        Outgoing(
            Topic.BALANCE_CHANGED,
            change.username,
            BalanceChanged(
                iban=change.iban,
                new_balance_cents=change.new_balance_cents,
                changed_by_cents=change.changed_by_cents,
                counterparty=change.counterparty,
                description=change.description,
            ),
            event_headers(outcome.command_id, index),
        )
        for index, change in enumerate(outcome.balance_changes)
    ]
    feedback = (
        MoneyTransferFailed(id=outcome.command_id, reason=outcome.reason)
        if outcome.reason
        else MoneyTransferConfirmed(id=outcome.command_id)
    )
    headers = feedback_headers(outcome.command_id, outcome.events_caused)
    return [*records, Outgoing(Topic.MONEY_TRANSFER_FEEDBACK, command_key, feedback, headers)]


def _alert_rule_records(outcome: AlertRulesOutcome, command_key: str | None) -> list[Outgoing]:
    """The account's rules as they are now (keyed by IBAN, on the compacted topic), then the feedback."""
    records = []
    if outcome.rules is not None:
        settings = AlertsSettingsUpdated(
            iban=outcome.iban,
            rules=tuple(AlertRule(r.id, r.kind.value, r.threshold_cents, r.text) for r in outcome.rules),
        )
        records.append(Outgoing(Topic.ALERT_SETTINGS, outcome.iban, settings, event_headers(outcome.command_id, 0)))
    feedback: Message = (
        AlertRuleChangeFailed(id=outcome.command_id, reason=outcome.reason)
        if outcome.reason
        else AlertRuleChangeConfirmed(id=outcome.command_id)
    )
    return [
        *records,
        Outgoing(Topic.ALERT_RULE_FEEDBACK, command_key, feedback, feedback_headers(outcome.command_id, len(records))),
    ]


def failure_records(command: LedgerCommand, command_key: str | None) -> list[Outgoing]:
    """What a client hears when the ledger fails on its command: a failed transfer. A failed account
    creation is not told (the read side would free the username of a customer who may exist)."""
    if isinstance(command, TransferMoney):
        failed = MoneyTransferFailed(id=command.command_id, reason=COMMAND_FAILED)
        return [Outgoing(Topic.MONEY_TRANSFER_FEEDBACK, command_key, failed, feedback_headers(command.command_id, 0))]
    if isinstance(command, ChangeAlertRule):
        failed = AlertRuleChangeFailed(id=command.command_id, reason=COMMAND_FAILED)
        return [Outgoing(Topic.ALERT_RULE_FEEDBACK, command_key, failed, feedback_headers(command.command_id, 0))]
    return []
