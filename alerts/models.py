"""Alert rules on the command side (the ledger keeps them), and rules and alerts on the read side."""

from django.db import models
from django.utils import timezone

from alerts.rules import AlertKind
from kernel.databases import LEDGER
from kernel.models import ProcessedCommand
from kernel.rules import MAX_DESCRIPTION, MAX_IBAN

KINDS = [(kind.value, kind.value.replace("_", " ").lower()) for kind in AlertKind]


class LedgerAlertRule(models.Model):
    """A rule as the command handler keeps it: the source of every AlertsSettingsUpdated event."""

    database = LEDGER

    id = models.UUIDField(primary_key=True)
    iban = models.CharField(max_length=MAX_IBAN, db_index=True)
    kind = models.CharField(max_length=24, choices=KINDS)
    threshold_cents = models.BigIntegerField(null=True, blank=True)
    text = models.CharField(max_length=MAX_DESCRIPTION, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["iban", "created_at"]

    def __str__(self) -> str:
        return f"{self.iban}: {self.kind}"


class ProcessedAlertRuleChange(ProcessedCommand):
    """The outcome of one ConfirmAlertRuleChange command."""

    database = LEDGER

    iban = models.CharField(max_length=MAX_IBAN, blank=True)

    def __str__(self) -> str:
        return f"{self.command_id}: {self.reason or 'done'}"


class AlertRule(models.Model):
    """A rule as the read side shows it, from the account's latest AlertsSettingsUpdated."""

    id = models.UUIDField(primary_key=True)
    iban = models.CharField(max_length=MAX_IBAN, db_index=True)
    kind = models.CharField(max_length=24, choices=KINDS)
    threshold_cents = models.BigIntegerField(null=True, blank=True)
    text = models.CharField(max_length=MAX_DESCRIPTION, blank=True)
    position = models.SmallIntegerField(default=0)

    class Meta:
        ordering = ["iban", "position"]

    def __str__(self) -> str:
        return f"{self.iban}: {self.kind}"


class ProjectedRuleSettings(models.Model):
    """A rule change whose settings are in the read model: its answer may be told (read-your-writes)."""

    command_id = models.UUIDField(primary_key=True)
    iban = models.CharField(max_length=MAX_IBAN)
    projected_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.command_id}: {self.iban}"


class Alert(models.Model):
    """An alert that fired: one per alert on `alerts`, of either version (its id makes storing it idempotent)."""

    id = models.UUIDField(primary_key=True)
    iban = models.CharField(max_length=MAX_IBAN)
    rule_id = models.UUIDField()
    kind = models.CharField(max_length=24, choices=KINDS)
    message = models.TextField()
    trigger = models.CharField(max_length=80, help_text="the balance change that triggered it")
    created_at = models.DateTimeField(
        default=timezone.now, db_index=True, help_text="when it fired: its record's time, so a rebuild keeps it"
    )

    class Meta:
        indexes = [models.Index(fields=["iban", "-created_at"], name="alert_iban_newest")]

    def __str__(self) -> str:
        return f"{self.iban}: {self.message}"
