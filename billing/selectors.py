"""Reads for Finance's screens: billing exceptions, invoices and their aging, dead letters, the
counts on the Finance tab bar, and what the deal page's Billing card shows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import (
    Case,
    CharField,
    DecimalField,
    F,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.shortcuts import get_object_or_404
from django.utils import timezone

from billing.invoice_review import invoices_awaiting_release
from billing.models import (
    ARItem,
    ARState,
    BankImport,
    BillingRecord,
    CreditNote,
    ImportState,
    Invoice,
    InvoiceState,
    Payment,
    PaymentAllocation,
    PaymentState,
    RecordState,
)
from dealdesk.integrations.models import DeliveryStatus, OutboxMessage, WebhookEvent
from dealdesk.selectors import visible_deals

# Billing's pipeline steps are the outbox rows whose task path is in the billing app.
BILLING_TASK_PREFIX = "billing."
STRIPE_VENDOR = "stripe"

# Aging by days past the due date. "current" is not yet due; the rest are as the issue
# names them (0–30 holds 1 to 30 days late: an invoice due today is still current).
AGING_BUCKETS: dict[str, str] = {
    "current": "Current",
    "0-30": "0–30",
    "31-60": "31–60",
    "61-90": "61–90",
    "90+": "90+",
}

# Not an invoice state: the drafts held for Finance's release (billing/invoice_review.py).
AWAITING_RELEASE = "awaiting_release"

_AMOUNT = DecimalField(max_digits=18, decimal_places=3)
_DUE = F("total") - F("amount_paid") - F("amount_credited") - F("amount_written_off")


def _aging_bucket(today: date) -> Case:
    """The bucket of each invoice as a column: compared with dates worked out here, so the
    database does no date arithmetic (SQLite and PostgreSQL agree)."""
    return Case(
        When(due_on__gte=today, then=Value("current")),
        When(due_on__gte=today - timedelta(days=30), then=Value("0-30")),
        When(due_on__gte=today - timedelta(days=60), then=Value("31-60")),
        When(due_on__gte=today - timedelta(days=90), then=Value("61-90")),
        default=Value("90+"),
        output_field=CharField(),
    )


def receivables(*, today: date) -> QuerySet[Invoice]:
    """Issued invoices with money still due, each with its `due` amount and aging `bucket`."""
    return (
        Invoice.objects.filter(state=InvoiceState.ISSUED, due_on__isnull=False)
        .annotate(due=_DUE)
        .filter(due__gt=0)
        .annotate(bucket=_aging_bucket(today))
    )


# The manual payment form offers this many open invoices to pick from (the oldest due first);
# any other is still found by its number.
PICKER_LIMIT = 500


def open_invoice_choices() -> list[dict]:
    """Open invoices for the payment form's pickers: number, customer (the legal name the
    payer is likely to use), money due and due date; one query."""
    return list(
        Invoice.objects.filter(state=InvoiceState.ISSUED, number__isnull=False)
        .annotate(due=_DUE)
        .filter(due__gt=0)
        .order_by("due_on", "number")
        .values("number", "currency", "due", "due_on", customer=F("deal__account__legal_name"))[
            :PICKER_LIMIT
        ]
    )


@dataclass(frozen=True)
class InvoiceFilters:
    state: str = ""
    currency: str = ""
    customer: str = ""
    overdue: bool = False
    issued_from: date | None = None
    issued_to: date | None = None
    bucket: str = ""


def invoice_list(*, user: AbstractBaseUser, filters: InvoiceFilters, today: date) -> QuerySet:
    """Invoices with a number (drafts are plans, not invoices yet), newest first, filtered;
    or, for the state AWAITING_RELEASE, the first invoices held for Finance's release."""
    rows = Invoice.objects.filter(deal__in=visible_deals(user=user))
    if filters.state == AWAITING_RELEASE:
        rows = invoices_awaiting_release(rows, today=today)
    else:
        rows = rows.exclude(number=None)
        if filters.state:
            rows = rows.filter(state=filters.state)
    rows = (
        rows.select_related("deal__account")
        .annotate(due=_DUE, bucket=_aging_bucket(today))
        .order_by("-issue_on", "-pk")
    )
    if filters.currency:
        rows = rows.filter(currency=filters.currency)
    if filters.customer:
        rows = rows.filter(
            Q(deal__account__name__icontains=filters.customer)
            | Q(number__icontains=filters.customer)
        )
    if filters.issued_from:
        rows = rows.filter(issue_on__gte=filters.issued_from)
    if filters.issued_to:
        rows = rows.filter(issue_on__lte=filters.issued_to)
    if filters.overdue or filters.bucket:
        rows = rows.filter(state=InvoiceState.ISSUED, due__gt=0)
    if filters.overdue:
        rows = rows.filter(due_on__lt=today)
    if filters.bucket:
        rows = rows.filter(bucket=filters.bucket)
    return rows


