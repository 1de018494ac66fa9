"""The webhook inbox: a vendor's event is verified on its raw body, stored once (unique on the
vendor's event id), answered 2xx at once and handled later by a task.

A vendor plugs in with a `WebhookVendor` (how to verify a request and read its id and type)
named in settings.WEBHOOK_VENDORS, and a handler task path in its `handler`. Handlers re-read
the vendor's object before acting (events repeat and arrive out of order) and are idempotent.
"""

import logging
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils.module_loading import import_string

from audit.actions import Action
from dealdesk.integrations import delivery
from dealdesk.integrations.errors import BROKER_ERRORS
from dealdesk.integrations.models import DeliveryStatus, WebhookEvent

log = logging.getLogger(__name__)

RETRY_PERM = "integrations.retry_webhookevent"
# Queued events a worker takes at once for a vendor with a batch handler: enough that a
# burst's events of one object share a batch, few enough that a batch ends in seconds.
BATCH = 100
OPEN = (DeliveryStatus.PENDING, DeliveryStatus.RUNNING)


class InvalidWebhook(Exception):
    """The request is not a genuine event of this vendor (bad signature, not its format)."""


@dataclass(frozen=True)
class VerifiedEvent:
    event_id: str
    type: str
    payload: dict


class WebhookVendor(Protocol):
    handler: str  # dotted path of the task that handles a stored event: handler(event_pk)
    # Optional: dotted path of a function handling many stored events in one go,
    # batch_handler(event_pks) -> {pk: exception} for those that failed (the others are done).
    # It only sees first attempts; a retry runs alone through `handler`.
    batch_handler: str

    def verify(self, request: HttpRequest) -> VerifiedEvent:
        """Check the signature on the raw body; raise InvalidWebhook when it fails."""
        ...


def webhook_vendor(name: str) -> WebhookVendor | None:
    path = settings.WEBHOOK_VENDORS.get(name)
    return import_string(path)() if path else None


def webhook_receive(*, vendor: str, event: VerifiedEvent) -> tuple[WebhookEvent, bool]:
    """Store a verified event once; (row, created). A repeat is acknowledged and ignored."""
    try:
        with transaction.atomic():
            row = WebhookEvent.objects.create(
                vendor=vendor,
                event_id=event.event_id,
                type=event.type,
                payload=event.payload,
                signature_verified=True,
            )
            transaction.on_commit(lambda: relay_webhook(row.pk, 0))
            return row, True
    except IntegrityError:
        # The unique (vendor, event_id) constraint decided: another delivery stored it first.
        return WebhookEvent.objects.get(vendor=vendor, event_id=event.event_id), False


def relay_webhook(event_pk: int, attempts: int = 0) -> bool:
    """Send the event's task for its next attempt (`attempts` made so far)."""
    from dealdesk.integrations.tasks import webhook_process

    try:
        webhook_process.apply_async((event_pk, attempts))
    except BROKER_ERRORS:  # the broker is down: the sweep sends it later
        log.warning("webhook event %s: could not enqueue; the sweep will", event_pk, exc_info=True)
        return False
    return True


def webhook_sweep(*, limit: int = 1000) -> int:
    """Send due webhook events to their handlers again (beat, with the outbox sweep)."""
    due = dict(delivery.due(WebhookEvent).values_list("pk", "attempts")[:limit])
    delivery.release(WebhookEvent, list(due), grace_seconds=settings.OUTBOX_RELAY_GRACE_SECONDS)
    return sum(relay_webhook(pk, attempts) for pk, attempts in due.items())


def webhook_process(event_pk: int, attempts: int | None = None) -> bool:
    """Worker side: run the vendor's handler for a stored event, once it succeeds. A
    vendor with a batch handler has the event's first attempt handled together with up to
    `BATCH - 1` more of its queued events (their own tasks then find them done).

    `attempts`: how many the event had when this task was sent; once it has had more (in
    another event's batch) the task is stale, and a failure's retry waits for its backoff
    and the sweep. None (a task sent before batches): attempt it whatever its count."""
    open_rows = WebhookEvent.objects.filter(pk=event_pk, status__in=OPEN)
    if attempts is not None:
        open_rows = open_rows.filter(attempts=attempts)
    if not open_rows.exists():
        # Handled already, mostly in another event's batch: said without a transaction,
        # as most tasks of a busy vendor's events find theirs so.
        return False
    event = delivery.claim(WebhookEvent, event_pk, attempts=attempts)
    if event is None:
        return False
    vendor = webhook_vendor(event.vendor)
    batch_handler = getattr(vendor, "batch_handler", "")
    if batch_handler and event.attempts == 1:
        more = delivery.claim_fresh(WebhookEvent, Q(vendor=event.vendor), limit=BATCH - 1)
        outcomes = delivery.run_claimed_many(
            [event, *more], import_string(batch_handler), **_OUTCOME_FIELDS, describe=_describe
        )
        return outcomes[event.pk]

    def work() -> None:
        if vendor is None:  # a vendor removed from the settings: a person must look
            raise LookupError(f"no webhook vendor {event.vendor!r} in WEBHOOK_VENDORS")
        import_string(vendor.handler)(event.pk)

    return delivery.run_claimed(event, work, **_OUTCOME_FIELDS, describe=_describe(event))


_OUTCOME_FIELDS = {
    "error_field": "handler_error",
    "done_field": "processed_at",
    "dead_action": Action.WEBHOOK_EVENT_DEAD_LETTERED,
}


def _describe(event: WebhookEvent) -> str:
    return f"webhook event {event.vendor}/{event.event_id}"


def webhook_retry(*, event_pk: int, actor: AbstractBaseUser, reason: str = "") -> WebhookEvent:
    """A person has a dead-lettered event handled again (the admin's Retry); audited."""
    return delivery.retry_dead_letter(
        WebhookEvent,
        event_pk,
        actor=actor,
        reason=reason,
        permission=RETRY_PERM,
        action=Action.WEBHOOK_EVENT_RETRIED,
        relay=relay_webhook,
    )
