"""Every translation between the wire (the original's Avro records, our headers) and the domain, in one place.

Commands go web -> `commands` -> handler; outcomes become events and feedback; feedback becomes the answer a
client gets; events and feedback become what the read model stores; events and rules become alerts. Each
direction is a table by type, so a record or a command this module does not know is an error, never a
default.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from accounts.commands import AccountAnswer, OpenAccount
from accounts.services import AccountCreationOutcome
from alerts.commands import ChangeAlertRule, RuleAnswer
from alerts.projections import RuleSettings
from alerts.rules import (
    MAX_RULES,
    AlertKind,
    EventOfCommand,
    FiredAlert,
    PlaceInLog,
    Rule,
    Trigger,
    parse_trigger,
    rule_refusal,
)
from alerts.services import AlertRulesOutcome
from banking.answers import Answer
from banking.ledger import LedgerCommand, LedgerOutcome
from banking.read_model import Feedback
from kafka_bridge.wire.codecs import decode_key
from kafka_bridge.wire.headers import Headers, Identity, event_headers, feedback_headers
from kafka_bridge.wire.messages import (
    AccountCreationConfirmed,
    AccountCreationFailed,
    AlertRule,
    AlertRuleChangeConfirmed,
    AlertRuleChangeFailed,
    AlertsSettingsUpdated,
    AlertTriggered,
    AlertTriggeredV2,
    BalanceChanged,
    CommandEvent,
    ConfirmAccountCreation,
    ConfirmAlertRuleChange,
    ConfirmMoneyTransfer,
    LogPosition,
    Message,
    MoneyTransferConfirmed,
    MoneyTransferFailed,
)
from kafka_bridge.wire.topology import Topic
from kernel.balances import BalanceChange
from kernel.bus import Command, UnknownCommand
from transfers.commands import TransferAnswer, TransferMoney
from transfers.projections import BalanceChangedEvent
from transfers.services import TransferOutcome

logger = logging.getLogger(__name__)

# Ours: told to a client whose command the ledger failed on for a reason of its own (a bug, a value out
# of range); the command is dead-lettered, and sending it again fails the same way.
COMMAND_FAILED = "the bank could not process this command"


class NotACommand(Exception):
    """A record decoded fine but is no command the handler knows."""


class NotUnderstood(Exception):
    """A record decoded fine but says something this bank's read side does not know how to store."""


# -- commands: the domain's, as records on `commands`, and back ------------------------------------------------

TO_RECORD: dict[type[Command[Any]], Callable[[Any], Message]] = {
    OpenAccount: lambda c: ConfirmAccountCreation(id=c.command_id, username=c.username),
    TransferMoney: lambda c: ConfirmMoneyTransfer(
        c.command_id, c.token, c.amount_cents, c.from_account, c.to_account, c.description, c.reference
    ),
    ChangeAlertRule: lambda c: ConfirmAlertRuleChange(
        c.command_id, c.iban, c.token, c.action, c.rule_id, c.kind, c.threshold_cents, c.text
    ),
}
FROM_RECORD: dict[type[Message], Callable[[Any], LedgerCommand]] = {
    ConfirmAccountCreation: lambda m: OpenAccount(m.id, m.username),
    ConfirmMoneyTransfer: lambda m: TransferMoney(
        m.id, m.token, m.amount_cents, m.from_account, m.to_account, m.description, m.reference
    ),
    ConfirmAlertRuleChange: lambda m: ChangeAlertRule(
        m.id, m.iban, m.token, m.action, m.rule_id, m.kind, m.threshold, m.text
    ),
}
COMMAND_KINDS = {OpenAccount: "account", TransferMoney: "transfer", ChangeAlertRule: "alert rule"}


def command_record(command: Command[Any]) -> Message:
    try:
        return TO_RECORD[type(command)](command)
    except KeyError:
        raise UnknownCommand(f"no record carries {type(command).__name__}") from None


def to_command(message: Message) -> LedgerCommand:
    try:
        return FROM_RECORD[type(message)](message)
    except KeyError:
        raise NotACommand(f"{message.RECORD} is not a command") from None


def command_kind(command: Command[Any]) -> str:
    """What the metrics call a kind of command: `account`, `transfer`, `alert rule`."""
    return COMMAND_KINDS[type(command)]


# -- a balance change, on the wire ----------------------------------------------------------------------------


