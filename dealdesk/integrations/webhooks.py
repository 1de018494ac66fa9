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
from django.http import HttpRequest
from django.utils.module_loading import import_string

from audit.actions import Action
from dealdesk.integrations import delivery
from dealdesk.integrations.errors import BROKER_ERRORS
from dealdesk.integrations.models import WebhookEvent

log = logging.getLogger(__name__)

RETRY_PERM = "integrations.retry_webhookevent"


class InvalidWebhook(Exception):
    """The request is not a genuine event of this vendor (bad signature, not its format)."""


@dataclass(frozen=True)
class VerifiedEvent:
    event_id: str
    type: str
    payload: dict


class WebhookVendor(Protocol):
    handler: str  # dotted path of the task that handles a stored event: handler(event_pk)

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
            transaction.on_commit(lambda: relay_webhook(row.pk))
            return row, True
    except IntegrityError:
        # The unique (vendor, event_id) constraint decided: another delivery stored it first.
        return WebhookEvent.objects.get(vendor=vendor, event_id=event.event_id), False


def relay_webhook(event_pk: int) -> bool:
    from dealdesk.integrations.tasks import webhook_process

    try:
        webhook_process.apply_async((event_pk,))
    except BROKER_ERRORS:  # the broker is down: the sweep sends it later
        log.warning("webhook event %s: could not enqueue; the sweep will", event_pk, exc_info=True)
        return False
    return True


def webhook_sweep(*, limit: int = 1000) -> int:
    """Send due webhook events to their handlers again (beat, with the outbox sweep)."""
    ids = list(delivery.due(WebhookEvent).values_list("pk", flat=True)[:limit])
    delivery.release(WebhookEvent, ids, grace_seconds=settings.OUTBOX_RELAY_GRACE_SECONDS)
    return sum(relay_webhook(pk) for pk in ids)


def webhook_process(event_pk: int) -> bool:
    """Worker side: run the vendor's handler for a stored event, once it succeeds."""
    event = delivery.claim(WebhookEvent, event_pk)
    if event is None:
        return False
    vendor = webhook_vendor(event.vendor)

    def work() -> None:
        if vendor is None:  # a vendor removed from the settings: a person must look
            raise LookupError(f"no webhook vendor {event.vendor!r} in WEBHOOK_VENDORS")
        import_string(vendor.handler)(event.pk)

    return delivery.run_claimed(
        event,
        work,
        error_field="handler_error",
        done_field="processed_at",
        describe=f"webhook event {event.vendor}/{event.event_id}",
        dead_action=Action.WEBHOOK_EVENT_DEAD_LETTERED,
    )


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
