from django.contrib import admin

from kernel.admin import FailedFilter, ReadOnlyAdmin
from kernel.money import format_euro
from transfers.models import ProcessedTransfer, Transaction


@admin.register(ProcessedTransfer)
class ProcessedTransferAdmin(ReadOnlyAdmin):
    list_display = ["command_id", "reason", "delivery", "created_at"]
    search_fields = ["command_id", "reason"]
    list_filter = [FailedFilter, "created_at"]


class DirectionFilter(admin.SimpleListFilter):
    title = "direction"
    parameter_name = "direction"

    def lookups(self, request, model_admin):
        return Transaction.Direction.choices

    def queryset(self, request, queryset):
        if self.value() == Transaction.Direction.DEBIT:
            return queryset.filter(changed_by_cents__lt=0)
        if self.value() == Transaction.Direction.CREDIT:
            return queryset.filter(changed_by_cents__gte=0)
        return queryset


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    """Read-model rows come from events; rebuild them with `manage.py rebuild_projections`."""

    list_display = ["id", "iban", "direction", "amount", "new_balance", "counterparty", "description", "created_at"]
    search_fields = ["iban", "counterparty", "description"]
    list_filter = [DirectionFilter, "created_at"]

    @admin.display(ordering="changed_by_cents")
    def amount(self, row: Transaction) -> str:
        return format_euro(abs(row.changed_by_cents))

    @admin.display(ordering="new_balance_cents")
    def new_balance(self, row: Transaction) -> str:
        return format_euro(row.new_balance_cents)
