"""Finance's payments and bank-import pages: lists in a fixed number of queries, manual entry
with its one-time token, upload → (columns for a new bank) → preview → commit."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.models import BankImport, BankMapping, Payment, PaymentAllocation
from tests.billing.cash import statement_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def fin(client, make_user):
    user = make_user("Finance", first_name="Fiona", last_name="Ledger")
    client.force_login(user)
    return user


def test_payments_list_in_few_queries_whatever_its_length(
    client, fin, issued_invoice, django_assert_max_num_queries
):
    invoice = issued_invoice()
    for n in range(30):
        payment = Payment.objects.create(
            source="bank", external_id=f"e{n}", amount=Decimal(10 + n), currency="USD",
            received_on=date(2026, 3, 1 + n % 28), payer_name=f"Payer {n}", state="applied",
        )  # fmt: skip
        PaymentAllocation.objects.create(
            payment=payment, invoice=invoice, amount=Decimal(1), how="matched", allocated_by=fin
        )
    # Session, user, permissions, the page and its count, the allocations, the navigation's
    # and the Finance tabs' counts: the same however many rows.
    with django_assert_max_num_queries(16):
        response = client.get(reverse("billing:payments"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="payment-row-') == 30
    assert invoice.number in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"a", "b", "c"}),
        ("state=held", {"b"}),
        ("source=manual", {"c"}),
        ("currency=EUR", {"b"}),
        ("received_from=2026-03-02&received_to=2026-03-02", {"b"}),
        ("state=bogus", set()),  # refused, not ignored
        ("received_from=not-a-date", set()),
    ],
)
def test_payments_list_filters(client, fin, query, expected):
    for name, source, currency, day, state in (
        ("a", "bank", "USD", 1, "applied"),
        ("b", "bank", "EUR", 2, "held"),
        ("c", "manual", "USD", 3, "received"),
    ):
        Payment.objects.create(
            source=source, external_id=name, amount=Decimal(5), currency=currency,
            received_on=date(2026, 3, day), payer_name=f"payer-{name}", state=state,
        )  # fmt: skip
    html = client.get(reverse("billing:payments") + "?" + query).content.decode()
    assert {n for n in "abc" if f"payer-{n}" in html} == expected


def test_deal_desk_may_not_see_payments_or_imports(client, make_user):
    client.force_login(make_user("Deal Desk"))
    for name in (
        "billing:payments",
        "billing:payment-new",
        "billing:imports",
        "billing:import-new",
    ):
        assert client.get(reverse(name)).status_code == 403
    assert client.post(reverse("billing:import-commit", args=[1])).status_code == 403


def test_manual_entry_form_records_once_however_often_it_is_sent(client, fin, issued_invoice):
    invoice = issued_invoice()
    page = client.get(reverse("billing:payment-new")).content.decode()
    token = re.search(r'name="entry_token" value="([^"]+)"', page)[1]
    form = {
        "entry_token": token,
        "amount": str(invoice.total),
        "currency": invoice.currency,
        "received_on": timezone.localdate().isoformat(),
        "payer_name": "Customer",
        "reference": f"cheque for {invoice.number}",
    }
    first = client.post(reverse("billing:payment-new"), form)
    second = client.post(reverse("billing:payment-new"), form)
    assert first.status_code == second.status_code == 302
    assert Payment.objects.count() == 1
    invoice.refresh_from_db()
    assert invoice.state == "paid"


def test_manual_entry_offers_the_open_invoices_and_their_customers(client, fin, issued_invoice):
    issued_invoice()
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("billing:payment-new"))
    invoices = [issued_invoice() for _ in range(3)]
    with CaptureQueriesContext(connection) as more:
        page = client.get(reverse("billing:payment-new")).content.decode()
    assert len(more) == len(few)  # one query for the pickers, however many invoices
    picker = re.search(r'<datalist id="open-invoices".*?</datalist>', page, re.S)[0]
    for invoice in invoices:
        customer = invoice.deal.account.legal_name
        assert f'<option value="{invoice.number}">' in picker
        assert customer in picker
        assert f'<option value="{customer}">' in page
    assert 'list="open-invoices"' in page
    # A paid invoice is no longer offered.
    paid = invoices[0]
    client.post(
        reverse("billing:payment-new"),
        {
            "entry_token": re.search(r'name="entry_token" value="([^"]+)"', page)[1],
            "amount": str(paid.total),
            "currency": paid.currency,
            "received_on": timezone.localdate().isoformat(),
            "payer_name": "Customer",
            "invoice": paid.number,
        },
    )
    page = client.get(reverse("billing:payment-new")).content.decode()
    assert f'<option value="{paid.number}">' not in page
    assert f'<option value="{invoices[1].number}">' in page


def test_manual_entry_form_refuses_hostile_values(client, fin):
    response = client.post(
        reverse("billing:payment-new"),
        {
            "entry_token": "x" * 30,
            "amount": "-5",
            "currency": "XXX",
            "received_on": "2999-01-01",
            "payer_name": "<script>alert(1)</script>",
            "invoice": "DD-1999-000001",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) >= {"amount", "currency", "received_on", "invoice"}
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert not Payment.objects.exists()


def test_upload_a_new_banks_csv_confirm_columns_preview_and_commit(client, fin, issued_invoice):
    invoice = issued_invoice()
    content = statement_csv(
        (invoice.total, invoice.currency, "Customer", f"Invoice {invoice.number}", "T1"),
        ("5.00", "USD", "<b>Nobody</b>", '=HYPERLINK("http://x")', "T2"),
    )
    response = client.post(
        reverse("billing:import-new"),
        {"file": SimpleUploadedFile("march.csv", content), "bank": "First Bank"},
    )
    assert response.status_code == 200  # the columns step
    form = response.context["form"]
    assert form.initial["amount"] == "Amount"
    data = {name: ("" if value is None else value) for name, value in form.initial.items()}
    data = {k: v for k, v in data.items() if k in form.fields}
    response = client.post(reverse("billing:import-new"), data)
    assert response.status_code == 302, response.context["form"].errors
    statement = BankImport.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("billing:import-detail", args=[statement.pk])
    assert BankMapping.objects.get().bank == "First Bank"

    html = client.get(response.url).content.decode()
    assert "Pays its invoice" in html
    assert "AR: unmatched payment" in html
    assert "<b>Nobody</b>" not in html  # escaped
    assert not Payment.objects.exists()

    client.post(reverse("billing:import-commit", args=[statement.pk]))
    statement.refresh_from_db()
    assert statement.state == "committed"
    invoice.refresh_from_db()
    assert invoice.state == "paid"
    html = client.get(reverse("billing:import-detail", args=[statement.pk])).content.decode()
    assert 'data-testid="import-summary"' in html

    # The bank's next file goes straight to the preview; the same file again is refused.
    again = client.post(
        reverse("billing:import-new"),
        {"file": SimpleUploadedFile("march.csv", content), "bank": "First Bank"},
    )
    assert "already imported on" in again.content.decode()
    assert BankImport.objects.count() == 1


def test_imports_list_in_few_queries(client, fin, django_assert_max_num_queries):
    for n in range(20):
        BankImport.objects.create(
            sha256=f"{n:064d}", filename=f"s{n}.csv", kind="csv", uploaded_by=fin, entries=n
        )
    with django_assert_max_num_queries(16):
        response = client.get(reverse("billing:imports"))
    assert response.content.decode().count('data-testid="import-row-') == 20


def test_discard_from_the_preview(client, fin):
    content = statement_csv(("5.00", "USD", "Somebody", "x", "T1"))
    BankMapping.objects.create(
        bank="Known",
        updated_by=fin,
        mapping={"booking_date": "Booking date", "amount": "Amount", "currency": "Currency",
                 "date_formats": ["%d.%m.%Y"], "delimiter": ";"},
    )  # fmt: skip
    response = client.post(
        reverse("billing:import-new"),
        {"file": SimpleUploadedFile("s.csv", content), "bank": "known"},
    )
    statement = BankImport.objects.get()
    assert response.url == reverse("billing:import-detail", args=[statement.pk])
    client.post(reverse("billing:import-discard", args=[statement.pk]))
    statement.refresh_from_db()
    assert statement.state == "discarded"
    assert not Payment.objects.exists()
