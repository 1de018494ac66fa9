"""Finance's billing pages: billing exceptions, invoices with their aging, and billing's dead
letters with Retry.

Who sees what: Finance and Auditors read every page; Deal Desk reads the exceptions and the
invoices too (their roles hold the billing view permissions, and the readiness problems are
account data Deal Desk fixes), read-only. Bill again and the dead letters are Finance's.
"""

from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from billing import selectors, services
from billing.models import InvoiceState
from dealdesk.csv_export import csv_download, csv_lines, safe_cell
from dealdesk.integrations.outbox import outbox_retry
from dealdesk.integrations.webhooks import webhook_retry
from dealdesk.models import Currency
from dealdesk.paging import CappedPaginator
from dealdesk.views import list_queries

VIEW_PERM = "billing.view_invoice"
PAGE_SIZE = 50
COUNT_CAP = 10_000


def _today() -> date:
    # One seam for "today", so the aging tests fix it.
    return timezone.localdate()


@require_GET
@permission_required(VIEW_PERM, raise_exception=True)
def finance_home(request: HttpRequest) -> HttpResponse:
    """The Billing menu item lands on the first tab, where work waits first."""
    return redirect("billing:exceptions")


# --- billing exceptions ---------------------------------------------------------------------


@require_GET
@permission_required(VIEW_PERM, raise_exception=True)
def exception_list(request: HttpRequest) -> HttpResponse:
    records = selectors.exception_list(user=request.user)
    page = CappedPaginator(records, PAGE_SIZE, count_cap=COUNT_CAP).get_page(
        request.GET.get("page")
    )
    query, _ = list_queries(request)
    return render(
        request,
        "billing/exceptions.html",
        {"page": page, "query": query},
    )


@require_GET
@permission_required(VIEW_PERM, raise_exception=True)
def exception_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = selectors.exception_get(user=request.user, pk=pk)
    return render(
        request,
        "billing/exception_detail.html",
        {
            "record": record,
            "deal": record.deal,
            "can_retry": record.state == "exception"
            and request.user.has_perm(services.MANAGE_PERM),
        },
    )


# --- invoices -------------------------------------------------------------------------------


class InvoiceFilterForm(forms.Form):
    """Every field is optional and checked: a query string is typed by anyone."""

    state = forms.ChoiceField(
        choices=[
            ("", "Any state"),
            *[c for c in InvoiceState.choices if c[0] != InvoiceState.DRAFT],
            (selectors.AWAITING_RELEASE, "Awaiting Finance release"),
        ],
        required=False,
    )
    currency = forms.ChoiceField(choices=[("", "Any currency"), *Currency.choices], required=False)
    customer = forms.CharField(max_length=100, required=False, strip=True)
    overdue = forms.BooleanField(required=False)
    issued_from = forms.DateField(required=False)
    issued_to = forms.DateField(required=False)
    bucket = forms.ChoiceField(
        choices=[("", "Any age"), *selectors.AGING_BUCKETS.items()], required=False
    )

    def filters(self) -> selectors.InvoiceFilters:
        return selectors.InvoiceFilters(**self.cleaned_data)


INVOICE_CSV_COLUMNS = [
    "number",
    "customer",
    "deal",
    "issued",
    "due",
    "currency",
    "total",
    "due amount",
    "state",
]


@require_GET
@permission_required(VIEW_PERM, raise_exception=True)
def invoice_list(request: HttpRequest) -> HttpResponse:
    today = _today()
    form = InvoiceFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        # A refused filter lists nothing rather than passing everything off as its answer.
        rows = selectors.invoice_list(
            user=request.user, filters=selectors.InvoiceFilters(), today=today
        ).none()
        filters = selectors.InvoiceFilters()
    else:
        filters = form.filters() if form.is_bound else selectors.InvoiceFilters()
        rows = selectors.invoice_list(user=request.user, filters=filters, today=today)
    if request.GET.get("format") == "csv":
        return csv_download(
            csv_lines(INVOICE_CSV_COLUMNS, (_csv_row(invoice) for invoice in rows.iterator())),
            f"invoices-{today:%Y-%m-%d}.csv",
        )
    rows = selectors.with_credit_notes(rows)
    page = CappedPaginator(rows, PAGE_SIZE, count_cap=COUNT_CAP).get_page(request.GET.get("page"))
    query, _ = list_queries(request)
    bucket_query = request.GET.copy()
    for key in ("page", "bucket", "currency", "format"):
        bucket_query.pop(key, None)
    return render(
        request,
        "billing/invoices.html",
        {
            "form": form,
            "filters": filters,
            "page": page,
            "query": query,
            "bucket_query": bucket_query.urlencode(),
            "buckets": selectors.AGING_BUCKETS,
            "aging": selectors.aging_summary(user=request.user, today=today),
            "awaiting_release": selectors.awaiting_release_count(user=request.user, today=today),
            "AWAITING_RELEASE": selectors.AWAITING_RELEASE,
            "today": today,
        },
    )


def _csv_row(invoice) -> list[object]:
    return [
        invoice.number,
        safe_cell(invoice.deal.account.name),
        safe_cell(invoice.deal.name),
        invoice.issue_on,
        invoice.due_on,
        invoice.currency,
        invoice.total,
        invoice.amount_due,
        invoice.state,
    ]


# --- dead letters ---------------------------------------------------------------------------


@require_GET
@permission_required(services.MANAGE_PERM, raise_exception=True)
def dead_letter_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "billing/dead_letters.html",
        {
            "steps": list(selectors.dead_billing_steps()[:PAGE_SIZE]),
            "events": list(selectors.dead_stripe_events()[:PAGE_SIZE]),
        },
    )


RETRY_REASON = "retried from Finance's dead letters"
# kind in the URL → (billing's dead letters of that kind, the integrations service that retries)
DEAD_LETTERS = {
    "step": (
        selectors.dead_billing_steps,
        lambda pk, actor: outbox_retry(message_id=pk, actor=actor, reason=RETRY_REASON),
    ),
    "event": (
        selectors.dead_stripe_events,
        lambda pk, actor: webhook_retry(event_pk=pk, actor=actor, reason=RETRY_REASON),
    ),
}


@require_POST
@permission_required(services.MANAGE_PERM, raise_exception=True)
def dead_letter_retry(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Send one of billing's dead letters again; the integrations service checks the
    permission, audits and relays. Only billing's rows are reachable from here."""
    if kind not in DEAD_LETTERS:
        raise Http404(kind)
    dead, retry = DEAD_LETTERS[kind]
    if not dead().filter(pk=pk).exists():
        messages.error(request, "That dead letter is gone: someone retried it already.")
        return redirect("billing:dead-letters")
    try:
        retry(pk, request.user)
    except ValueError as exc:  # retried by someone else between the check and the lock
        messages.error(request, str(exc))
    else:
        messages.success(request, "Sent again: it runs now, and comes back here if it fails.")
    return redirect("billing:dead-letters")
