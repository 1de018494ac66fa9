"""An issued invoice goes out: its PDF drawn once from the invoice as issued, stored with its
SHA-256, and e-mailed with the PDF attached to the billing contact the contract names."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from audit.actions import Action
from billing.document_delivery import document_mail, pdf_stored_once
from billing.invoice_document import (
    InvoiceDocument,
    InvoiceDocumentLine,
    InvoiceParty,
    invoice_pdf,
    invoice_seller,
    invoice_text,
)
from billing.models import Invoice, InvoiceState


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
    pdf = pdf_stored_once(
        invoice,
        draw=lambda: invoice_pdf(document),
        actor=actor,
        action=Action.INVOICE_DOCUMENT_GENERATED,
        reason="invoice PDF drawn",
    )
    return document_mail(
        invoice,
        pdf,
        subject=f"Invoice {invoice.number} from {settings.CONTRACT_PROVIDER['name']}",
        body=invoice_text(document),
        to=document.buyer.email,
        key=f"invoice-{invoice.pk}-sent",
        actor=actor,
        action=Action.INVOICE_SENT,
    )
