"""The webhook inbox: a vendor's event is verified on its raw body, stored once (unique on the
vendor's event id), answered 2xx at once and handled later by a task.

A vendor plugs in with a `WebhookVendor` (how to verify a request and read its id and type)
named in settings.WEBHOOK_VENDORS, and a handler task path in its `handler`. Handlers re-read
the vendor's object before acting (events repeat and arrive out of order) and are idempotent.
"""

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.module_loading import import_string

from audit.actions import Action
from dealdesk.integrations import broker, delivery
from dealdesk.integrations.models import DeliveryStatus, WebhookEvent

log = logging.getLogger(__name__)

RETRY_PERM = "integrations.retry_webhookevent"
# Queued events a worker takes at once for a vendor with a batch handler: enough that a
# burst's events of one object share a batch, few enough that a batch ends in seconds.
BATCH = 100
# A worker working off a vendor's queue hands the rest on (one message) after this long, so
# an endless stream does not hold one task for ever.
DRAIN_SECONDS = 60.0
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
    row = WebhookEvent(
        vendor=vendor,
        event_id=event.event_id,
        type=event.type,
        payload=event.payload,
        signature_verified=True,
        # Relayed right after commit: the sweep leaves it alone for the grace period (as an
        # outbox step), and until then it stands for a worker on its way.
        next_attempt_at=timezone.now() + _grace(),
    )
    try:
        if connection.in_atomic_block:
            # A savepoint: a duplicate leaves the caller's transaction (a sweep's) usable.
            with transaction.atomic():
                row.save(force_insert=True)
        else:
            # A webhook request: the INSERT is its own transaction, one round trip where
            # BEGIN, INSERT and COMMIT were three in every acknowledgement.
            row.save(force_insert=True)
    except IntegrityError:
        # The unique (vendor, event_id) constraint decided: another delivery stored it first.
        return WebhookEvent.objects.get(vendor=vendor, event_id=event.event_id), False
    # After the commit: at once in a request, after the caller's transaction in a sweep.
    transaction.on_commit(lambda: _relay_received(row.pk, vendor))
    return row, True


def _relay_received(event_pk: int, vendor: str) -> None:
    """After the commit of a new event: wake a worker, unless one is on its way already.

    A vendor with a batch handler needs no message per event: the worker that takes a queued
    event works the vendor's queue off until it finds none (`_work_off`). So while an
    earlier first attempt waits, relayed within its grace (it was not handed to the sweep),
    this event needs nothing sent: that worker takes it, as this event was committed before
    it could be claimed. A burst costs one publish instead of one per event. Only earlier
    ones count: events stored in one transaction see each other after its commit, and the
    first of them must still publish."""
    if getattr(webhook_vendor(vendor), "batch_handler", "") and _awaited(vendor, event_pk):
        return
    relay_webhooks([(event_pk, 0)])


def _awaited(vendor: str, event_pk: int) -> bool:
    """An earlier first attempt of the vendor waits within its relay grace. Plain SQL: it runs
    in every acknowledgement, where building the ORM's query cost more than running it."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {WebhookEvent._meta.db_table} WHERE vendor = %s AND status = %s"  # noqa: S608 - our own table name
            " AND attempts = 0 AND next_attempt_at > %s AND id < %s LIMIT 1",
            [
                vendor,
                DeliveryStatus.PENDING.value,
                connection.ops.adapt_datetimefield_value(timezone.now()),
                event_pk,
            ],
        )
        return cursor.fetchone() is not None


def relay_webhooks(due: Sequence[tuple[int, int]]) -> int:
    """Send each (event, attempts made so far) to its task for its next attempt; how many
    were sent. One the broker did not take is due for the sweep at once and no longer
    stands for a worker on its way (`_relay_received`)."""
    from dealdesk.integrations.tasks import webhook_process

    unsent = [pk for pk, attempts in due if not broker.publish(webhook_process, (pk, attempts))]
    if unsent:
        WebhookEvent.objects.filter(pk__in=unsent, status=DeliveryStatus.PENDING).update(
            next_attempt_at=timezone.now(), updated_at=timezone.now()
        )
    return len(due) - len(unsent)


def relay_webhook(event_pk: int) -> bool:
    """Send a (dead-lettered, now retried) event's task: True when it was sent."""
    return relay_webhooks([(event_pk, 0)]) == 1


def webhook_sweep(*, limit: int = 1000) -> int:
    """Send due webhook events to their handlers again (beat, with the outbox sweep)."""
    due = list(delivery.due(WebhookEvent).values_list("pk", "attempts")[:limit])
    delivery.release(
        WebhookEvent, [pk for pk, _ in due], grace_seconds=settings.OUTBOX_RELAY_GRACE_SECONDS
    )
    return relay_webhooks(due)


def webhook_process(event_pk: int, attempts: int | None = None) -> bool:
    """Worker side: run the vendor's handler for a stored event, once it succeeds. A
    vendor with a batch handler has the event's first attempt handled together with its
    other queued first attempts, `BATCH` at a time until none is left (`_work_off`; their
    own tasks, if any were sent, then find them done).

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
        return _work_off(event, import_string(batch_handler))

    def work() -> None:
        if vendor is None:  # a vendor removed from the settings: a person must look
            raise LookupError(f"no webhook vendor {event.vendor!r} in WEBHOOK_VENDORS")
        import_string(vendor.handler)(event.pk)

    return delivery.run_claimed(event, work, **_OUTCOME_FIELDS, describe=_describe(event))


def _work_off(event: WebhookEvent, batch_handler) -> bool:
    """Handle a claimed first attempt with the vendor's queued first attempts, `BATCH` at a
    time, until a claim finds none; whether `event` succeeded.

    Until none, not until a short batch: an event whose relay was skipped for a waiting one
    (`_relay_received`) saw that one pending after its own commit, so a claim that began
    after the waiting one was taken sees it (a claim still open when it looked may not)."""
    among = Q(vendor=event.vendor)
    deadline = time.monotonic() + DRAIN_SECONDS
    batch = [event, *delivery.claim_fresh(WebhookEvent, among, limit=BATCH - 1)]
    outcomes = {}
    while batch:
        outcomes |= delivery.run_claimed_many(
            batch, batch_handler, **_OUTCOME_FIELDS, describe=_describe
        )
        if time.monotonic() > deadline:  # the rest goes on in a task of its own
            rest = WebhookEvent.objects.filter(among, status=DeliveryStatus.PENDING, attempts=0)
            relay_webhooks(list(rest.order_by("pk").values_list("pk", "attempts")[:1]))
            break
        batch = delivery.claim_fresh(WebhookEvent, among, limit=BATCH)
    return outcomes[event.pk]


_OUTCOME_FIELDS = {
    "error_field": "handler_error",
    "done_field": "processed_at",
    "dead_action": Action.WEBHOOK_EVENT_DEAD_LETTERED,
}


def _describe(event: WebhookEvent) -> str:
    return f"webhook event {event.vendor}/{event.event_id}"


def _grace() -> timedelta:
    return timedelta(seconds=settings.OUTBOX_RELAY_GRACE_SECONDS)


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