def awaiting_release_count(*, user: AbstractBaseUser, today: date) -> int:
    return invoices_awaiting_release(
        Invoice.objects.filter(deal__in=visible_deals(user=user)), today=today
    ).count()


def aging_summary(*, user: AbstractBaseUser, today: date) -> list[dict]:
    """What is still due, per currency: one row each with a total per aging bucket and in all
    (one query, grouped in the database)."""
    sums = (
        receivables(today=today)
        .filter(deal__in=visible_deals(user=user))
        .values("currency", "bucket")
        .annotate(amount=Sum("due", output_field=_AMOUNT))
        .order_by()
    )
    per_currency: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for row in sums:
        per_currency[row["currency"]][row["bucket"]] = row["amount"]
    return [
        {
            "currency": currency,
            "buckets": [(key, buckets.get(key, Decimal(0))) for key in AGING_BUCKETS],
            "total": sum(buckets.values(), Decimal(0)),
        }
        for currency, buckets in sorted(per_currency.items())
    ]


def exception_list(*, user: AbstractBaseUser) -> QuerySet[BillingRecord]:
    """Billing records stopped by readiness or a difference, the oldest first."""
    return (
        BillingRecord.objects.filter(state=RecordState.EXCEPTION, deal__in=visible_deals(user=user))
        .select_related("deal__account", "version")
        .order_by("checked_at", "pk")
    )


def exception_get(*, user: AbstractBaseUser, pk: int) -> BillingRecord:
    return get_object_or_404(
        BillingRecord.objects.filter(deal__in=visible_deals(user=user)).select_related(
            "deal__account", "version"
        ),
        pk=pk,
    )


def dead_billing_steps() -> QuerySet[OutboxMessage]:
    return OutboxMessage.objects.filter(
        status=DeliveryStatus.DEAD, task__startswith=BILLING_TASK_PREFIX
    ).order_by("updated_at", "pk")


def dead_stripe_events() -> QuerySet[WebhookEvent]:
    return WebhookEvent.objects.filter(status=DeliveryStatus.DEAD, vendor=STRIPE_VENDOR).order_by(
        "updated_at", "pk"
    )


def finance_tab_counts() -> dict[str, int]:
    """Work waiting behind each Finance tab (the invoices tab counts the overdue ones)."""
    today = timezone.localdate()
    return {
        "exceptions": BillingRecord.objects.filter(state=RecordState.EXCEPTION).count(),
        "invoices": receivables(today=today).filter(due_on__lt=today).count(),
        "payments": Payment.objects.filter(state=PaymentState.HELD).count(),
        "imports": BankImport.objects.filter(state=ImportState.PREVIEW).count(),
        "ar": ARItem.objects.exclude(state=ARState.RESOLVED).count(),
        "dead_letters": dead_billing_steps().count() + dead_stripe_events().count(),
    }


# An invoice's credit notes, shown (and linked to their PDFs) with it: one query per page.
_CREDIT_NOTES = Prefetch("credit_notes", queryset=CreditNote.objects.order_by("pk"))


def with_credit_notes(rows: QuerySet[Invoice]) -> QuerySet[Invoice]:
    return rows.prefetch_related(_CREDIT_NOTES)


@dataclass
class DealBilling:
    """What the deal page's Billing card shows, read in a fixed number of queries."""

    record: BillingRecord | None
    invoices: list[Invoice]
    allocations: list[PaymentAllocation]
    open_ar_items: list[ARItem]


def deal_billing(*, deal_id: int) -> DealBilling:
    record = (
        BillingRecord.objects.filter(deal_id=deal_id)
        .select_related("version")
        .order_by("-pk")
        .first()
    )
    if record is None:
        return DealBilling(record=None, invoices=[], allocations=[], open_ar_items=[])
    return DealBilling(
        record=record,
        invoices=list(record.invoices.order_by("plan_index").prefetch_related(_CREDIT_NOTES)),
        allocations=list(
            PaymentAllocation.objects.filter(invoice__record=record)
            .select_related("payment", "invoice")
            .order_by("payment__received_on", "pk")
        ),
        open_ar_items=list(
            ARItem.objects.filter(deal_id=deal_id)
            .exclude(state=ARState.RESOLVED)
            .order_by("created_at", "pk")
        ),
    )
