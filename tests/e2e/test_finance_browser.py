"""Finance in the browser: a billing exception seen side by side and billed again; the invoice
aging with a bucket clicked; a billing step that died sent again."""

from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from audit.models import AuditEvent
from billing import finance_views
from billing.models import ARItem, BillingRecord
from dealdesk.integrations.models import OutboxMessage
from tests.billing.conftest import *  # noqa: F403 - the billing fixtures
from tests.billing.test_finance_screens import DIFF, TODAY, _deal, _invoice, _pay, _record
from tests.dealdesk.factories import AccountFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_finance_sees_an_exception_side_by_side_and_bills_again(
    page,
    live_server,
    login,
    screenshot,
    make_user,
    out_for_signature,
    sign,
    width,
):
    from contracts.esign.models import Signer
    from dealdesk.models import Product

    deal = out_for_signature()
    Product.objects.filter(sku="SEAT-STD").update(kind="")  # not set up for billing
    for signer in Signer.objects.filter(request__deal=deal).order_by("routing_order"):
        sign(signer)
    record = BillingRecord.objects.get(deal=deal, state="exception")
    BillingRecord.objects.filter(pk=record.pk).update(diff=DIFF)  # and a read-back difference
    make_user("Finance", username="fran")
    page.set_viewport_size({"width": width, "height": 900})
    login("fran")
    if width < 992:  # the menu is folded on a phone
        page.get_by_test_id("nav-toggle").click()
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Billing", exact=True
    ).click()
    expect(page.get_by_test_id("tab-exceptions")).to_contain_text("1")
    row = page.get_by_test_id(f"exception-row-{record.pk}")
    expect(row).to_contain_text("SKU SEAT-STD is not set up for billing")
    expect(row).to_contain_text("2 differences")
    screenshot(f"finance-exceptions-{width}")
    row.get_by_role("link", name=deal.name).click()
    diff = page.get_by_test_id("exception-diff")
    expect(diff).to_contain_text("lines[0].quantity")
    expect(diff).to_contain_text("missing in the billing system")
    screenshot(f"finance-exception-diff-{width}")
    Product.objects.filter(sku="SEAT-STD").update(kind="subscription")  # Finance fixed it
    page.get_by_test_id("billing-retry").click()
    expect(page.get_by_test_id("record-state")).to_have_text("In billing")
    expect(page.get_by_role("alert")).to_contain_text("is in billing")
    deal.refresh_from_db()
    assert deal.state == "invoiced"


@pytest.mark.parametrize("width", [1280, 390])
def test_finance_clicks_an_aging_bucket_and_sees_those_invoices(
    page, live_server, login, screenshot, make_user, monkeypatch, width
):
    monkeypatch.setattr(finance_views, "_today", lambda: TODAY)
    record = _record()
    late = _deal(account=AccountFactory(name="Late Payer GmbH"))
    _invoice(record, n=1, due_on=TODAY - timedelta(days=5), total="1200")
    _invoice(record, n=2, due_on=TODAY + timedelta(days=20), total="300")
    _invoice(record, n=3, due_on=TODAY - timedelta(days=75), total="4800", deal=late)
    _invoice(record, n=4, due_on=TODAY - timedelta(days=120), total="99", currency="EUR")
    make_user("Finance", username="fran")
    page.set_viewport_size({"width": width, "height": 900})
    login("fran")
    page.goto(f"{live_server.url}/billing/invoices/")
    expect(page.get_by_test_id("aging-USD")).to_contain_text("4,800")
    screenshot(f"finance-invoices-{width}")
    page.get_by_test_id("aging-USD-61-90").click()
    listing = page.get_by_test_id("invoice-list")
    expect(listing).to_contain_text("T-0003")
    expect(listing).to_contain_text("Late Payer GmbH")
    expect(listing).not_to_contain_text("T-0001")
    expect(page.get_by_test_id("invoice-count")).to_have_text("1")
    screenshot(f"finance-invoices-61-90-{width}")


def test_finance_retries_a_dead_billing_step(page, live_server, login, screenshot, make_user):
    step = OutboxMessage.objects.create(
        task="billing.tasks.issue_due",
        args=[],
        status="dead",
        attempts=8,
        last_error="database is locked",
    )
    make_user("Finance", username="fran")
    page.set_viewport_size({"width": 1280, "height": 900})
    login("fran")
    page.goto(f"{live_server.url}/billing/dead-letters/")
    expect(page.get_by_test_id(f"dead-step-{step.pk}")).to_contain_text("database is locked")
    screenshot("finance-dead-letters-1280")
    page.get_by_test_id(f"retry-step-{step.pk}").click()
    expect(page.get_by_role("alert")).to_contain_text("Sent again")
    expect(page.get_by_test_id("no-dead-steps")).to_be_visible()
    step.refresh_from_db()
    assert step.status == "done"
    assert AuditEvent.objects.filter(action="outbox_message.retried").count() == 1


@pytest.mark.parametrize("width", [1280, 390])
def test_the_deal_card_shows_payments_and_open_ar_items(
    page, live_server, login, screenshot, make_user, width
):
    record = _record()
    invoice = _invoice(record, n=1, due_on=TODAY, total="1000")
    _pay(invoice, Decimal("600"), 1)
    ARItem.objects.create(
        key="partial-1",
        reason="partial",
        amount=Decimal("400"),
        currency="USD",
        detail="paid 600 of 1,000",
        deal=record.deal,
        invoice=invoice,
    )
    make_user("Deal Desk", username="dana")
    page.set_viewport_size({"width": width, "height": 900})
    login("dana")
    page.goto(f"{live_server.url}/deals/{record.deal_id}/")
    card = page.get_by_test_id("billing-panel")
    expect(card.get_by_test_id("billing-payments")).to_contain_text("600.00")
    expect(card.get_by_test_id("billing-ar-items")).to_contain_text("Partial payment")
    card.scroll_into_view_if_needed()
    screenshot(f"finance-deal-card-{width}")
