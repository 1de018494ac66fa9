"""Reads for the AR queue and an AR item's page (billing/ar_views.py)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet

from audit.models import AuditEvent
from billing.models import ARItem, ARState, Invoice, InvoiceState

# An item's age: days since it was raised (how long a person has left it waiting).
AGE_BUCKETS: dict[str, str] = {
    "0-30": "0–30 days",
    "31-60": "31–60 days",
    "61-90": "61–90 days",
    "90+": "over 90 days",
}
_BUCKET_DAYS = {"0-30": (0, 30), "31-60": (31, 60), "61-90": (61, 90), "90+": (91, None)}
# "Needs Finance": what the queue shows unless a state is chosen.
WAITING = "waiting"
STATE_FILTERS: dict[str, str] = {
    WAITING: "Needs Finance",
    ARState.OPEN: "Open",
    ARState.AWAITING_APPROVAL: "Awaiting approval",
    ARState.RESOLVED: "Resolved",
    "all": "Any state",
}


@dataclass(frozen=True)
class QueueFilters:
    reason: str = ""
    state: str = WAITING
    currency: str = ""
    age: str = ""


def ar_queue(*, filters: QueueFilters, now: datetime) -> QuerySet[ARItem]:
    """AR items as filtered, oldest first, with what a row shows joined in."""
    items = ARItem.objects.select_related("invoice", "payment", "account", "deal")
    if filters.state == WAITING:
        items = items.filter(state__in=[ARState.OPEN, ARState.AWAITING_APPROVAL])
    elif filters.state != "all":
        items = items.filter(state=filters.state)
    if filters.reason:
        items = items.filter(reason=filters.reason)
    if filters.currency:
        items = items.filter(currency=filters.currency)
    if filters.age:
        low, high = _BUCKET_DAYS[filters.age]
        # Compared with instants worked out here: the database does no date arithmetic.
        items = items.filter(created_at__lte=now - timedelta(days=low))
        if high is not None:
            items = items.filter(created_at__gt=now - timedelta(days=high + 1))
    return items.order_by("created_at", "pk")


def ar_item_get(*, pk: int) -> ARItem:
    return ARItem.objects.select_related(
        "invoice",
        "payment",
        "payment__recorded_by",
        "deal",
        "account",
        "resolved_by",
        "write_off_requested_by",
    ).get(pk=pk)


def ar_item_events(item: ARItem) -> list[AuditEvent]:
    """What was done about the item, oldest first: its own events, then its credit notes'
    and refunds' (each names the item)."""
    about = Q(object_type="billing.aritem", object_id=str(item.pk))
    for object_type, related in (
        ("billing.creditnote", item.credit_notes),
        ("billing.refund", item.refunds),
    ):
        ids = [str(pk) for pk in related.values_list("pk", flat=True)]
        if ids:
            about |= Q(object_type=object_type, object_id__in=ids)
    return list(AuditEvent.objects.filter(about).order_by("seq"))


def allocation_targets(item: ARItem) -> list[Invoice]:
    """Invoices the held money could go to: issued ones in its currency, the payer's only when
    the payer is known, those due first."""
    if item.payment is None:
        return []
    invoices = Invoice.objects.filter(state=InvoiceState.ISSUED, currency=item.payment.currency)
    if item.account_id:
        invoices = invoices.filter(deal__account_id=item.account_id)
    return list(invoices.order_by("due_on", "pk")[:20])