def balance_changed(change: BalanceChange) -> BalanceChanged:
    """The event of a balance change (its owner is the record's key)."""
    return BalanceChanged(
        change.iban,
        change.new_balance_cents,
        change.changed_by_cents,
        change.counterparty,
        change.description,
        change.changed_at,
        change.reference,
    )


def balance_change_of(record: Any, event: BalanceChanged) -> BalanceChange:
    """The balance change an event records, owned by the username its key holds. An event written before
    `changed_at` existed (version 1) was made at about the time Kafka stamped its record."""
    changed_at = event.changed_at or kafka_time(record)
    return BalanceChange(
        decode_key(record.key()) or "",
        event.iban,
        event.new_balance_cents,
        event.changed_by_cents,
        event.counterparty,
        event.description,
        changed_at,
        event.reference,
    )


def kafka_time(record: Any) -> datetime:
    """When the record's producer wrote it (the time Kafka keeps with it)."""
    return datetime.fromtimestamp(record.timestamp()[1] / 1000, UTC)


# -- outcomes: the records the handler produces for them ------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """A record to produce: where, under which key, what, and our headers."""

    topic: Topic
    key: str | None
    message: Message
    headers: Headers = field(default_factory=list)

    @property
    def confirms(self) -> bool:
        return isinstance(self.message, MoneyTransferConfirmed | AccountCreationConfirmed | AlertRuleChangeConfirmed)


def _account_records(outcome: AccountCreationOutcome, command_key: str | None) -> list[Outgoing]:
    feedback: Message = (
        AccountCreationFailed(id=outcome.command_id, reason=outcome.reason)
        if outcome.reason
        else AccountCreationConfirmed(id=outcome.command_id, iban=outcome.iban, token=outcome.token)
    )
    return [Outgoing(Topic.ACCOUNT_CREATION_FEEDBACK, command_key, feedback, feedback_headers(outcome.command_id, 0))]


