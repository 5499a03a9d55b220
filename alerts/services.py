"""Alert rules on the ledger (command side): checked against the account's token, kept, and published whole."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from accounts.ledger import Ledger
from accounts.rules import IBAN_IS_INVALID, account_refusal
from alerts.commands import ADD, ChangeAlertRule
from alerts.models import LedgerAlertRule, ProcessedAlertRuleChange
from alerts.rules import MAX_RULES, NO_SUCH_RULE, TOO_MANY_RULES, AlertKind, Rule, rule_refusal
from kernel.rules import INVALID_TOKEN

UNKNOWN_ACCOUNT = "iban is not known at this bank"


@dataclass(frozen=True)
class AlertRulesOutcome:
    """A rule change's answer; when it was carried out, the account's rules as they are now."""

    command_id: UUID
    iban: str
    reason: str | None = None
    rules: tuple[Rule, ...] | None = None  # None: nothing to publish


def change_alert_rule(command: ChangeAlertRule, *, delivery: str, ledger: Ledger) -> AlertRulesOutcome:
    """Add or remove one rule of an account; a known command id gets its stored answer again."""
    earlier = ledger.processed(ProcessedAlertRuleChange, command.command_id)
    if earlier is not None:
        rules = _rules_of(earlier.iban) if earlier.delivery == delivery and not earlier.reason else None
        return AlertRulesOutcome(command.command_id, earlier.iban, earlier.reason or None, rules)
    reason = _change(command, ledger)
    ledger.handled(
        ProcessedAlertRuleChange(
            command_id=command.command_id,
            iban="" if reason == IBAN_IS_INVALID else command.iban,
            reason=reason or "",
            delivery=delivery,
        )
    )
    rules = None if reason else _rules_of(command.iban)
    return AlertRulesOutcome(command.command_id, command.iban, reason, rules)


def _change(command: ChangeAlertRule, ledger: Ledger) -> str | None:
    if reason := account_refusal(command.iban, command.token):
        return reason
    account = ledger.get(command.iban)
    if account is None:
        return UNKNOWN_ACCOUNT
    if account.token != command.token:
        return INVALID_TOKEN
    if command.action == ADD:
        if reason := rule_refusal(command.kind or "", command.threshold_cents, command.text):
            return reason
        if LedgerAlertRule.objects.filter(iban=command.iban).count() >= MAX_RULES:
            return TOO_MANY_RULES
        LedgerAlertRule.objects.create(
            id=command.rule_id,
            iban=command.iban,
            kind=command.kind or "",
            threshold_cents=command.threshold_cents,
            text=command.text or "",
        )
        return None
    deleted, _ = LedgerAlertRule.objects.filter(iban=command.iban, id=command.rule_id).delete()
    return None if deleted else NO_SUCH_RULE


def _rules_of(iban: str) -> tuple[Rule, ...]:
    return tuple(
        Rule(rule.id, AlertKind(rule.kind), rule.threshold_cents, rule.text or None)
        for rule in LedgerAlertRule.objects.filter(iban=iban).order_by("created_at", "id")
    )
