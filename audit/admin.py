from django.contrib import admin

from audit.actions import action_label
from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only for everyone, superusers included: the log is append-only by design.

    Who may view it is the "view" permission (granted to Auditors by a data migration).
    """

    list_display = [
        "seq",
        "occurred_at",
        "actor_username",
        "what",
        "action",
        "object_type",
        "object_id",
    ]
    list_filter = ["action", "object_type"]
    search_fields = ["=object_id", "actor_username"]
    date_hierarchy = "occurred_at"
    ordering = ["-seq"]
    # Counting a long log on every page load is slow and tells an auditor nothing.
    show_full_result_count = False
    readonly_fields = [
        "seq",
        "occurred_at",
        "actor",
        "actor_username",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "before",
        "after",
        "data",
        "reason",
        "prev_hash",
        "hash",
    ]

    @admin.display(description="what")
    def what(self, event: AuditEvent) -> str:
        # Old and new names of one action read the same (audit/actions.py).
        return action_label(event.action)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