def _transfer_records(outcome: TransferOutcome, command_key: str | None) -> list[Outgoing]:
    """BalanceChanged for the debited then the credited account (keyed by their owners), then the feedback."""
    records = [
        Outgoing(
            Topic.BALANCE_CHANGED,
            change.username,
            balance_changed(change),
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
    headers = feedback_headers(outcome.command_id, len(records))
    return [*records, Outgoing(Topic.ALERT_RULE_FEEDBACK, command_key, feedback, headers)]


RECORDS_OF: dict[type[LedgerOutcome], Callable[[Any, str | None], list[Outgoing]]] = {
    AccountCreationOutcome: _account_records,
    TransferOutcome: _transfer_records,
    AlertRulesOutcome: _alert_rule_records,
}
# A failed account creation is not told: the read side would free the username of a customer who may exist.
FAILED_FEEDBACK: dict[type[LedgerCommand], tuple[Topic, Callable[[UUID], Message]] | None] = {
    OpenAccount: None,
    TransferMoney: (Topic.MONEY_TRANSFER_FEEDBACK, lambda id: MoneyTransferFailed(id=id, reason=COMMAND_FAILED)),
    ChangeAlertRule: (Topic.ALERT_RULE_FEEDBACK, lambda id: AlertRuleChangeFailed(id=id, reason=COMMAND_FAILED)),
}


def to_records(outcome: LedgerOutcome, command_key: str | None) -> list[Outgoing]:
    """The events an outcome caused, then its feedback keyed like its command."""
    return RECORDS_OF[type(outcome)](outcome, command_key)


def failure_records(command: LedgerCommand, command_key: str | None) -> list[Outgoing]:
    """What a client hears when the ledger fails on its command."""
    told = FAILED_FEEDBACK[type(command)]
    if told is None:
        return []
    topic, failed = told
    return [Outgoing(topic, command_key, failed(command.command_id), feedback_headers(command.command_id, 0))]


# -- feedback: the answer a client gets -------------------------------------------------------------------------

ANSWERS: dict[type[Message], Callable[[Any], tuple[UUID, Answer]]] = {
    AccountCreationConfirmed: lambda m: (m.id, AccountAnswer(iban=m.iban, token=m.token)),
    AccountCreationFailed: lambda m: (m.id, AccountAnswer(reason=m.reason)),
    MoneyTransferConfirmed: lambda m: (m.id, TransferAnswer(success=True)),
    MoneyTransferFailed: lambda m: (m.id, TransferAnswer(success=False, reason=m.reason)),
    AlertRuleChangeConfirmed: lambda m: (m.id, RuleAnswer()),
    AlertRuleChangeFailed: lambda m: (m.id, RuleAnswer(reason=m.reason)),
}


def feedback_of(feedback: Message) -> tuple[UUID, Answer]:
    """The command a feedback record answers, and the answer its client gets."""
    try:
        return ANSWERS[type(feedback)](feedback)
    except KeyError:
        raise NotUnderstood(f"{feedback.RECORD} is no feedback") from None


# -- the read model's input ------------------------------------------------------------------------------------


@dataclass
class ReadModelInput:
    """One batch of records as the read model takes them, by kind."""

    events: list[BalanceChangedEvent] = field(default_factory=list)
    feedback: list[Feedback] = field(default_factory=list)
    settings: list[RuleSettings] = field(default_factory=list)
    fired: list[FiredAlert] = field(default_factory=list)


def read_model_input(items: Sequence[tuple[Any, Message]]) -> ReadModelInput:
    """(record, message) pairs -> what the read model stores."""
    batch = ReadModelInput()
    for record, read in items:
        message = upcast(read)
        identity = Identity.of(record)
        if isinstance(message, BalanceChanged):
            change = balance_change_of(record, message)
            batch.events.append(
                BalanceChangedEvent(
                    change, record.partition(), record.offset(), identity.command_id, identity.event_index
                )
            )
        elif isinstance(message, AlertsSettingsUpdated):
            batch.settings.append(RuleSettings(message.iban, rules_of(message), identity.command_id))
        elif isinstance(message, AlertTriggeredV2):
            batch.fired.append(fired_alert_of(message, kafka_time(record)))
        else:
            command_id, answer = feedback_of(message)  # or an error: every other kind of record is above
            batch.feedback.append(Feedback(command_id, answer, identity.command_events))
    return batch


# -- alerts ----------------------------------------------------------------------------------------------------


def alert_triggered(alert: FiredAlert) -> AlertTriggeredV2:
    return AlertTriggeredV2(
        alert.id, alert.iban, alert.rule_id, alert.kind, alert.message, _trigger_record(alert.trigger)
    )


def fired_alert_of(event: AlertTriggeredV2, fired_at: datetime | None = None) -> FiredAlert:
    trigger = _trigger_of(event.trigger)
    return FiredAlert(event.id, event.iban, event.rule_id, event.kind, event.message, trigger, fired_at)


def _trigger_record(trigger: Trigger) -> CommandEvent | LogPosition:
    if isinstance(trigger, EventOfCommand):
        return CommandEvent(trigger.command_id, trigger.event_index)
    return LogPosition(trigger.topic, trigger.partition, trigger.offset)


def _trigger_of(record: CommandEvent | LogPosition) -> Trigger:
    if isinstance(record, CommandEvent):
        return EventOfCommand(record.command_id, record.event_index)
    return PlaceInLog(record.topic, record.partition, record.offset)


# -- upcasters: records of a version a breaking change retired, read into the shape that replaced them ---------

UPCASTERS: dict[type[Message], Callable[[Any], Message]] = {
    AlertTriggered: lambda m: AlertTriggeredV2(
        m.id, m.iban, m.rule_id, m.kind, m.message, _trigger_record(parse_trigger(m.trigger))
    ),
}


def upcast(message: Message) -> Message:
    """The message in the shape of its record's current version (the message itself if it has that shape)."""
    upcaster = UPCASTERS.get(type(message))
    return message if upcaster is None else upcaster(message)


def rules_of(settings: AlertsSettingsUpdated) -> tuple[Rule, ...]:
    """An account's rules from its settings record. A rule the domain would refuse (a value the schema allows
    and a rule may not have, such as a threshold of null) is logged and left out, and so is every rule past the
    most an account may have (the topic is trusted no further than the domain's own rules)."""
    if len(settings.rules) > MAX_RULES:
        logger.warning(
            "keeping %d of the %d rules of %r: no account has more", MAX_RULES, len(settings.rules), settings.iban[:40]
        )
    rules = []
    for rule in settings.rules[:MAX_RULES]:
        if reason := rule_refusal(rule.kind, rule.threshold, rule.text):
            logger.warning("skipping a rule of %r that cannot be kept (%s): %r", settings.iban[:40], reason, rule)
            continue
        rules.append(Rule(rule.id, AlertKind(rule.kind), rule.threshold, rule.text))
    return tuple(rules)
