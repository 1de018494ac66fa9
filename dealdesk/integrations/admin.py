"""The exception page for stopped work: dead-lettered pipeline steps and webhook events, with
the error, the payload and a Retry action (audited, through the same services as any caller).
The vendor call log is read-only."""

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.html import format_html

from dealdesk.integrations.models import IntegrationCall, OutboxMessage, WebhookEvent
from dealdesk.integrations.outbox import outbox_retry
from dealdesk.integrations.webhooks import webhook_retry


class ReadOnly(admin.ModelAdmin):
    """Rows change only through the integrations services, never by hand."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def _pretty(value) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True, default=str))


def _retry_selected(retry, id_field: str):
    def action(modeladmin, request, queryset):
        retried = 0
        for row in queryset.filter(status="dead"):
            try:
                retry(**{id_field: row.pk}, actor=request.user, reason="retried from the admin")
            except PermissionDenied as exc:
                modeladmin.message_user(request, str(exc), messages.ERROR)
                return
            retried += 1
        skipped = queryset.count() - retried
        note = f" ({skipped} not dead-lettered, left alone)" if skipped else ""
        modeladmin.message_user(request, f"{retried} sent again{note}.", messages.SUCCESS)

    action.short_description = "Retry selected dead letters"
    return action


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnly):
    list_display = [
        "pk",
        "task",
        "object_type",
        "object_id",
        "state",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["status", "task"]
    search_fields = ["object_id", "task", "last_error"]
    actions = [_retry_selected(outbox_retry, "message_id")]
    readonly_fields = [
        "task",
        "args_pretty",
        "object_type",
        "object_id",
        "state",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "done_at",
    ]
    exclude = ["args"]

    @admin.display(description="args")
    def args_pretty(self, obj):
        return _pretty(obj.args)


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnly):
    list_display = ["pk", "vendor", "type", "event_id", "status", "attempts", "received_at"]
    list_filter = ["status", "vendor", "type"]
    search_fields = ["event_id", "handler_error"]
    actions = [_retry_selected(webhook_retry, "event_pk")]
    readonly_fields = [
        "vendor",
        "event_id",
        "type",
        "payload_pretty",
        "signature_verified",
        "status",
        "attempts",
        "next_attempt_at",
        "handler_error",
        "received_at",
        "processed_at",
    ]
    exclude = ["payload"]

    @admin.display(description="payload")
    def payload_pretty(self, obj):
        return _pretty(obj.payload)


@admin.register(IntegrationCall)
class IntegrationCallAdmin(ReadOnly):
    list_display = ["started_at", "vendor", "operation", "status", "duration_ms", "idempotency_key"]
    list_filter = ["vendor", "status", "operation"]
    search_fields = ["idempotency_key", "error"]
