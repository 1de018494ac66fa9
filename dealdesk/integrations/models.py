"""Rows that make every step and vendor exchange durable and visible.

These are infrastructure, not business objects: their status is a plain field moved by the
services in this package (no django-fsm, no history), because the relay touches thousands
of rows a minute. What a person does to them (retrying a dead letter) is audited.
"""

from django.db import models
from django.utils import timezone


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # waiting for its (next) attempt
    RUNNING = "running", "Running"  # claimed by a worker until next_attempt_at (its lease)
    DONE = "done", "Done"
    DEAD = "dead", "Dead letter"  # a person must look: permanent error or attempts spent


class Delivery(models.Model):
    """What a row delivered at least once carries: where it stands and when it is next due."""

    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    # Due time of the next attempt; while running, the end of the worker's lease.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class OutboxMessage(Delivery):
    """One pipeline step to run: written in the same transaction as the transition that
    calls for it, so a commit without its step cannot happen (integrations/outbox.py)."""

    task = models.CharField(max_length=200, help_text="Dotted path of the Celery task to run.")
    args = models.JSONField(default=list)
    # What the step is about, for the admin and the exception page (not a foreign key: any
    # model may enter the pipeline).
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    state = models.CharField(
        max_length=40, blank=True, help_text="The state the object entered that called for it."
    )
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The sweep's query: what is due. Partial: done rows (nearly all) stay out of it.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status__in=["pending", "running"]),
                name="outbox_due",
            ),
            models.Index(fields=["object_type", "object_id"], name="outbox_object"),
        ]
        permissions = [("retry_outboxmessage", "Can retry a dead-lettered pipeline step")]

    def __str__(self) -> str:
        return f"{self.task}({', '.join(map(str, self.args))}) [{self.status}]"


class IntegrationCall(models.Model):
    """One outbound call to a vendor: what was asked, under which key, how it went."""

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED_RETRYABLE = "failed_retryable", "Failed (will retry)"
        FAILED = "failed", "Failed"

    vendor = models.CharField(max_length=40)
    operation = models.CharField(max_length=100)
    idempotency_key = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices)
    duration_ms = models.PositiveIntegerField()
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["vendor", "-started_at"], name="integration_call_vendor")]

    def __str__(self) -> str:
        return f"{self.vendor}.{self.operation} {self.status}"


class WebhookEvent(Delivery):
    """A vendor's webhook, stored once verified and before it is acted on (the inbox).

    Unique on (vendor, event_id): a vendor delivers an event more than once, and a repeat
    is acknowledged and ignored.
    """

    vendor = models.CharField(max_length=40)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100, blank=True)
    payload = models.JSONField()
    signature_verified = models.BooleanField(default=False)
    handler_error = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["vendor", "event_id"], name="webhook_event_once")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status__in=["pending", "running"]),
                name="webhook_due",
            )
        ]
        permissions = [("retry_webhookevent", "Can retry a dead-lettered webhook event")]

    def __str__(self) -> str:
        return f"{self.vendor} {self.type} {self.event_id} [{self.status}]"
