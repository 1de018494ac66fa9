"""An issued invoice goes out: its PDF drawn once from the invoice as issued, stored with its
SHA-256, and e-mailed with the PDF attached to the billing contact the contract names."""

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import transaction

from audit.actions import Action
from audit.services import audit_record
from billing.invoice_document import (
    InvoiceDocument,
    InvoiceDocumentLine,
    InvoiceParty,
    invoice_pdf,
    invoice_seller,
    invoice_text,
)
from billing.models import Invoice, InvoiceState
from dealdesk.integrations.mail import send_notification


def invoice_document(invoice: Invoice) -> InvoiceDocument:
    """The invoice as its document says it, from the invoice and the order it was drawn from."""
    order = invoice.record.order
    entity = order["billing_entity"]
    one_time = {line["key"] for line in order["lines"] if line["one_time"]}
    lines = tuple(
        InvoiceDocumentLine(
            description=line.description,
            period_start=invoice.period_start,
            period_last_day=None if line.line_key in one_time else invoice.period_last_day,
            quantity=line.quantity,
            amount=line.amount,
            contract_line_key=line.line_key,
        )
        for line in invoice.lines.all()
    )
    return InvoiceDocument(
        number=invoice.number,
        issue_date=invoice.issue_on,
        due_date=invoice.due_on,
        payment_terms_days=invoice.payment_terms,
        currency=invoice.currency,
        seller=invoice_seller(),
        buyer=InvoiceParty(
            name=entity["legal_name"],
            address=entity["address"],
            tax_id=entity["tax_id"],
            email=entity["billing_email"],
        ),
        po_number=invoice.po_number,
        contract_reference=order["contract_reference"],
        contract_version=order["contract_version"],
        lines=lines,
        subtotal=invoice.total,
        total=invoice.total,
        amount_paid=invoice.amount_paid,
        amount_due=invoice.amount_due,
        payment_instructions=settings.INVOICE_PAYMENT_INSTRUCTIONS,
    )


def invoice_deliver(*, invoice_id: int, actor: AbstractBaseUser) -> int:
    """Draw, store and mail an issued invoice (pipeline, on Invoice:issued). Once: the PDF is
    drawn the first time only and the mail goes once per invoice."""
    invoice = Invoice.objects.select_related("record").get(pk=invoice_id)
    if invoice.state != InvoiceState.ISSUED:
        return 0
    document = invoice_document(invoice)
    pdf = None
    if not invoice.pdf:
        drawn = invoice_pdf(document)
        with transaction.atomic():
            invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
            if not invoice.pdf:  # else another run stored its own first: that one goes out
                pdf = drawn
                invoice.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
                invoice.pdf.save(f"{invoice.number}.pdf", ContentFile(pdf), save=False)
                invoice._history_user, invoice._change_reason = actor, "invoice PDF drawn"
                invoice.save()
                audit_record(
                    actor=actor,
                    obj=invoice,
                    action=Action.INVOICE_DOCUMENT_GENERATED,
                    data={"file": invoice.pdf.name, "sha256": invoice.pdf_sha256},
                )
    if pdf is None:  # drawn by an earlier run: what was stored is what is sent
        with invoice.pdf.open("rb") as handle:
            pdf = handle.read()
    sent = send_notification(
        subject=f"Invoice {invoice.number} from {settings.CONTRACT_PROVIDER['name']}",
        body=invoice_text(document),
        recipients=[document.buyer.email],
        key=f"invoice-{invoice.pk}-sent",
        attachments=[(f"{invoice.number}.pdf", pdf, "application/pdf")],
    )
    if sent:
        with transaction.atomic():
            audit_record(
                actor=actor,
                obj=invoice,
                action=Action.INVOICE_SENT,
                data={"to": document.buyer.email, "sha256": invoice.pdf_sha256},
            )
    return sent
