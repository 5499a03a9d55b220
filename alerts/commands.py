"""The user actions of `alerts`: add or remove an alert rule of an account. Kafka-free: through the bus."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from uuid import UUID

from accounts.rules import account_refusal
from alerts.rules import rule_refusal
from kernel.bus import Command, ask

ADD, REMOVE = "ADD", "REMOVE"


@dataclass(frozen=True)
class RuleAnswer:
    """The bank's answer to a rule change: the rule's id, or why not."""

    rule_id: UUID | None = None
    reason: str | None = None

    @classmethod
    def failed(cls, reason: str, *, pending: bool = False) -> RuleAnswer:
        return cls(reason=reason)


@dataclass(frozen=True)
class ChangeAlertRule(Command[RuleAnswer]):
    """The ConfirmAlertRuleChange command: add a rule (its kind and threshold or text) or remove one."""

    iban: str
    token: str
    action: str
    rule_id: UUID
    kind: str | None = None
    threshold_cents: int | None = None
    text: str | None = None


async def _send(command: ChangeAlertRule) -> RuleAnswer:
    if reason := account_refusal(command.iban, command.token):
        return RuleAnswer(reason=reason)
    answer = await ask(command, key=command.iban)
    return RuleAnswer(rule_id=command.rule_id) if answer.reason is None else answer


async def add_alert_rule(
    *, iban: str, token: str, kind: str, threshold_cents: int | None = None, text: str | None = None
) -> RuleAnswer:
    """Ask to be told about balance changes of `iban` that match the rule, from now on."""
    if reason := rule_refusal(kind, threshold_cents, text):
        return RuleAnswer(reason=reason)
    text = text.strip() if text else None
    command = ChangeAlertRule(uuid.uuid4(), iban, token, ADD, uuid.uuid4(), kind, threshold_cents, text)
    return await _send(command)


async def remove_alert_rule(*, iban: str, token: str, rule_id: UUID) -> RuleAnswer:
    return await _send(ChangeAlertRule(uuid.uuid4(), iban, token, REMOVE, rule_id))
