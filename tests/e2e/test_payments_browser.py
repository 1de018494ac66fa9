"""Finance imports a new bank's CSV statement in the browser: the columns step (guessed,
confirmed), the preview with each entry's decision, Commit — and the invoice is paid."""

import pytest
from playwright.sync_api import expect

from billing.models import Invoice
from tests.billing.cash import statement_csv
from tests.billing.conftest import *  # noqa: F403 - the billing fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_upload_preview_commit_and_the_invoice_is_paid(
    page,
    live_server,
    login,
    screenshot,
    make_user,
    issued_invoice,
    tmp_path,
    width,
):
    invoice = issued_invoice()
    make_user("Finance", username="fran")
    statement = tmp_path / "march.csv"
    statement.write_bytes(
        statement_csv(
            (invoice.total, invoice.currency, "Customer", f"Invoice {invoice.number}", "T1"),
            ("-12.50", invoice.currency, "Card fees", "fees", "T2"),
            ("99.00", invoice.currency, "Somebody", "no reference", "T3"),
        )
    )
    page.set_viewport_size({"width": width, "height": 900})

    login("fran")
    page.goto(f"{live_server.url}/billing/imports/new/")
    page.set_input_files("#id_file", str(statement))
    page.fill("#id_bank", "First Bank")
    page.get_by_test_id("import-upload").click()
    # A new bank: its columns, guessed from the header, for Finance to confirm.
    expect(page.get_by_label("Amount")).to_have_value("Amount")
    expect(page.get_by_test_id("file-head")).to_contain_text("Booking date")
    screenshot(f"import-mapping-{width}")
    page.get_by_test_id("mapping-save").click()

    rows = page.get_by_test_id("preview-rows")
    expect(rows).to_contain_text("Pays its invoice")
    expect(rows).to_contain_text(invoice.number)
    expect(rows).to_contain_text("AR: unmatched payment")
    expect(rows).to_contain_text("Debit, not booked")
    expect(page.get_by_test_id("preview-totals")).to_be_visible()
    screenshot(f"import-preview-{width}")
    assert Invoice.objects.get(pk=invoice.pk).state == "issued"  # the preview books nothing

    page.get_by_test_id("import-commit").click()
    expect(page.get_by_test_id("import-state")).to_have_text("Imported")
    expect(page.get_by_test_id("new-payments")).to_have_text("2")
    screenshot(f"import-summary-{width}")
    assert Invoice.objects.get(pk=invoice.pk).state == "paid"

    page.get_by_test_id("statement-payments").click()
    expect(page.get_by_test_id("payment-list")).to_contain_text(invoice.number)
    screenshot(f"payments-{width}")
    page.goto(f"{live_server.url}/billing/invoices/?customer={invoice.number}")
    expect(page.get_by_test_id(f"invoice-row-{invoice.pk}")).to_contain_text("paid")


@pytest.mark.parametrize("width", [1280, 390])
def test_finance_records_a_cheque_and_the_invoice_is_paid(
    page,
    live_server,
    login,
    screenshot,
    make_user,
    issued_invoice,
    width,
):
    invoice = issued_invoice()
    make_user("Finance", username="fran")
    page.set_viewport_size({"width": width, "height": 900})
    login("fran")
    page.goto(f"{live_server.url}/billing/payments/new/")
    page.fill("#id_amount", str(invoice.total))
    page.select_option("#id_currency", invoice.currency)
    page.fill("#id_payer_name", "Customer")
    page.fill("#id_invoice", invoice.number.lower())
    screenshot(f"payment-new-{width}")
    page.get_by_test_id("payment-submit").click()
    expect(page.get_by_test_id("payment-list")).to_contain_text(invoice.number)
    assert Invoice.objects.get(pk=invoice.pk).state == "paid"
