"""Deal Desk enters a go-live date on the deal page and the first invoice goes out; Finance
releases a first invoice held for review."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from billing.models import Invoice
from tests.billing.conftest import *  # noqa: F403 - the billing fixtures
from tests.billing.test_go_live import waiting_deal  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_deal_desk_enters_the_go_live_date_and_the_first_invoice_is_issued(
    page,
    live_server,
    login,
    screenshot,
    make_user,
    waiting_deal,  # noqa: F811
    width,
):
    deal = waiting_deal()
    make_user("Deal Desk", username="dana")
    page.set_viewport_size({"width": width, "height": 900})
    login("dana")
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    card = page.get_by_test_id("billing-panel")
    expect(card.get_by_test_id("go-live-waiting")).to_contain_text(
        "Billing starts at go-live: waiting for the date"
    )
    expect(card.get_by_test_id("billing-state")).to_have_text("Waiting for go-live date")
    card.scroll_into_view_if_needed()
    screenshot(f"go-live-waiting-{width}")
    today = timezone.localdate().isoformat()
    card.get_by_label("Go-live date").fill(today)
    card.get_by_test_id("go-live-submit").click()
    expect(page.get_by_text(f"Go-live {today} recorded; billing started.")).to_be_visible()
    card = page.get_by_test_id("billing-panel")
    expect(card.get_by_test_id("go-live-on")).to_contain_text(today)
    expect(card.get_by_test_id("billing-state")).to_have_text("In billing")
    invoice = Invoice.objects.get(deal=deal, plan_index=1)
    assert invoice.state == "issued"
    expect(card.get_by_test_id("invoices")).to_contain_text(invoice.number)
    card.scroll_into_view_if_needed()
    screenshot(f"go-live-started-{width}")


@pytest.mark.parametrize("width", [1280, 390])
def test_finance_releases_a_held_first_invoice(
    page,
    live_server,
    login,
    screenshot,
    make_user,
    settings,
    signed_deal,
    width,
):
    settings.BILLING_FIRST_INVOICE_REVIEW = True
    deal = signed_deal()
    make_user("Finance", username="fran")
    page.set_viewport_size({"width": width, "height": 900})
    login("fran")
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    card = page.get_by_test_id("billing-panel")
    expect(card.get_by_test_id("invoice-held")).to_contain_text(
        "First invoice awaiting Finance release"
    )
    card.scroll_into_view_if_needed()
    screenshot(f"invoice-held-{width}")
    card.get_by_test_id("invoice-release").click()
    expect(page.get_by_text("released and issued.")).to_be_visible()
    invoice = Invoice.objects.get(deal=deal, plan_index=1)
    assert invoice.state == "issued"
    expect(page.get_by_text(f"Invoice {invoice.number} released and issued.")).to_be_visible()
    card = page.get_by_test_id("billing-panel")
    expect(card.get_by_test_id("invoice-held")).to_have_count(0)
    expect(card.get_by_test_id("invoices")).to_contain_text(invoice.number)
    deal.refresh_from_db()
    assert deal.state == "invoiced"
    card.scroll_into_view_if_needed()
    screenshot(f"invoice-released-{width}")
