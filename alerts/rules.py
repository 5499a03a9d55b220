"""Alert rules: what an account's owner may ask to be told, and when a balance change tells it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid5

from kernel.balances import BalanceChange
from kernel.money import format_euro
from kernel.rules import MAX_AMOUNT_CENTS, MAX_DESCRIPTION, is_plain_text

MAX_RULES = 20  # per account
ALERT_IDS = UUID("6f1e5c1a-3b0d-4c8e-9a51-0b7c2d9e4f10")  # the namespace of the alerts' ids

THRESHOLD_IS_INVALID = "threshold is invalid"
TEXT_IS_INVALID = "descr_includes is invalid"
TOO_MANY_RULES = "too many alert rules"
NO_SUCH_RULE = "no such alert rule"
KIND_IS_INVALID = "kind is invalid"


class AlertKind(StrEnum):
    BALANCE_BELOW = "BALANCE_BELOW"  # the balance drops below the threshold
    CREDIT_ABOVE = "CREDIT_ABOVE"  # money comes in, more than the threshold
    DEBIT_ABOVE = "DEBIT_ABOVE"  # money goes out, more than the threshold
    DESCRIPTION_MATCHES = "DESCRIPTION_MATCHES"  # the description contains the text, in any case


@dataclass(frozen=True)
class Rule:
    id: UUID
    kind: AlertKind
    threshold_cents: int | None = None
    text: str | None = None


@dataclass(frozen=True)
class EventOfCommand:
    """A balance change named by the command that caused it and its place among that command's events."""

    command_id: UUID
    event_index: int

    def __str__(self) -> str:
        return f"{self.command_id}/{self.event_index}"


@dataclass(frozen=True)
class PlaceInLog:
    """A balance change named by where it sits in the log: one written without our headers."""

    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"


Trigger = EventOfCommand | PlaceInLog


def parse_trigger(text: str) -> Trigger:
    """A trigger from its text (`str` of either kind), as version 1 of the alerts' records carried it."""
    try:
        if "/" in text:
            command_id, index = text.rsplit("/", 1)
            return EventOfCommand(UUID(command_id), int(index))
        topic, partition, offset = text.rsplit(":", 2)
        return PlaceInLog(topic, int(partition), int(offset))
    except ValueError:
        raise ValueError(f"{text[:100]!r} names no balance change") from None


@dataclass(frozen=True)
class FiredAlert:
    """A rule that a balance change matched: what its owner is told, and the change (`trigger`) that fired it."""

    id: UUID
    iban: str
    rule_id: UUID
    kind: str
    message: str
    trigger: Trigger
    fired_at: datetime | None = None  # known once it is on the wire: when its record was written


def fired_alerts(rules: Sequence[Rule], change: BalanceChange, trigger: Trigger) -> list[FiredAlert]:
    """The alerts `change` fires; each has the same id however often the change is judged again."""
    alerts = []
    for rule in rules:
        message = alert_message(rule, change)
        if message:
            alert_id = uuid5(ALERT_IDS, f"{trigger}|{rule.id}")
            alerts.append(FiredAlert(alert_id, change.iban, rule.id, rule.kind.value, message, trigger))
    return alerts


def rule_refusal(kind: str, threshold_cents: int | None, text: str | None) -> str | None:
    """Why a rule cannot be kept, or None."""
    if kind not in AlertKind.__members__:
        return KIND_IS_INVALID
    if text is not None and not is_plain_text(text, MAX_DESCRIPTION):
        return TEXT_IS_INVALID
    if kind == AlertKind.DESCRIPTION_MATCHES:
        return None if text and text.strip() and is_plain_text(text, MAX_DESCRIPTION) else TEXT_IS_INVALID
    if threshold_cents is None or abs(threshold_cents) > MAX_AMOUNT_CENTS:
        return THRESHOLD_IS_INVALID
    if kind != AlertKind.BALANCE_BELOW and threshold_cents < 0:
        return THRESHOLD_IS_INVALID
    return None


def alert_message(rule: Rule, change: BalanceChange) -> str | None:
    """What to tell the owner when `change` matches `rule`; None when it does not (or the rule lacks what its
    kind needs: no rule is stored so, but a record on the topic may say anything its schema allows)."""
    amount = format_euro(abs(change.changed_by_cents))
    threshold, text = rule.threshold_cents, rule.text
    if rule.kind == AlertKind.DESCRIPTION_MATCHES:
        if text and text.lower() in change.description.lower():
            return f'"{change.description}" ({amount}) matches "{text}"'
        return None
    if threshold is None:
        return None
    limit = format_euro(threshold)
    if rule.kind == AlertKind.DEBIT_ABOVE and -change.changed_by_cents > threshold:
        return f"Debit of {amount} to {change.counterparty} is above your limit of {limit}"
    if rule.kind == AlertKind.CREDIT_ABOVE and change.changed_by_cents > threshold:
        return f"Credit of {amount} from {change.counterparty} is above your limit of {limit}"
    if rule.kind == AlertKind.BALANCE_BELOW:
        before = change.new_balance_cents - change.changed_by_cents
        if change.new_balance_cents < threshold <= before:  # crossed it just now
            return f"Balance of {format_euro(change.new_balance_cents)} is below your limit of {limit}"
    return None
