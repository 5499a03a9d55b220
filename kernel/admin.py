"""What every app's admin shares: the command side and the read model are only looked at, never edited."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """The command side changes only through commands, and the read model only through events."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class FailedFilter(admin.SimpleListFilter):
    """Processed commands by outcome."""

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
