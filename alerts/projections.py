"""The read side of alerts: an account's rules as its latest settings say, and the alerts that fired."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from django.utils import timezone

from alerts.models import Alert, AlertRule, ProjectedRuleSettings
from alerts.rules import FiredAlert, Rule

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RuleSettings:
    """An AlertsSettingsUpdated event: an account's rules as they are now, and the command that set them."""

    iban: str
    rules: Sequence[Rule]
    command_id: UUID | None = None


def record_rule_settings(settings: RuleSettings) -> None:
    """Replace the account's rules with these (the latest settings are the whole truth)."""
    iban, rules = settings.iban, settings.rules
    if settings.command_id:
        ProjectedRuleSettings.objects.get_or_create(command_id=settings.command_id, defaults={"iban": iban})
    AlertRule.objects.filter(iban=iban).delete()
    AlertRule.objects.bulk_create(
        [
            AlertRule(id=r.id, iban=iban, kind=r.kind, threshold_cents=r.threshold_cents, text=r.text or "", position=n)
            for n, r in enumerate(rules)
        ]
    )


def record_alerts(fired: Sequence[FiredAlert]) -> list[Alert]:
    """Store alerts not stored before, dated when they fired; return the new ones."""
    if not fired:
        return []
    known = set(Alert.objects.filter(id__in=[f.id for f in fired]).values_list("id", flat=True))
    new = {f.id: f for f in fired if f.id not in known}  # one per id, even within a batch
    return Alert.objects.bulk_create(
        [
            Alert(
                id=f.id,
                iban=f.iban,
                rule_id=f.rule_id,
                kind=f.kind,
                message=f.message,
                trigger=str(f.trigger),
                created_at=f.fired_at or timezone.now(),
            )
            for f in new.values()
        ],
        ignore_conflicts=True,
    )


def mail_later(alerts: Sequence[Alert]) -> None:
    """Queue each new alert's mail (alerts.tasks decides whether its owner has a verified address); a broker that
    is away is logged and never holds up the alerts. Never for alerts read again from history."""
    from alerts.tasks import send_alert_email

    for alert in alerts:
        try:
            send_alert_email.delay(str(alert.id))
        except Exception:  # noqa: BLE001
            logger.exception("could not queue the e-mail of alert %s", alert.id)
