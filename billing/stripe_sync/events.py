"""A stored Stripe event handled: the object it names re-fetched and acted on as it is now.

Which events do what (any other type is stored, and handled by doing nothing):
- invoice.* (finalized, sent, updated, paid, voided, marked_uncollectible, ...) and
  invoice_payment.paid → the invoice converged (mirrored, issued, paid, voided, AR item);
  invoice.payment_failed → the same, and an AR item while the invoice is still owed;
- customer.subscription.updated|deleted, subscription_schedule.* → the record read back and
  compared with the contract: a difference is a billing exception;
- charge.refunded, charge.dispute.created → money taken back from the invoice, an AR item.
News of an invoice stored before a converge of it fetched it is skipped (`converged.py`): that
fetch saw it. A failed payment is always handled: it says more than the invoice's state.
"""

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from billing.ledger.stripe_objects import invoice_payment_get
from billing.stripe_sync.charges import charge_refunds_sync, dispute_sync
from billing.stripe_sync.converged import already_applied
from billing.stripe_sync.invoices import invoice_converge
from billing.stripe_sync.records import record_drift_check, record_of
from dealdesk.integrations.models import WebhookEvent

log = logging.getLogger(__name__)

INVOICE_EVENTS = {
    "invoice.created",
    "invoice.finalized",
    "invoice.sent",
    "invoice.updated",
    "invoice.paid",
    "invoice.payment_succeeded",
    "invoice.voided",
    "invoice.marked_uncollectible",
}


@dataclass(frozen=True)
class News:
    """What a handler takes from an event: the object's id, its metadata (whose `record`
    routes it to our billing record) and when it happened. What it does is decided by what
    Stripe holds now, never by the event's copy."""

    object_id: str
    metadata: dict[str, Any]
    at: dt.datetime
    received_at: dt.datetime  # by our clock: `converged.already_applied` compares with it
    invoice_id: str  # the invoice an invoice payment pays (an id never changes)


Handler = Callable[[News, AbstractBaseUser], None]
SECOND = dt.timedelta(seconds=1)


def _invoice(news: News, actor: AbstractBaseUser) -> None:
    _converge_unless_applied(news.object_id, news, actor)


def _invoice_payment_failed(news: News, actor: AbstractBaseUser) -> None:
    invoice_converge(stripe_invoice_id=news.object_id, actor=actor, payment_failed=True)


def _invoice_payment(news: News, actor: AbstractBaseUser) -> None:
    invoice = news.invoice_id or invoice_payment_get(news.object_id)["invoice"]
    _converge_unless_applied(invoice, news, actor)


def _converge_unless_applied(invoice_id: str, news: News, actor: AbstractBaseUser) -> None:
    # Most of an invoice's news (created, finalized, sent, paid, ...) comes in a burst: the
    # first converge fetched it with the rest applied, so those need no fetch of their own.
    if not already_applied(invoice_id, news.received_at):
        invoice_converge(stripe_invoice_id=invoice_id, actor=actor)


def _drift(news: News, actor: AbstractBaseUser) -> None:
    """A subscription or schedule of ours changed: the whole record is read back, unless it
    was read back after this change happened (its own creation's events, mostly)."""
    record = record_of(news.metadata)
    # Stripe's times are whole seconds: news of the second the record was read in is read.
    if record is not None and not (record.checked_at and record.checked_at >= news.at + SECOND):
        record_drift_check(record_id=record.pk, actor=actor)


def _refunded(news: News, actor: AbstractBaseUser) -> None:
    charge_refunds_sync(charge_id=news.object_id, actor=actor)


def _disputed(news: News, actor: AbstractBaseUser) -> None:
    dispute_sync(dispute_id=news.object_id, actor=actor)


HANDLERS: dict[str, Handler] = {
    **dict.fromkeys(INVOICE_EVENTS, _invoice),
    "invoice.payment_failed": _invoice_payment_failed,
    "invoice_payment.paid": _invoice_payment,
    "customer.subscription.updated": _drift,
    "customer.subscription.deleted": _drift,
    "charge.refunded": _refunded,
    "charge.dispute.created": _disputed,
}
SCHEDULE_EVENTS = "subscription_schedule."


def handler_for(event_type: str) -> Handler | None:
    if event_type.startswith(SCHEDULE_EVENTS):
        return _drift
    return HANDLERS.get(event_type)


def stripe_event_handle(*, event_pk: int, actor: AbstractBaseUser) -> bool:
    """Handle one stored event; False when its type is not one we act on (ignored)."""
    event = WebhookEvent.objects.get(pk=event_pk)
    handler = handler_for(event.type)
    if handler is None:
        return False
    obj = (event.payload.get("data") or {}).get("object")
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not obj["id"]:
        log.warning("Stripe event %s (%s) names no object", event.event_id, event.type)
        return False
    created = event.payload.get("created")
    news = News(
        object_id=obj["id"],
        metadata=obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {},
        at=dt.datetime.fromtimestamp(created, dt.UTC)
        if isinstance(created, int)
        else event.received_at,
        received_at=event.received_at,
        invoice_id=obj["invoice"] if isinstance(obj.get("invoice"), str) else "",
    )
    handler(news, actor)
    return True
