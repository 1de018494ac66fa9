"""Stored Stripe events handled: the object each names re-fetched and acted on as it is now.

Which events do what (any other type is stored, and handled by doing nothing):
- invoice.* (finalized, sent, updated, paid, voided, marked_uncollectible, ...) and
  invoice_payment.paid → the invoice converged (mirrored, issued, paid, voided, AR item);
  invoice.payment_failed → the same, and an AR item while the invoice is still owed;
- customer.subscription.updated|deleted, subscription_schedule.* → the record read back and
  compared with the contract: a difference is a billing exception;
- charge.refunded, charge.dispute.created → money taken back from the invoice, an AR item.

Events are handled in batches (`stripe_events_handle`, the inbox's batch handler): the
events of one object are acted on once, with one fetch begun after all of them were stored,
each object in its own transactions, so one that fails fails only its own events. News of an
invoice stored before an earlier converge of it fetched it is skipped (`converged.py`): that
fetch saw it. A failed payment is always handled: it says more than the invoice's state.
"""

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from billing.ledger.stripe_objects import invoice_payment_get
from billing.stripe_sync.charges import charge_refunds_sync, dispute_sync
from billing.stripe_sync.converged import already_applied, fetched_since
from billing.stripe_sync.invoices import invoice_converge
from billing.stripe_sync.records import record_drift_check, record_of
from dealdesk.integrations.models import WebhookEvent

log = logging.getLogger(__name__)

# What an event is news of: the object a batch acts on once, whatever its events.
INVOICE, RECORD, REFUNDS, DISPUTE = "invoice", "record", "refunds", "dispute"
KINDS: dict[str, str] = {
    **dict.fromkeys(
        (
            "invoice.created",
            "invoice.finalized",
            "invoice.sent",
            "invoice.updated",
            "invoice.paid",
            "invoice.payment_succeeded",
            "invoice.voided",
            "invoice.marked_uncollectible",
            "invoice.payment_failed",
            "invoice_payment.paid",
        ),
        INVOICE,
    ),
    "customer.subscription.updated": RECORD,
    "customer.subscription.deleted": RECORD,
    "charge.refunded": REFUNDS,
    "charge.dispute.created": DISPUTE,
}
SCHEDULE_EVENTS = "subscription_schedule."
PAYMENT_FAILED = "invoice.payment_failed"
SECOND = dt.timedelta(seconds=1)


@dataclass(frozen=True)
class News:
    """What a handler takes from an event: the object's id, its metadata (whose `record`
    routes it to our billing record) and when it happened. What it does is decided by what
    Stripe holds now, never by the event's copy."""

    event_pk: int
    type: str
    object_id: str
    metadata: dict[str, Any]
    at: dt.datetime
    received_at: dt.datetime  # by our clock: `converged.already_applied` compares with it
    invoice_id: str  # the invoice an invoice payment pays (an id never changes)


@dataclass
class Outcome:
    """Which events of a batch were acted on (or found acted on already), which failed and
    why; any other was of a type we do not act on."""

    handled: set[int] = field(default_factory=set)
    failed: dict[int, Exception] = field(default_factory=dict)


def kind_of(event_type: str) -> str | None:
    if event_type.startswith(SCHEDULE_EVENTS):
        return RECORD
    return KINDS.get(event_type)


def stripe_events_handle(*, event_pks: Sequence[int], actor: AbstractBaseUser) -> Outcome:
    """Handle stored events together: the events of one object are acted on once, after
    all of them were stored, so one fetch sees what each announces. An object that fails
    fails its own events only (each is then retried on its own); the others are done."""
    outcome = Outcome()
    news_of: dict[tuple[str, str], list[News]] = {}
    for event in WebhookEvent.objects.filter(pk__in=event_pks).order_by("pk"):
        kind, news = kind_of(event.type), _news(event)
        if kind is None or news is None:
            continue
        try:
            subject = _subject(kind, news)
        except Exception as exc:  # finding the object failed: this event's failure alone
            outcome.failed[event.pk] = exc
            continue
        news_of.setdefault((kind, subject), []).append(news)
    # One read for the batch: when each invoice was last fetched.
    marks = fetched_since(subject for kind, subject in news_of if kind == INVOICE)
    for (kind, subject), news in news_of.items():
        pks = [one.event_pk for one in news]
        try:
            if kind == INVOICE:
                _invoice(subject, news, marks.get(subject), actor)
            elif kind == RECORD:
                _drift(news, actor)
            elif kind == REFUNDS:
                charge_refunds_sync(charge_id=subject, actor=actor)
            else:
                dispute_sync(dispute_id=subject, actor=actor)
        except Exception as exc:  # recorded on each of its events by the inbox
            outcome.failed.update(dict.fromkeys(pks, exc))
        else:
            outcome.handled.update(pks)
    return outcome


def stripe_event_handle(*, event_pk: int, actor: AbstractBaseUser) -> bool:
    """Handle one stored event (a retry runs alone); False when its type is not one we act
    on (ignored)."""
    outcome = stripe_events_handle(event_pks=[event_pk], actor=actor)
    if event_pk in outcome.failed:
        raise outcome.failed[event_pk]
    return event_pk in outcome.handled


def _news(event: WebhookEvent) -> News | None:
    obj = (event.payload.get("data") or {}).get("object")
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not obj["id"]:
        log.warning("Stripe event %s (%s) names no object", event.event_id, event.type)
        return None
    created = event.payload.get("created")
    return News(
        event_pk=event.pk,
        type=event.type,
        object_id=obj["id"],
        metadata=obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {},
        at=dt.datetime.fromtimestamp(created, dt.UTC)
        if isinstance(created, int)
        else event.received_at,
        received_at=event.received_at,
        invoice_id=obj["invoice"] if isinstance(obj.get("invoice"), str) else "",
    )


def _subject(kind: str, news: News) -> str:
    """The id of the object the batch acts on for this news."""
    if kind == RECORD:
        return str(news.metadata.get("record") or "")
    if news.type == "invoice_payment.paid":
        return news.invoice_id or invoice_payment_get(news.object_id)["invoice"]
    return news.object_id


def _invoice(
    invoice_id: str, news: list[News], fetched_from: dt.datetime | None, actor: AbstractBaseUser
) -> None:
    # Most of an invoice's news (created, finalized, sent, paid, ...) comes in a burst: one
    # converge fetches it with all of it applied, and news an earlier converge fetched after
    # needs no fetch at all. A failed payment says more than the invoice's state: always run.
    failed = any(one.type == PAYMENT_FAILED for one in news)
    newest = max(one.received_at for one in news)
    if failed or not already_applied(fetched_from, newest):
        invoice_converge(stripe_invoice_id=invoice_id, actor=actor, payment_failed=failed)


def _drift(news: list[News], actor: AbstractBaseUser) -> None:
    """A subscription or schedule of ours changed: the whole record is read back once,
    unless it was read back after the newest of these changes happened (its own creation's
    events, mostly)."""
    record = record_of(news[0].metadata)
    newest = max(one.at for one in news)
    # Stripe's times are whole seconds: news of the second the record was read in is read.
    if record is not None and not (record.checked_at and record.checked_at >= newest + SECOND):
        record_drift_check(record_id=record.pk, actor=actor)
