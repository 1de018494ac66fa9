"""Credit notes go out like invoices: drawn once in the invoice's house style (the note's
number, the invoice it credits, the amount and the reason, in the PDF and the e-mail alike),
stored with their SHA-256, mailed to the billing contact with the PDF attached, linked from the
AR item, the invoice list and the deal's Billing card, and refused (409, audited) when the
stored file no longer hashes to what was sent."""

import datetime as dt
import hashlib
import io
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pypdfium2
import pytest
from django.urls import reverse
from pypdf import PdfReader

from audit.models import AuditEvent
from billing.credit_note_delivery import credit_note_deliver, credit_note_document
from billing.credit_note_document import CreditNoteDocument, credit_note_pdf, credit_note_text
from billing.invoice_document import InvoiceDocumentError, InvoiceParty, invoice_seller
from billing.receivables import ar_credit_note
from dealdesk.services import pipeline_user
from tests.billing.test_receivables import partial_item

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def _document(**fields) -> CreditNoteDocument:
    values = {
        "number": "DD-CN-2026-000007",
        "issue_date": dt.date(2026, 3, 2),
        "currency": "USD",
        "seller": InvoiceParty(name="Dealdesk Ltd", address="1 Main St\nLondon"),
        "buyer": InvoiceParty(
            name="ACME & Co <KG>", address="Hauptstr. 1\n10115 Berlin", email="ap@acme.test"
        ),
        "invoice_number": "DD-2026-000042",
        "invoice_date": dt.date(2026, 1, 15),
        "invoice_total": Decimal("51100.00"),
        "po_number": "PO-4471",
        "contract_reference": "DD-C-0042",
        "contract_version": 3,
        "amount": Decimal("1250.50"),
        "reason": "Service outage 3–5 February: two days' credit",
    }
    return CreditNoteDocument(**(values | fields))


def _pdf_text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_pdf_and_the_mail_carry_the_note_the_invoice_it_credits_and_why():
    doc = _document()
    pdf = credit_note_pdf(doc)
    text = " ".join(_pdf_text(pdf).split())
    for expected in (
        "Credit note",
        "DD-CN-2026-000007",
        "2 March 2026",
        "DD-2026-000042",
        "15 January 2026",
        "PO-4471",
        "Contract DD-C-0042 v3",
        "1,250.50",
        "Service outage 3–5 February: two days' credit",
        "ACME & Co <KG>",  # text, printed once, never as markup
        "Credit note DD-CN-2026-000007 · Page 1 of 1",  # the running footer names the kind
    ):
        assert expected in text, expected
    assert "&amp;" not in text
    assert "Invoice DD-CN" not in text
    mail = credit_note_text(doc)
    for expected in ("DD-CN-2026-000007", "DD-2026-000042", "1,250.50", "Service outage"):
        assert expected in mail
    # Looked at by a person: the first page as a PNG.
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = pypdfium2.PdfDocument(pdf)[0]
    page.render(scale=1.5).to_pil().save(SCREENSHOTS / "credit-note.png")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": 12.5}, "not a Decimal"),
        ({"amount": Decimal("1.005")}, "more places than USD"),
        ({"amount": Decimal("0.00")}, "not a credit of invoice"),
        ({"amount": Decimal("51100.01")}, "not a credit of invoice"),
        ({"currency": "XXQ"}, "unknown currency"),
    ],
)
def test_a_note_whose_money_is_not_money_is_refused_before_drawing(fields, message):
    with pytest.raises(InvoiceDocumentError, match=message):
        _document(**fields)


def _issue(invoice, finance_user, capture, amount="200", reason="service outage"):
    item = partial_item(invoice, invoice.total - 300)
    with capture(execute=True):
        return ar_credit_note(item_id=item.pk, amount=amount, reason=reason, actor=finance_user)


@pytest.fixture
def fin(make_user):
    return make_user("Finance", username="fin_cn")


