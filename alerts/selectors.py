"""Reads of the alerts' read model."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from alerts.models import Alert, AlertRule


def rules_of(iban: str) -> QuerySet[AlertRule]:
    return AlertRule.objects.filter(iban=iban).order_by("position")


def latest_alerts(iban: str, limit: int) -> QuerySet[Alert]:
    return Alert.objects.filter(iban=iban).order_by("-created_at")[: max(limit, 0)]


def alerts_fired_today() -> int:
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return Alert.objects.filter(created_at__gte=start).count()
