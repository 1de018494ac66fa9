"""A Finance user and an Executive approve a deal in a real browser; it reaches approved."""

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from approvals.models import ApprovalRequest, ApprovalRule
from contracts import services as contracts
from contracts.models import ContractVersion
from dealdesk.models import Deal
from dealdesk.services import ContactSpec, DealSpec, LineSpec, deal_create, pipeline_user
from tests.dealdesk.factories import AccountFactory, ContactFactory, ProductFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def in_review(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Finance's policy: anything above 5 % needs the VP Sales (step 2).
    ApprovalRule.objects.filter(name="VP Sales: discount above 20 %").update(
        discount_pct_above=Decimal(5)
    )
    account = AccountFactory(name="Nordlicht Energie", legal_name="Nordlicht Energie AG")
    signer = ContactFactory(account=account, name="Jonas Berg", title="CFO")
    product = ProductFactory(
        sku="PLAT-GROWTH", name="Platform — Growth tier", list_price=Decimal(36000)
    )
    deal = deal_create(
        spec=DealSpec(
            crm_id="006E2E0000000005",
            name="Nordlicht Energie — New business",
            account=account,
            owner=UserFactory(roles=["Sales"]),
            start_date=date(2026, 2, 1),
            term_months=12,
            ae_notes="Net 90, PO required (PO-88) on all invoices",
            crm_amount=Decimal("32400.00"),
            lines=[LineSpec(product, Decimal(1), Decimal(10))],
            contacts=[ContactSpec(signer, "Signer", True)],
        ),
        actor=pipeline_user(),
    )
    legal = UserFactory(username="lee", roles=["Legal"], is_staff=True)
    UserFactory(username="fran", roles=["Finance"], is_staff=True)
    UserFactory(username="eve", roles=["Executive"], is_staff=True)
    version = ContractVersion.objects.get(deal=deal)
    if version.state == "legal_review":
        contracts.contract_approve(version_id=version.pk, actor=legal)
    return Deal.objects.get(pk=deal.pk)


def test_finance_then_an_executive_approve_and_the_deal_is_approved(
    page, live_server, login, screenshot, in_review
):
    deal = in_review
    assert deal.state == "in_review"
    finance = ApprovalRequest.objects.get(deal=deal)

    login("fran")
    page.click("text=My approvals")
    queue = page.get_by_test_id("approval-queue")
    expect(queue).to_contain_text(deal.name)
    expect(queue).to_contain_text("payment terms net 90 are beyond net 60")
    expect(queue).to_contain_text("customer_verified")
    screenshot("approvals-queue-finance")
    # Filters live in the query string: a search that misses, then one that finds it.
    filters = page.get_by_test_id("queue-filters")
    filters.get_by_label("Search").fill("no such deal")
    filters.get_by_role("button", name="Filter").click()
    expect(queue).to_contain_text("No open request matches these filters.")
    filters.get_by_label("Search").fill("nordlicht")
    filters.get_by_label("Minimum TCV").fill("30000")
    filters.get_by_label("Group").select_option(label="Finance")
    filters.get_by_role("button", name="Filter").click()
    expect(queue).to_contain_text(deal.name)
    assert "q=nordlicht" in page.url
    assert "min_tcv=30000" in page.url
    page.get_by_role("link", name="TCV").click()  # sorting keeps the filters
    expect(queue).to_contain_text(deal.name)
    assert "q=nordlicht" in page.url
    assert "sort=tcv" in page.url
    screenshot("approvals-queue-filtered")
    # Rejecting needs a reason: refused in place, nothing decided.
    page.get_by_test_id(f"reject-{finance.pk}").click()
    expect(page.get_by_test_id(f"decision-{finance.pk}")).to_contain_text("a reason is required")
    page.get_by_test_id(f"approve-{finance.pk}").click()
    expect(page.get_by_test_id(f"decision-{finance.pk}")).to_contain_text("Approved")

    executive = ApprovalRequest.objects.get(deal=deal, group__name="Executive")
    page.context.clear_cookies()
    login("eve")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    panel = page.get_by_test_id("approvals-panel")
    expect(panel).to_contain_text("VP Sales: discount above 20 %")
    page.get_by_test_id(f"approve-{executive.pk}").click()
    expect(page.get_by_test_id(f"decision-{executive.pk}")).to_contain_text("Approved")
    page.reload()
    expect(page.get_by_test_id("approvals-panel")).to_contain_text("fran")
    screenshot("approvals-deal-approved")

    deal.refresh_from_db()
    assert deal.state == "approved"
    assert ApprovalRequest.objects.filter(deal=deal, state="approved").count() == 2


def test_deciding_in_place_updates_the_badge_and_the_counts_without_a_reload(
    page, live_server, login, screenshot, in_review
):
    deal = in_review
    finance = ApprovalRequest.objects.get(deal=deal)
    login("fran")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/approvals/")
    nav_count = page.get_by_test_id("nav-approvals-count")
    expect(nav_count).to_have_text("1")
    expect(page.get_by_test_id("queue-count")).to_have_text("1 open request")
    page.evaluate("window.notReloaded = true")
    page.get_by_test_id(f"reason-{finance.pk}").fill("Net 90 agreed with the CFO")
    page.get_by_test_id(f"approve-{finance.pk}").click()
    expect(page.get_by_test_id(f"decision-{finance.pk}")).to_contain_text("Approved")
    expect(page.get_by_test_id("queue-count")).to_have_text("0 open requests")
    expect(nav_count).to_be_hidden()
    assert page.evaluate("window.notReloaded") is True

    executive = ApprovalRequest.objects.get(deal=deal, group__name="Executive")
    page.context.clear_cookies()
    login("eve")
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    expect(page.get_by_test_id("deal-state")).to_have_text("In review")
    expect(page.get_by_test_id("nav-approvals-count")).to_have_text("1")
    page.evaluate("window.notReloaded = true")
    page.get_by_test_id(f"approve-{executive.pk}").click()
    expect(page.get_by_test_id("deal-state")).to_have_text("Approved")
    expect(page.get_by_test_id("nav-approvals-count")).to_be_hidden()
    assert page.evaluate("window.notReloaded") is True
    screenshot("approvals-deal-approved-in-place")


def test_a_page_of_25_requests_fits_a_laptop_screen(
    page, live_server, login, screenshot, in_review
):
    finance = ApprovalRequest.objects.get(deal=in_review)
    for step in range(10, 34):  # 24 more open Finance requests on the same contract
        ApprovalRequest.objects.create(
            deal=finance.deal,
            contract_version=finance.contract_version,
            content_hash=finance.content_hash,
            step=step,
            group=finance.group,
            rule_names=["Finance: payment terms beyond net 60"],
            reasons=[
                "Finance: payment terms beyond net 60: payment terms net 90 are beyond net 60"
            ],
        )
    login("fran")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/approvals/")
    rows = page.get_by_test_id("approval-queue").locator("tbody tr")
    expect(rows).to_have_count(25)
    page.screenshot(path=str(screenshot("approvals-queue-25-rows-1440")))  # the viewport only
    last = rows.nth(24).bounding_box()
    assert last["y"] + last["height"] <= 900, last
    box = page.get_by_test_id(f"reason-{finance.pk}").bounding_box()
    assert box["width"] >= 200, box  # about 30 characters
    # Two requests ticked, one reason, approved together.
    page.get_by_test_id(f"select-{finance.pk}").check()
    second = ApprovalRequest.objects.get(deal=finance.deal, step=10)
    page.get_by_test_id(f"select-{second.pk}").check()
    page.get_by_label("Reason for the selected requests").fill("Net 90 agreed")
    page.get_by_test_id("approve-selected").click()
    expect(page.get_by_role("alert").first).to_contain_text("Approved 1")
    expect(page.get_by_role("alert").nth(1)).to_contain_text("already decided the Finance step")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("approvals-queue-390")
