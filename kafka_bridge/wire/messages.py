"""The original's seven Avro records and our five, as typed Python messages; fields added by a later version of a
record have defaults, so that records written before them read alike.

Field names are ours (`amount_cents`, `from_account`); `WIRE_NAMES` maps them to the Avro field names
of the original (`amount`, `from`). Ids are `uuid.UUID` here and fixed(16) on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar
from uuid import UUID


@dataclass(frozen=True)
class Message:
    RECORD: ClassVar[str]
    WIRE_NAMES: ClassVar[dict[str, str]] = {}
    NESTED: ClassVar[dict[str, type[Message]]] = {}  # field -> the record type of its items (Avro arrays)
    UNIONS: ClassVar[dict[str, tuple[type[Message], ...]]] = {}  # field -> the record types it may hold


@dataclass(frozen=True)
class ConfirmAccountCreation(Message):
    RECORD = "ConfirmAccountCreation"
    id: UUID
    username: str


@dataclass(frozen=True)
class AccountCreationConfirmed(Message):
    RECORD = "AccountCreationConfirmed"
    id: UUID
    iban: str
    token: str


@dataclass(frozen=True)
class AccountCreationFailed(Message):
    RECORD = "AccountCreationFailed"
    id: UUID
    reason: str


@dataclass(frozen=True)
class ConfirmMoneyTransfer(Message):
    RECORD = "ConfirmMoneyTransfer"
    WIRE_NAMES = {"amount_cents": "amount", "from_account": "from", "to_account": "to"}
    id: UUID
    token: str
    amount_cents: int
    from_account: str  # an IBAN, or "cash"
    to_account: str  # an IBAN, or "cash"
    description: str
    reference: str | None = None  # version 2


@dataclass(frozen=True)
class MoneyTransferConfirmed(Message):
    RECORD = "MoneyTransferConfirmed"
    id: UUID


@dataclass(frozen=True)
class MoneyTransferFailed(Message):
    RECORD = "MoneyTransferFailed"
    id: UUID
    reason: str


@dataclass(frozen=True)
class BalanceChanged(Message):
    RECORD = "BalanceChanged"
    WIRE_NAMES = {"new_balance_cents": "new_balance", "changed_by_cents": "changed_by", "counterparty": "from_to"}
    iban: str
    new_balance_cents: int
    changed_by_cents: int  # negative for a debit
    counterparty: str  # the other IBAN, or "cash"
    description: str
    changed_at: datetime | None = None  # version 2: when the ledger made the change
    reference: str | None = None  # version 2: the transfer's payment reference


# Ours, for alerts. Kinds and actions are Avro enums: their symbols are these strings.


@dataclass(frozen=True)
class ConfirmAlertRuleChange(Message):
    RECORD = "ConfirmAlertRuleChange"
    id: UUID
    iban: str
    token: str
    action: str  # ADD or REMOVE
    rule_id: UUID
    kind: str | None = None  # BALANCE_BELOW, CREDIT_ABOVE, DEBIT_ABOVE, DESCRIPTION_MATCHES
    threshold: int | None = None  # cents
    text: str | None = None


@dataclass(frozen=True)
class AlertRuleChangeConfirmed(Message):
    RECORD = "AlertRuleChangeConfirmed"
    id: UUID


@dataclass(frozen=True)
class AlertRuleChangeFailed(Message):
    RECORD = "AlertRuleChangeFailed"
    id: UUID
    reason: str


@dataclass(frozen=True)
class AlertRule(Message):
    """An item of AlertsSettingsUpdated.rules (no record of its own on any topic)."""

    RECORD = "AlertRule"
    id: UUID
    kind: str
    threshold: int | None = None
    text: str | None = None


@dataclass(frozen=True)
class AlertsSettingsUpdated(Message):
    RECORD = "AlertsSettingsUpdated"
    NESTED = {"rules": AlertRule}
    iban: str
    rules: tuple[AlertRule, ...]


@dataclass(frozen=True)
class AlertTriggered(Message):
    """Version 1, retired: read from `alerts` (see AlertTriggeredV2), never written."""

    RECORD = "AlertTriggered"
    id: UUID
    iban: str
    rule_id: UUID
    kind: str
    message: str
    trigger: str


@dataclass(frozen=True)
class CommandEvent(Message):
    """A trigger of AlertTriggeredV2 (no record of its own on any topic)."""

    RECORD = "CommandEvent"
    command_id: UUID
    event_index: int


@dataclass(frozen=True)
class LogPosition(Message):
    """A trigger of AlertTriggeredV2 (no record of its own on any topic)."""

    RECORD = "LogPosition"
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class AlertTriggeredV2(Message):
    """Version 2 of AlertTriggered, which it replaces on `alerts`: a breaking change (`trigger` typed), so a record
    of its own; `kafka_bridge.translate` reads version 1 into this shape."""

    RECORD = "AlertTriggeredV2"
    UNIONS = {"trigger": (CommandEvent, LogPosition)}
    id: UUID
    iban: str
    rule_id: UUID
    kind: str
    message: str
    trigger: CommandEvent | LogPosition


MESSAGE_TYPES: dict[str, type[Message]] = {
    cls.RECORD: cls
    for cls in (
        ConfirmAccountCreation,
        AccountCreationConfirmed,
        AccountCreationFailed,
        ConfirmMoneyTransfer,
        MoneyTransferConfirmed,
        MoneyTransferFailed,
        BalanceChanged,
        ConfirmAlertRuleChange,
        AlertRuleChangeConfirmed,
        AlertRuleChangeFailed,
        AlertsSettingsUpdated,
        AlertTriggered,
        AlertTriggeredV2,
    )
}
