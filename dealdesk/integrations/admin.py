"""The exception page for stopped work: dead-lettered pipeline steps and webhook events, with
the error, the payload, a Retry button and a Retry action (audited, through the same services as any caller).
The vendor call log is read-only."""

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path
from django.utils.html import format_html

from dealdesk.integrations.models import (
    DeliveryStatus,
    IntegrationCall,
    OutboxMessage,
    WebhookEvent,
)
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


class DeadLetterAdmin(ReadOnly):
    """A Retry button on a dead letter's page and a Retry action on the list, both through
    the service `retry` (permission checked and audited there)."""

    change_form_template = "admin/integrations/dead_letter_change_form.html"
    actions = ["retry_selected"]

    def retry(self, row_pk: int, *, actor, reason: str):
        raise NotImplementedError

    def get_urls(self):
        return [
            path(
                "<int:pk>/retry/",
                self.admin_site.admin_view(self.retry_view),
                name=f"{self.opts.app_label}_{self.opts.model_name}_retry",
            ),
            *super().get_urls(),
        ]

    def retry_view(self, request, pk: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        self._retry_rows(request, self.get_queryset(request).filter(pk=pk))
        return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", pk)

    @admin.action(description="Retry selected dead letters")
    def retry_selected(self, request, queryset) -> None:
        self._retry_rows(request, queryset)

    def _retry_rows(self, request, queryset) -> None:
        retried = 0
        for row in queryset.filter(status=DeliveryStatus.DEAD):
            try:
                self.retry(row.pk, actor=request.user, reason="retried from the admin")
            except PermissionDenied as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return
            retried += 1
        skipped = queryset.count() - retried
        note = f" ({skipped} not dead-lettered, left alone)" if skipped else ""
        self.message_user(request, f"{retried} sent again{note}.", messages.SUCCESS)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(DeadLetterAdmin):
    list_display = [
        "pk",
        "task",
        "status",
        "attempts",
        "next_attempt_at",
        "object_type",
        "object_id",
        "state",
        "created_at",
    ]
    list_filter = ["status", "task"]
    search_fields = ["object_id", "task", "last_error"]
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

    def retry(self, row_pk: int, *, actor, reason: str):
        return outbox_retry(message_id=row_pk, actor=actor, reason=reason)

    @admin.display(description="args")
    def args_pretty(self, obj):
        return _pretty(obj.args)


@admin.register(WebhookEvent)
class WebhookEventAdmin(DeadLetterAdmin):
    list_display = ["pk", "vendor", "type", "event_id", "status", "attempts", "received_at"]
    list_filter = ["status", "vendor", "type"]
    search_fields = ["event_id", "handler_error"]
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

    def retry(self, row_pk: int, *, actor, reason: str):
        return webhook_retry(event_pk=row_pk, actor=actor, reason=reason)

    @admin.display(description="payload")
    def payload_pretty(self, obj):
        return _pretty(obj.payload)


@admin.register(IntegrationCall)
class IntegrationCallAdmin(ReadOnly):
    list_display = ["started_at", "vendor", "operation", "status", "duration_ms", "idempotency_key"]
    list_filter = ["vendor", "status", "operation"]
    search_fields = ["idempotency_key", "error"]
