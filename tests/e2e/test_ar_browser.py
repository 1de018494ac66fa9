"""Finance A asks to write off a shortfall above the tolerance from the AR queue; Finance B
approves it in the browser, and the invoice ends paid."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from billing.models import CreditNote, Invoice
from billing.receivables import write_off_tolerance_set
from tests.billing.conftest import *  # noqa: F403 - the billing fixtures
from tests.billing.test_receivables import partial_item

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_a_write_off_above_tolerance_is_approved_by_a_second_finance_user(
    page,
    live_server,
    login,
    screenshot,
    make_user,
    issued_invoice,
    width,
):
    invoice = issued_invoice()
    fin_a = make_user("Finance", username="fran")
    make_user("Finance", username="felix")
    write_off_tolerance_set(currency=invoice.currency, amount="50", actor=fin_a)
    item = partial_item(invoice, invoice.total - Decimal(80))
    page.set_viewport_size({"width": width, "height": 900})

    login("fran")
    page.goto(f"{live_server.url}/billing/ar/")
    row = page.get_by_test_id(f"ar-row-{item.pk}")
    expect(row).to_contain_text("Partial payment")
    expect(row).to_contain_text("80.00 USD")
    screenshot(f"ar-queue-{width}")
    row.get_by_role("link", name="Partial payment").click()
    write_off = page.get_by_test_id("ar-write-off")
    write_off.locator("summary").click()
    expect(write_off.get_by_label("Amount (USD)")).to_have_value("80.00")
    # Above the tolerance, the button says what will happen.
    expect(write_off.get_by_test_id("ar-write-off-submit")).to_have_text("Ask for approval")
    write_off.get_by_label("Why (required)").fill("customer disputes the seat count; goodwill")
    screenshot(f"ar-item-{width}")
    write_off.get_by_test_id("ar-write-off-submit").click()
    expect(page.get_by_test_id("ar-state")).to_have_text("Write-off awaiting approval")
    expect(page.get_by_test_id("ar-approval-wait")).to_be_visible()
    expect(page.get_by_test_id("ar-approve")).to_have_count(0)

    page.context.clear_cookies()
    login("felix")
    page.goto(f"{live_server.url}/billing/ar/{item.pk}/")
    box = page.get_by_test_id("ar-approval")
    expect(box).to_contain_text("fran asks to write off 80.00 USD")
    expect(box).to_contain_text("goodwill")
    screenshot(f"ar-approval-{width}")
    box.get_by_test_id("ar-approve").click()
    expect(page.get_by_test_id("ar-state")).to_have_text("Resolved")
    expect(page.get_by_test_id("ar-resolution")).to_contain_text("Written off by felix")
    expect(page.get_by_test_id("ar-invoice-due")).to_have_text("0.00 USD")
    screenshot(f"ar-resolved-{width}")
    invoice = Invoice.objects.get(pk=invoice.pk)
    assert (invoice.state, invoice.amount_written_off) == ("paid", Decimal(80))


@pytest.mark.parametrize("width", [1280, 390])
def test_a_credit_note_issued_from_the_queue_is_drawn_and_linked_where_its_invoice_is(
    page,
    live_server,
    login,
    screenshot,
    make_user,
    issued_invoice,
    mailoutbox,
    width,
):
    invoice = issued_invoice()
    make_user("Finance", username="fran")
    item = partial_item(invoice, invoice.total - Decimal(80))
    page.set_viewport_size({"width": width, "height": 900})
    login("fran")
    page.goto(f"{live_server.url}/billing/ar/{item.pk}/")
    credit = page.get_by_test_id("ar-credit-note")
    credit.locator("summary").click()
    credit.get_by_label("Why (required, printed on the credit note)").fill("two days of outage")
    credit.get_by_role("button", name="Issue credit note").click()
    expect(page.get_by_test_id("ar-state")).to_have_text("Resolved")
    note = CreditNote.objects.get(ar_item=item)
    link = page.get_by_test_id(f"credit-note-{note.pk}").get_by_role("link", name=note.number)
    expect(link).to_be_visible()
    screenshot(f"ar-credit-note-{width}")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == f"{note.number}.pdf"
    assert [m.attachments[0][0] for m in mailoutbox if note.number in m.subject] == [
        f"{note.number}.pdf"
    ]
    for url, name in (
        (f"/deals/{invoice.deal_id}/", "deal"),
        (f"/billing/invoices/?customer={invoice.number}", "invoices"),
    ):
        page.goto(f"{live_server.url}{url}")
        row = page.get_by_test_id(f"credit-note-{note.pk}")
        expect(row).to_contain_text("80.00 USD")
        expect(row.get_by_role("link", name=note.number)).to_be_visible()
        row.scroll_into_view_if_needed()
        screenshot(f"credit-note-on-{name}-{width}")
