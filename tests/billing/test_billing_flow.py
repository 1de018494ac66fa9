"""From Deal:signed to the first invoice on the local ledger, through the real pipeline: the
canonical order stored, the readiness checks, the ledger read back equal, gapless numbers."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from audit.models import AuditEvent
from billing import services
from billing.models import BillingRecord, Invoice
from dealdesk.services import pipeline_user


def test_a_signed_deal_is_billed_and_its_first_invoice_issued(signed_deal):
    deal = signed_deal()
    record = BillingRecord.objects.get(deal=deal)
    assert record.state == "created"
    assert record.diff == []
    assert Decimal(record.order["tcv"]) == deal.tcv
    assert len(record.order_sha256) == 64
    invoices = list(Invoice.objects.filter(deal=deal).order_by("plan_index"))
    assert len(invoices) == len(record.order["invoices"])
    first, *later = invoices
    assert first.state == "issued"
    assert first.number == f"DD-{timezone.localdate().year}-000001"
    assert first.po_number == "PO-4471"
    assert first.due_on == first.issue_on + timedelta(days=60)  # Net 60, as signed
    assert sum(line.amount for line in first.lines.all()) == first.total
    assert all(invoice.state == "draft" and invoice.number is None for invoice in later)
    assert sum(invoice.total for invoice in invoices) == deal.tcv
    assert deal.state == "invoiced"
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "billing_record.opened",
        "billing_record.created",
        "deal.billing_started",
        "invoice.issued",
        "deal.invoiced",
    } <= actions


def test_an_issued_invoice_is_drawn_stored_and_mailed_with_its_pdf(signed_deal):
    import hashlib

    from django.core import mail
    from pypdf import PdfReader

    deal = signed_deal()
    invoice = Invoice.objects.get(deal=deal, state="issued")
    pdf = invoice.pdf.read()
    assert hashlib.sha256(pdf).hexdigest() == invoice.pdf_sha256
    import io

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert invoice.number in text
    assert "PO-4471" in text
    (message,) = [m for m in mail.outbox if invoice.number in m.subject]
    assert message.to == [deal.account.billing_email]
    assert message.attachments[0][0] == f"{invoice.number}.pdf"
    assert message.attachments[0][1] == pdf
    assert AuditEvent.objects.filter(action="invoice.sent").count() == 1


def test_later_invoices_are_issued_on_their_day_with_the_next_numbers(signed_deal):
    deal = signed_deal()
    later = Invoice.objects.filter(deal=deal, state="draft").order_by("issue_on")
    day = later.first().issue_on
    assert services.invoices_issue_due(actor=pipeline_user(), today=day) == 1
    issued = Invoice.objects.get(deal=deal, issue_on=day)
    assert issued.number == f"DD-{day.year}-000001"  # a new year: its own sequence


def test_numbers_have_no_gaps_across_deals(signed_deal):
    first = signed_deal(crm_id="006T00000000091")
    second = signed_deal(crm_id="006T00000000092", legal_name="Beacon Freight, Inc.")
    numbers = sorted(
        Invoice.objects.filter(deal__in=[first, second], state="issued").values_list(
            "number", flat=True
        )
    )
    year = timezone.localdate().year
    assert numbers == [f"DD-{year}-000001", f"DD-{year}-000002"]


def test_billing_the_same_deal_again_changes_nothing(signed_deal):
    deal = signed_deal()
    before = Invoice.objects.count()
    record = services.billing_start(deal_id=deal.pk, actor=pipeline_user())
    assert record is None  # the deal is past signed: nothing to start
    assert Invoice.objects.count() == before
    assert BillingRecord.objects.filter(deal=deal).count() == 1


def test_a_deal_not_ready_to_invoice_is_an_exception_until_finance_fixes_it(
    out_for_signature, sign, make_user, django_capture_on_commit_callbacks
):
    from contracts.esign.models import Signer
    from dealdesk.models import Product

    deal = out_for_signature()
    customer, us = Signer.objects.filter(request__deal=deal).order_by("routing_order")
    sign(customer)
    # Between the signatures the catalog loses the seat's billing set-up.
    Product.objects.filter(sku="SEAT-STD").update(kind="")
    sign(us)
    deal.refresh_from_db()
    record = BillingRecord.objects.get(deal=deal)
    assert deal.state == "signed"
    assert record.state == "exception"
    assert record.problems == [
        "SKU SEAT-STD is not set up for billing in the catalog: Finance completes it."
    ]
    assert not Invoice.objects.filter(deal=deal).exists()
    assert AuditEvent.objects.filter(action="billing_record.stopped").count() == 1

    with pytest.raises(PermissionDenied):
        services.billing_retry(deal_id=deal.pk, actor=make_user("Sales"))
    Product.objects.filter(sku="SEAT-STD").update(kind="subscription")
    with django_capture_on_commit_callbacks(execute=True):
        record = services.billing_retry(deal_id=deal.pk, actor=make_user("Finance"))
    deal.refresh_from_db()
    assert record.state == "created"
    assert deal.state == "invoiced"
    assert AuditEvent.objects.filter(action="billing_record.retried").count() == 1


def test_explain_billing_and_bill_deal(signed_deal):
    import json
    from io import StringIO

    from django.core.management import CommandError, call_command

    deal = signed_deal()
    out = StringIO()
    call_command("explain_billing", deal.crm_id, stdout=out)
    data = json.loads(out.getvalue())
    (record,) = data["records"]
    assert record["state"] == "created"
    assert record["diff"] == []
    assert record["invoices"][0]["number"].startswith("DD-")
    assert record["order"]["contract_reference"]
    again = StringIO()
    call_command("bill_deal", deal.crm_id, stdout=again)  # billed before: said, not redone
    assert json.loads(again.getvalue())["billing"] == "created"
    with pytest.raises(CommandError, match="no deal"):
        call_command("bill_deal", "006NOSUCHDEAL", stdout=StringIO())


def test_the_deal_page_shows_billing_and_finance_downloads_the_invoice(
    signed_deal, client, make_user
):
    deal = signed_deal()
    invoice = Invoice.objects.get(deal=deal, state="issued")
    client.force_login(make_user("Finance"))
    html = client.get(f"/deals/{deal.pk}/").content.decode()
    assert 'data-testid="billing-panel"' in html
    assert 'data-testid="billing-diff-empty"' in html
    assert invoice.number in html
    response = client.get(f"/billing/invoices/{invoice.pk}/pdf/")
    assert b"".join(response.streaming_content) == invoice.pdf.read()
    Invoice.objects.filter(pk=invoice.pk).update(pdf_sha256="0" * 64)  # not what was sent
    assert client.get(f"/billing/invoices/{invoice.pk}/pdf/").status_code == 409
    client.force_login(make_user("Sales"))
    assert client.get(f"/billing/invoices/{invoice.pk}/pdf/").status_code == 403


def test_finance_bills_again_from_the_deal_page(
    out_for_signature, sign, make_user, client, django_capture_on_commit_callbacks
):
    from contracts.esign.models import Signer
    from dealdesk.models import Product

    deal = out_for_signature()
    Product.objects.filter(sku="SEAT-STD").update(kind="")
    for signer in Signer.objects.filter(request__deal=deal).order_by("routing_order"):
        sign(signer)
    finance = make_user("Finance")
    client.force_login(finance)
    html = client.get(f"/deals/{deal.pk}/").content.decode()
    assert "SKU SEAT-STD is not set up for billing" in html
    assert 'data-testid="billing-retry"' in html
    client.force_login(make_user("Deal Desk"))
    assert client.post(f"/billing/deals/{deal.pk}/retry/").status_code == 403
    Product.objects.filter(sku="SEAT-STD").update(kind="subscription")
    client.force_login(finance)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/billing/deals/{deal.pk}/retry/")
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.state == "invoiced"


def test_an_unknown_billing_backend_is_refused_by_the_checks(settings):
    from billing.checks import check_billing_backend

    assert check_billing_backend(None) == []
    settings.BILLING_BACKEND = "nope"
    (error,) = check_billing_backend(None)
    assert error.id == "billing.E001"
