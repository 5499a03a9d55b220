from django.contrib import admin

from alerts.models import Alert, AlertRule, LedgerAlertRule
from kernel.admin import ReadOnlyAdmin


@admin.register(LedgerAlertRule)
class LedgerAlertRuleAdmin(ReadOnlyAdmin):
    """Rules change through commands only."""

    list_display = ["iban", "kind", "threshold_cents", "text", "created_at"]
    search_fields = ["iban", "text"]
    list_filter = ["kind"]


@admin.register(AlertRule)
class AlertRuleAdmin(ReadOnlyAdmin):
    list_display = ["iban", "kind", "threshold_cents", "text"]
    search_fields = ["iban"]
    list_filter = ["kind"]


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "iban", "kind", "message"]
    search_fields = ["iban", "message"]
    list_filter = ["kind", "created_at"]
