"""A credit note goes out like an invoice: its PDF drawn once from the note as issued, stored
with its SHA-256, and e-mailed with the PDF attached to the billing contact the contract
names. Enqueued by billing.receivables.ar_credit_note in the issuing transaction."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from audit.actions import Action
from billing.credit_note_document import CreditNoteDocument, credit_note_pdf, credit_note_text
from billing.document_delivery import document_mail, pdf_stored_once
from billing.invoice_document import InvoiceParty, invoice_seller
from billing.models import CreditNote
from dealdesk.pricing import round_money
from dealdesk.services import pipeline_user

# The outbox step (a dotted path the outbox imports and calls with the note's id).
DELIVER_STEP = "billing.credit_note_delivery.credit_note_deliver_step"


def credit_note_document(note: CreditNote) -> CreditNoteDocument:
    """The note as its document says it, from the note, its invoice and the invoice's order."""
    invoice = note.invoice
    order = invoice.record.order
    entity = order["billing_entity"]
    return CreditNoteDocument(
        number=note.number,
        issue_date=timezone.localdate(note.created_at),
        currency=note.currency,
        seller=invoice_seller(),
        buyer=InvoiceParty(
            name=entity["legal_name"],
            address=entity["address"],
            tax_id=entity["tax_id"],
            email=entity["billing_email"],
        ),
        invoice_number=invoice.number,
        invoice_date=invoice.issue_on,
        # Stored with 3 places; printed, like the invoice, at the currency's minor unit.
        invoice_total=round_money(invoice.total, invoice.currency),
        po_number=invoice.po_number,
        contract_reference=order["contract_reference"],
        contract_version=order["contract_version"],
        amount=round_money(note.amount, note.currency),
        reason=note.reason,
    )


def credit_note_deliver(*, credit_note_id: int, actor: AbstractBaseUser) -> int:
    """Draw, store and mail an issued credit note. Once: the PDF is drawn the first time only
    and the mail goes once per note."""
    note = CreditNote.objects.select_related("invoice__record").get(pk=credit_note_id)
    document = credit_note_document(note)
    pdf = pdf_stored_once(
        note,
        draw=lambda: credit_note_pdf(document),
        actor=actor,
        action=Action.CREDIT_NOTE_DOCUMENT_GENERATED,
        reason="credit note PDF drawn",
    )
    return document_mail(
        note,
        pdf,
        subject=f"Credit note {note.number} from {settings.CONTRACT_PROVIDER['name']}",
        body=credit_note_text(document),
        to=document.buyer.email,
        key=f"credit-note-{note.pk}-sent",
        actor=actor,
        action=Action.CREDIT_NOTE_SENT,
    )


def credit_note_deliver_step(credit_note_id: int) -> int:
    """The outbox's step: run as the pipeline's service user, like the invoice's."""
    return credit_note_deliver(credit_note_id=credit_note_id, actor=pipeline_user())
