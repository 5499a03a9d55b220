from django.contrib import admin

from accounts.models import Customer, LedgerAccount, Login, ProcessedAccountCreation
from kernel.admin import FailedFilter, ReadOnlyAdmin
from kernel.money import format_euro


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


@admin.register(Login)
class LoginAdmin(ReadOnlyAdmin):
    list_display = ["username", "alert_email", "unverified_email", "created_at"]
    search_fields = ["username", "command_id"]
    exclude = ["password"]  # a hash, but still nothing to show


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = ["iban", "command_id", "created_at"]
    search_fields = ["iban", "command_id"]
