"""Finance opens a signed deal's page: the Billing card shows the record equal to the contract
and the first invoice, whose PDF downloads."""

import pytest
from playwright.sync_api import expect

from billing.models import Invoice
from tests.billing.conftest import *  # noqa: F403 - the billing fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_finance_sees_the_billing_card_and_downloads_the_invoice(
    page,
    live_server,
    login,
    screenshot,
    make_user,
    signed_deal,
    width,
):
    deal = signed_deal()
    invoice = Invoice.objects.get(deal=deal, state="issued")
    make_user("Finance", username="fran")
    page.set_viewport_size({"width": width, "height": 900})
    login("fran")
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    card = page.get_by_test_id("billing-panel")
    expect(card.get_by_test_id("billing-state")).to_have_text("In billing")
    expect(card.get_by_test_id("billing-diff-empty")).to_be_visible()
    expect(card.get_by_test_id("invoices")).to_contain_text(invoice.number)
    card.scroll_into_view_if_needed()
    screenshot(f"billing-card-{width}")
    with page.expect_download() as download:
        card.get_by_role("link", name=invoice.number).click()
    with open(download.value.path(), "rb") as handle:
        assert handle.read() == invoice.pdf.read()
