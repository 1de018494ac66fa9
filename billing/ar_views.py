"""Finance's AR queue, an AR item's page with its actions, and the write-off tolerances.

Every action is a POST to the item's own page naming the action; it calls one service in
billing/receivables.py, which checks permission, state, amounts and segregation of duties
again. A refusal is shown on the page with the values typed in; acting without Finance is 403.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import user_passes_test
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from audit.actions import action_label
from billing import ar_selectors, receivables
from billing.ar_forms import (
    AllocateForm,
    AmountReasonForm,
    QueueFilterForm,
    RefundForm,
    ToleranceForm,
)
from billing.models import ARItem, ARState, Invoice, InvoiceState, WriteOffTolerance
from billing.services import MANAGE_PERM, require_finance
from billing.settlement import SettlementError
from dealdesk.forms import ReasonForm, first_error
from dealdesk.models import Currency
from dealdesk.paging import CappedPaginator
from dealdesk.pricing import round_money
from dealdesk.templatetags.dealdesk import money
from dealdesk.views import list_queries

VIEW_PERM = "billing.view_aritem"  # Auditors (every view permission) read the queue too
PAGE_SIZE = 50
COUNT_CAP = 10_000
# What a person may be told and act on; anything else is a bug (a 500).
REFUSALS = (
    receivables.ReceivableError,
    SettlementError,
    PermissionDenied,  # incl. segregation of duties: said on the page, not a bare 403
    TransitionNotAllowed,
)


def _sees_ar(user) -> bool:
    return user.is_authenticated and (user.has_perm(MANAGE_PERM) or user.has_perm(VIEW_PERM))


def _manages(user) -> bool:
    return user.is_authenticated and user.has_perm(MANAGE_PERM)


def _raise_403(check: Callable) -> Callable:
    def test(user) -> bool:
        if not check(user):
            raise PermissionDenied
        return True

    return test


# --- the queue ----------------------------------------------------------------------------


@require_http_methods(["GET"])
@user_passes_test(_raise_403(_sees_ar))
def ar_queue(request: HttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET or None)
    filters = form.filters()
    now = timezone.now()
    items = ar_selectors.ar_queue(filters=filters, now=now)
    page = CappedPaginator(items, PAGE_SIZE, count_cap=COUNT_CAP).get_page(request.GET.get("page"))
    for item in page:
        item.age_days = (now - item.created_at).days
    query, _ = list_queries(request)
    return render(
        request,
        "billing/ar/queue.html",
        {"form": form, "filters": filters, "page": page, "query": query, "tab": "ar"},
    )


# --- an item ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Action:
    form: type[forms.Form]
    run: Callable[[HttpRequest, ARItem, dict], str]


def _allocate(request: HttpRequest, item: ARItem, data: dict) -> str:
    invoice = Invoice.objects.filter(number=data["invoice"].strip()).first()
    if invoice is None:
        raise receivables.ReceivableError(f"no invoice is numbered {data['invoice']!r}")
    item = receivables.ar_allocate(
        item_id=item.pk,
        invoice_id=invoice.pk,
        amount=data["amount"],
        actor=request.user,
        note=data["note"],
    )
    left = "" if item.state == ARState.RESOLVED else " Some of the payment is still unapplied."
    return f"{money(data['amount'], item.currency)} allocated to invoice {invoice.number}.{left}"


def _write_off(request: HttpRequest, item: ARItem, data: dict) -> str:
    item = receivables.ar_write_off(
        item_id=item.pk, amount=data["amount"], actor=request.user, reason=data["reason"]
    )
    if item.state == ARState.AWAITING_APPROVAL:
        return "The write-off waits for a second Finance user's approval."
    return f"{money(data['amount'], item.currency)} written off."


def _approve(request: HttpRequest, item: ARItem, data: dict) -> str:
    item = receivables.ar_write_off_approve(item_id=item.pk, actor=request.user)
    return f"Write-off of {money(item.write_off_amount, item.currency)} approved and applied."


def _reject(request: HttpRequest, item: ARItem, data: dict) -> str:
    receivables.ar_write_off_reject(item_id=item.pk, actor=request.user, reason=data["reason"])
    return "Write-off refused: the item is open again."


def _credit_note(request: HttpRequest, item: ARItem, data: dict) -> str:
    note = receivables.ar_credit_note(
        item_id=item.pk, amount=data["amount"], reason=data["reason"], actor=request.user
    )
    return f"Credit note {note.number} issued for {money(note.amount, note.currency)}."


def _refund(request: HttpRequest, item: ARItem, data: dict) -> str:
    refund = receivables.ar_refund(
        item_id=item.pk,
        amount=data["amount"],
        reason=data["reason"],
        actor=request.user,
        reference=data["reference"],
    )
    return f"Refund of {money(refund.amount, refund.currency)} recorded ({refund.external_id})."


def _chase(request: HttpRequest, item: ARItem, data: dict) -> str:
    item = receivables.ar_chase(item_id=item.pk, actor=request.user)
    return f"Reminder sent (reminder {item.chase_count})."


ACTIONS: dict[str, _Action] = {
    "allocate": _Action(AllocateForm, _allocate),
    "write_off": _Action(AmountReasonForm, _write_off),
    "approve": _Action(forms.Form, _approve),
    "reject": _Action(ReasonForm, _reject),
    "credit_note": _Action(AmountReasonForm, _credit_note),
    "refund": _Action(RefundForm, _refund),
    "chase": _Action(forms.Form, _chase),
}


@require_http_methods(["GET", "POST"])
@user_passes_test(_raise_403(_sees_ar))
def ar_item(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(ARItem, pk=pk)
    if request.method == "GET":
        return render(request, "billing/ar/item.html", _item_context(request, pk))
    require_finance(request.user, "act on the AR queue")
    name = request.POST.get("action", "")
    action = ACTIONS.get(name)
    if action is None:
        return HttpResponse("unknown action", status=400)
    form = action.form(request.POST)
    try:
        if not form.is_valid():
            raise receivables.ReceivableError(first_error(form))
        done = action.run(request, item, form.cleaned_data)
    except ConcurrentTransition:
        error = "Someone else changed this item meanwhile: look again and retry."
    except REFUSALS as exc:
        error = str(exc)[:1].upper() + str(exc)[1:]
    else:
        messages.success(request, done)
        return redirect("billing:ar-item", pk=item.pk)
    # Shown with what was typed, so a wrong amount is corrected rather than typed again.
    context = _item_context(request, pk, posted=(name, request.POST)) | {"error": error}
    return render(request, "billing/ar/item.html", context, status=400)


def _item_context(request: HttpRequest, pk: int, posted: tuple[str, dict] | None = None) -> dict:
    item = ar_selectors.ar_item_get(pk=pk)
    invoice, payment, user = item.invoice, item.payment, request.user
    manages = _manages(user)
    is_open = item.state == ARState.OPEN
    due = invoice.amount_due if invoice and invoice.state == InvoiceState.ISSUED else Decimal(0)
    unapplied = payment.unapplied if payment else Decimal(0)
    recorder_id = receivables.manual_recorder_id(item)
    tolerance = receivables.write_off_tolerance(item.currency)
    waiting = item.state == ARState.AWAITING_APPROVAL
    events = ar_selectors.ar_item_events(item)
    for event in events:
        event.label = action_label(event.action)
        event.amount = _event_amount(event.data, item.currency)
    requested = next(
        (e for e in reversed(events) if e.action == "ar_item.write_off_requested"), None
    )
    now = timezone.now()

    def shown(amount: Decimal) -> str:
        return str(round_money(amount, item.currency))

    write_off = min(item.amount, due)
    prefill = {
        "allocate": {
            "amount": shown(unapplied),
            "invoice": invoice.number if invoice and due > 0 else "",
        },
        "write_off": {"amount": shown(write_off)},
        "credit_note": {"amount": shown(due)},
        "refund": {"amount": shown(unapplied)},
    }
    if posted:  # a refused action: its form shows what was typed
        name, data = posted
        prefill[name] = {
            key: data.get(key, "") for key in ("amount", "invoice", "reason", "note", "reference")
        }
    return {
        "item": item,
        "prefill": prefill,
        "failed": posted[0] if posted else "",
        "tab": "ar",
        "age_days": (now - item.created_at).days,
        "invoice": invoice,
        "payment": payment,
        "events": events,
        "credit_notes": list(item.credit_notes.all()),
        "refunds": list(item.refunds.all()),
        "manages": manages,
        "tolerance": tolerance,
        "due": due,
        "unapplied": unapplied,
        "write_off_alone": 0 < write_off <= tolerance and recorder_id != user.pk,
        "can_allocate": manages and is_open and unapplied > 0,
        "can_refund": manages and is_open and unapplied > 0,
        "can_settle_invoice": manages and is_open and due > 0,
        "can_chase": manages and is_open and due > 0,
        "next_chase": _next_chase(item),
        "targets": ar_selectors.allocation_targets(item) if manages and is_open else [],
        "requested": requested,
        "approval_box": manages and waiting,
        "may_approve": waiting and user.pk not in (item.write_off_requested_by_id, recorder_id),
        "is_requester": waiting and item.write_off_requested_by_id == user.pk,
        "is_recorder": recorder_id is not None and recorder_id == user.pk,
    }


def _event_amount(data: dict, currency: str) -> str:
    """The money an event moved, as people read it ("80.00 USD"); events store strings."""
    value = data.get("amount") or data.get("written_off")
    try:
        return money(Decimal(value), data.get("currency") or currency) if value else ""
    except (InvalidOperation, TypeError):
        return ""


def _next_chase(item: ARItem) -> datetime | None:
    """When the next reminder may go, while that is still ahead."""
    if item.last_chased_at is None:
        return None
    at = item.last_chased_at + timedelta(days=settings.BILLING_CHASE_MIN_DAYS)
    return at if at > timezone.now() else None


# --- tolerances ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@user_passes_test(_raise_403(_sees_ar))
def ar_tolerances(request: HttpRequest) -> HttpResponse:
    form = ToleranceForm()
    error = ""
    if request.method == "POST":
        require_finance(request.user, "set write-off tolerances")
        form = ToleranceForm(request.POST)
        try:
            if not form.is_valid():
                raise receivables.ReceivableError(first_error(form))
            tolerance = receivables.write_off_tolerance_set(
                currency=form.cleaned_data["currency"],
                amount=form.cleaned_data["amount"],
                actor=request.user,
            )
        except REFUSALS as exc:
            error = str(exc)[:1].upper() + str(exc)[1:]
        else:
            messages.success(
                request,
                f"Write-offs up to {money(tolerance.amount, tolerance.currency)} need no "
                "second approver.",
            )
            return redirect("billing:ar-tolerances")
    set_ = {t.currency: t for t in WriteOffTolerance.objects.select_related("updated_by")}
    rows = [(code, label, set_.get(code)) for code, label in Currency.choices]
    return render(
        request,
        "billing/ar/tolerances.html",
        {
            "rows": rows,
            "form": form,
            "error": error,
            "manages": _manages(request.user),
            "tab": "ar",
        },
        status=400 if error else 200,
    )
