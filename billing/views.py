"""Billing on the deal page: the record, what stopped it, the invoices; Finance bills a deal
again after fixing an exception. Every action goes through billing.services, which checks
again."""

import io

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_POST

from billing import services
from billing.models import Invoice
from contracts.selectors import stored_bytes
from dealdesk import selectors as deal_selectors

VIEW_PERM = "billing.view_invoice"


@require_POST
@permission_required(services.MANAGE_PERM, raise_exception=True)
def billing_retry(request: HttpRequest, deal_id: int) -> HttpResponse:
    deal = deal_selectors.deal_get(user=request.user, pk=deal_id)
    record = services.billing_retry(deal_id=deal.pk, actor=request.user)
    if record is None or record.state != "created":
        problems = "; ".join(record.problems) if record else "the deal is not signed"
        messages.error(request, f"Not billed: {problems}")
    else:
        messages.success(request, f"{deal.name} is in billing: the record matches the contract.")
    return redirect("deal-detail", pk=deal.pk)


@require_GET
@permission_required(VIEW_PERM, raise_exception=True)
def invoice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """An issued invoice's PDF, only while it still hashes to what was stored and sent."""
    invoice = get_object_or_404(Invoice.objects.select_related("deal"), pk=pk)
    deal_selectors.deal_get(user=request.user, pk=invoice.deal_id)  # may this user see it?
    if not invoice.pdf:
        raise Http404("no PDF yet")
    content, actual = stored_bytes(invoice.pdf)
    if actual != invoice.pdf_sha256:
        raise Http404("the stored invoice is not the one that was sent")
    return FileResponse(
        io.BytesIO(content),
        as_attachment=True,
        filename=f"{invoice.number}.pdf",
        content_type="application/pdf",
    )
