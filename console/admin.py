from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django.db.models import QuerySet

from console.models import Alert, AlertDelivery, AuditEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows Switchboard alone writes: the admin lists them and cannot add, change or delete
    one (the audit trail; alerts and their deliveries, to find a delivery that failed and why)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor_name", "verb", "target", "result")
    list_filter = ("verb",)
    search_fields = ("actor_name", "target", "detail")


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("opened_at", "rule", "summary", "acknowledged_by_name", "cleared_at", "clearance")
    list_filter = ("rule",)
    search_fields = ("subject", "summary")


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "alert", "news", "channel", "status", "attempts", "detail")
    list_filter = ("status", "channel")


# axes' own admin for the failed sign-ins it counts, with unlocking audited: an access
# attempt is the count of one username's failures at one address, and deleting it lifts
# that lock-out (README, "Sign-in").
admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class AuditedAccessAttemptAdmin(AccessAttemptAdmin):
    actions = ["unlock", *AccessAttemptAdmin.actions]

    @admin.action(description="Unlock: forget these failed sign-ins", permissions=["delete"])
    def unlock(self, request, queryset: QuerySet[AccessAttempt]) -> None:
        count = queryset.count()
        self.delete_queryset(request, queryset)
        self.message_user(request, f"Unlocked {count} username and address pair{'s' if count != 1 else ''}.")

    def delete_model(self, request, obj: AccessAttempt) -> None:
        self.delete_queryset(request, AccessAttempt.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset: QuerySet[AccessAttempt]) -> None:
        for attempt in queryset:
            AuditEntry.record(
                request.user, "unlocked", (attempt.username or "")[:200],
                detail=f"from {attempt.ip_address}, after {attempt.failures_since_start} failed sign-ins",
            )
        queryset.delete()
