"""The audit trail, read-only even for operators."""

from django.contrib import admin

from clearroom.server.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["time", "action", "outcome", "actor", "target", "ip", "request_id"]
    list_filter = ["outcome", "action"]
    search_fields = ["target", "request_id", "actor__username"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
