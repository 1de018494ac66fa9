"""What people do from the deal page's Billing card besides billing again (billing/views.py):
enter the go-live date (Deal Desk, Finance) and release a first invoice held for review
(Finance). Each action goes through its service, which checks everything again."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from billing import go_live, services
from billing.models import Invoice, RecordState
from dealdesk import selectors as deal_selectors


class GoLiveForm(forms.Form):
    go_live_on = forms.DateField(input_formats=["%Y-%m-%d"])
    reason = forms.CharField(max_length=500, required=False, strip=True)


@require_POST
def go_live_set(request: HttpRequest, deal_id: int) -> HttpResponse:
    deal = deal_selectors.deal_get(user=request.user, pk=deal_id)
    if not go_live.may_set_go_live(request.user):
        raise PermissionDenied
    form = GoLiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Go-live not set: give the date as YYYY-MM-DD.")
        return redirect("deal-detail", pk=deal.pk)
    try:
        record = go_live.billing_go_live_set(
            deal_id=deal.pk,
            go_live_on=form.cleaned_data["go_live_on"],
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
    except (go_live.GoLiveInvalid, go_live.GoLiveConflict) as exc:
        messages.error(request, f"Go-live not set: {exc}.")
    else:
        outcome = (
            "billing started" if record.state == RecordState.CREATED else "billing not started yet"
        )
        messages.success(request, f"Go-live {record.go_live_on:%Y-%m-%d} recorded; {outcome}.")
    return redirect("deal-detail", pk=deal.pk)


@require_POST
@permission_required(services.MANAGE_PERM, raise_exception=True)
def invoice_release(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = get_object_or_404(Invoice, pk=pk)
    deal_selectors.deal_get(user=request.user, pk=invoice.deal_id)  # may this user see it?
    try:
        invoice = services.invoice_release(invoice_id=invoice.pk, actor=request.user)
    except services.InvoiceNotHeld as exc:
        messages.error(request, f"Not released: {exc}.")
    else:
        messages.success(request, f"Invoice {invoice.number} released and issued.")
    return redirect("deal-detail", pk=invoice.deal_id)
