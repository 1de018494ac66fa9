from django import template

from billing import go_live
from billing.invoice_review import invoices_awaiting_release
from billing.models import BillingRecord, RecordState
from billing.services import MANAGE_PERM

register = template.Library()


@register.filter
def billing_state_label(record: BillingRecord) -> str:
    """The Billing card's badge: a record that waits for its go-live date is not being
    created, it waits (nothing goes to the ledger before the date)."""
    if record.state == RecordState.PENDING and go_live.awaits_go_live(record):
        return "Waiting for go-live date"
    return record.get_state_display()


@register.inclusion_tag("billing/_go_live.html", takes_context=True)
def go_live_and_review(context, deal, record: BillingRecord | None):
    """Inside the Billing card: a go-live start waiting for its date (and its form), the date
    once known, a first invoice awaiting Finance's release (and its button). One query, and
    only while the first-invoice review is on."""
    # Nested in billing_panel's own context, which keeps the request but not its variables.
    user = context.request.user
    if record is None:
        return {}
    earliest, latest = go_live.go_live_bounds(record)
    return {
        "deal": deal,
        "record": record,
        "awaits_go_live": go_live.awaits_go_live(record),
        "can_set_go_live": go_live.may_set_go_live(user),
        "earliest": earliest,
        "latest": latest,
        "held": list(invoices_awaiting_release(record.invoices.all())),
        "can_release": user.has_perm(MANAGE_PERM),
        "csrf_token": context.get("csrf_token"),
    }