def test_an_issued_note_is_drawn_stored_with_its_hash_and_mailed_once(
    issued_invoice, fin, django_capture_on_commit_callbacks, mailoutbox
):
    invoice = issued_invoice()
    mailoutbox.clear()
    note = _issue(invoice, fin, django_capture_on_commit_callbacks)
    note.refresh_from_db()
    assert note.pdf.name == f"billing/deal-{invoice.deal_id}/{note.number}.pdf"
    stored = note.pdf.read()
    assert note.pdf_sha256 == hashlib.sha256(stored).hexdigest()
    (mail,) = mailoutbox
    billing_email = invoice.record.order["billing_entity"]["billing_email"]
    assert mail.to == [billing_email]
    assert f"Credit note {note.number} from " in mail.subject
    assert mail.attachments == [(f"{note.number}.pdf", stored, "application/pdf")]
    assert invoice.number in mail.body
    assert "service outage" in mail.body
    events = AuditEvent.objects.filter(object_id=str(note.pk), object_type="billing.creditnote")
    assert list(events.order_by("seq").values_list("action", flat=True)) == [
        "credit_note.issued",
        "credit_note.document_generated",
        "credit_note.sent",
    ]
    assert events.get(action="credit_note.sent").data == {
        "to": billing_email,
        "sha256": note.pdf_sha256,
    }
    # A second run (a retried step) neither draws again nor mails again.
    assert credit_note_deliver(credit_note_id=note.pk, actor=pipeline_user()) == 0
    note.refresh_from_db()
    assert note.pdf.read() == stored
    assert len(mailoutbox) == 1
    assert credit_note_document(note).amount == Decimal("200.00")


def test_a_failed_drawing_stores_nothing_and_the_credit_stands(
    issued_invoice, fin, django_capture_on_commit_callbacks, mailoutbox, monkeypatch
):
    invoice = issued_invoice()
    mailoutbox.clear()

    def broken(doc):
        raise InvoiceDocumentError("cannot draw")

    monkeypatch.setattr("billing.credit_note_delivery.credit_note_pdf", broken)
    note = _issue(invoice, fin, django_capture_on_commit_callbacks)
    note.refresh_from_db()
    invoice.refresh_from_db()
    assert (note.pdf.name, note.pdf_sha256) == ("", "")
    assert invoice.amount_credited == Decimal(200)  # the credit is not undone by its PDF
    assert not mailoutbox
    assert not AuditEvent.objects.filter(action="credit_note.sent").exists()


def test_the_note_is_linked_everywhere_and_an_altered_file_is_refused_and_audited(
    issued_invoice, fin, client, django_capture_on_commit_callbacks
):
    invoice = issued_invoice()
    note = _issue(invoice, fin, django_capture_on_commit_callbacks)
    note.refresh_from_db()
    url = reverse("billing:credit-note-pdf", args=[note.pk])
    client.force_login(fin)
    for page in (
        reverse("billing:ar-item", args=[note.ar_item_id]),
        reverse("billing:invoices"),
        reverse("deal-detail", args=[invoice.deal_id]),
    ):
        assert f'href="{url}"' in client.get(page).content.decode(), page
    response = client.get(url)
    assert response["Content-Disposition"] == f'attachment; filename="{note.number}.pdf"'
    assert b"".join(response.streaming_content) == note.pdf.read()
    with open(note.pdf.path, "ab") as handle:
        handle.write(b"%% appended later")
    for attempt in (1, 2):
        response = client.get(url)
        assert response.status_code == 409
        assert b"not the one that was sent" in response.content
        assert (
            AuditEvent.objects.filter(
                action="credit_note.file_tampered", object_id=str(note.pk)
            ).count()
            == attempt
        )


def test_only_who_may_read_the_invoice_reads_the_note(
    issued_invoice, fin, client, make_user, django_capture_on_commit_callbacks
):
    invoice = issued_invoice()
    note = _issue(invoice, fin, django_capture_on_commit_callbacks)
    url = reverse("billing:credit-note-pdf", args=[note.pk])
    client.force_login(make_user("Sales", username="seller_cn"))
    assert client.get(url).status_code in (403, 404)
    assert not AuditEvent.objects.filter(action="credit_note.file_tampered").exists()


def test_seller_is_our_entity(settings):
    settings.INVOICE_SELLER_TAX_ID = "GB123"
    doc = replace(_document(), seller=invoice_seller())
    assert "GB123" in _pdf_text(credit_note_pdf(doc))
