"""Billing on the deal page: the record, what stopped it, the invoices; Finance bills a deal
again after fixing an exception. Every action goes through billing.services, which checks
again."""

import io

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from audit.actions import Action
from billing import services
from billing.models import CreditNote, Invoice
from contracts.selectors import checked_bytes
from dealdesk import selectors as deal_selectors
from dealdesk.views import redirect_back

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
    return redirect_back(request, reverse("deal-detail", args=[deal.pk]))


@require_GET
@permission_required(VIEW_PERM, raise_exception=True)
def invoice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """An issued invoice's PDF, only while it still hashes to what was stored and sent; a PDF
    that does not is refused, and every refused attempt is audited."""
    invoice = get_object_or_404(Invoice, pk=pk)
    return _verified_pdf(
        request, invoice, invoice.deal_id, kind="invoice", tampered=Action.INVOICE_FILE_TAMPERED
    )


@require_GET
@permission_required(VIEW_PERM, raise_exception=True)
def credit_note_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """A credit note's PDF, checked like an invoice's: whoever may read the invoice it credits
    may read it."""
    note = get_object_or_404(CreditNote.objects.select_related("invoice"), pk=pk)
    return _verified_pdf(
        request,
        note,
        note.invoice.deal_id,
        kind="credit note",
        tampered=Action.CREDIT_NOTE_FILE_TAMPERED,
    )


def _verified_pdf(
    request: HttpRequest,
    document: Invoice | CreditNote,
    deal_id: int,
    *,
    kind: str,
    tampered: Action,
) -> HttpResponse:
    deal_selectors.deal_get(user=request.user, pk=deal_id)  # may this user see it?
    if not document.pdf:
        raise Http404("no PDF yet")
    content, actual = checked_bytes(
        document.pdf,
        document.pdf_sha256,
        obj=document,
        action=tampered,
        kind=f"{kind} PDF",
        actor=request.user,
    )
    if actual != document.pdf_sha256:
        return render(
            request,
            "esign/desk/file_refused.html",
            {
                "error": f"{kind} {document.number} on disk is not the one that was sent; "
                "this was recorded in the audit log.",
                "deal_id": deal_id,
            },
            status=409,
        )
    return FileResponse(
        io.BytesIO(content),
        as_attachment=True,
        filename=f"{document.number}.pdf",
        content_type="application/pdf",
    )
