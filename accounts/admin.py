from django.contrib import admin

from accounts.models import Customer, LedgerAccount, ProcessedAccountCreation
from banking.money import format_euro


class ReadOnlyAdmin(admin.ModelAdmin):
    """The command side changes only through commands, so the admin only looks."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class FailedFilter(admin.SimpleListFilter):
    title = "outcome"
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        return [("confirmed", "confirmed"), ("failed", "failed")]

    def queryset(self, request, queryset):
        if self.value() == "confirmed":
            return queryset.filter(reason="")
        if self.value() == "failed":
            return queryset.exclude(reason="")
        return queryset


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ["iban", "username", "balance", "limit", "updated_at"]
    search_fields = ["username", "iban"]
    list_filter = ["created_at"]

    @admin.display(ordering="balance_cents")
    def balance(self, account: LedgerAccount) -> str:
        return format_euro(account.balance_cents)

    @admin.display(ordering="limit_cents")
    def limit(self, account: LedgerAccount) -> str:
        return format_euro(account.limit_cents)


@admin.register(ProcessedAccountCreation)
class ProcessedAccountCreationAdmin(ReadOnlyAdmin):
    list_display = ["command_id", "username", "iban", "reason", "delivery", "created_at"]
    search_fields = ["username", "iban", "command_id"]
    list_filter = [FailedFilter, "created_at"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["user", "iban", "command_id", "created_at"]
    search_fields = ["user__username", "iban"]
    readonly_fields = ["command_id", "iban", "token"]
    list_select_related = ["user"]
