"""The optional review of a deal's first invoice (setting BILLING_FIRST_INVOICE_REVIEW).

When it is on, the pipeline does not issue a deal's first invoice: the invoice waits as a draft
"awaiting Finance release" until Finance releases it (billing.services.invoice_release), then
it is numbered and issued as usual. Later invoices are never held: the customer has seen the
first one, and the rest follow the contract's schedule. Turning the setting off lets the daily
beat issue whatever is still held.
"""

import datetime as dt

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from billing.models import Invoice, InvoiceState, RecordState


def held_for_release(invoice: Invoice) -> bool:
    """May only Finance's release issue this invoice?"""
    return (
        settings.BILLING_FIRST_INVOICE_REVIEW
        and invoice.plan_index == 1
        and invoice.state == InvoiceState.DRAFT
    )


def invoices_awaiting_release(
    invoices: QuerySet[Invoice] | None = None, *, today: dt.date | None = None
) -> QuerySet[Invoice]:
    """Finance's filter: the first invoices whose day has come, held for release (none when
    the review is off). `invoices` narrows it (a deal's, a list page's filtered set)."""
    invoices = Invoice.objects.all() if invoices is None else invoices
    if not settings.BILLING_FIRST_INVOICE_REVIEW:
        return invoices.none()
    return invoices.filter(
        plan_index=1,
        state=InvoiceState.DRAFT,
        record__state=RecordState.CREATED,
        issue_on__lte=today or timezone.localdate(),
    )
