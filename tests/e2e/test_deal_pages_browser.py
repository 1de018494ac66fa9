"""A deal desk user finds a deal, reads its pricing and cancels it, in a real browser."""

import pytest
from playwright.sync_api import expect

from dealdesk.models import Deal

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_deal_desk_filters_opens_and_cancels_a_deal(page, live_server, login, screenshot, demo):
    login("dana.desk", "dealdesk-demo")
    expect(page.get_by_test_id("deal-count")).to_have_text("40 deals")
    screenshot("deal-list")

    page.select_option("select[name=state]", "drafting")
    page.click("text=Filter")
    expect(page.get_by_test_id("deal-count")).to_have_text("6 deals")

    deal = Deal.objects.filter(state="drafting").select_related("account").first()
    page.keyboard.press("/")  # focuses the search box
    page.keyboard.type(deal.account.name)
    page.keyboard.press("Enter")
    rows = page.locator("[data-testid=deal-table] tbody tr")
    expect(rows.first).to_contain_text(deal.account.name)
    expect(page.get_by_test_id("deal-count")).not_to_have_text("6 deals")

    page.get_by_role("link", name=deal.name).click()
    expect(page.get_by_test_id("deal-state")).to_have_text("Drafting")
    expect(page.get_by_test_id("schedule")).to_be_visible()
    expect(page.get_by_test_id("timeline")).to_contain_text("Deal drafting started")
    screenshot("deal-detail")

    page.click("summary:has-text('Cancel deal')")
    page.fill("textarea[aria-label='Reason to cancel deal']", "Customer went with a competitor")
    page.check("#id_cancel_confirm")
    page.click("text=Cancel this deal")
    expect(page.get_by_test_id("deal-state")).to_have_text("Cancelled")
    expect(page.get_by_test_id("state-reason")).to_have_text("Customer went with a competitor")
    expect(page.get_by_test_id("timeline")).to_contain_text("Deal cancelled")
    deal.refresh_from_db()
    assert deal.state == "cancelled"


def test_deal_desk_resumes_a_deal_from_manual_review(page, live_server, login, screenshot, demo):
    login("dana.desk", "dealdesk-demo")
    # Within every approval threshold (a longer term would wait for Finance).
    deal = Deal.objects.filter(state="manual_review", pattern=None, term_months__lte=36).first()
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    expect(page.get_by_test_id("state-reason")).to_contain_text("fits no pattern")
    screenshot("deal-manual-review")
    page.select_option("#id_resume_pattern", "multi_product")
    page.fill("form:has(#id_resume_pattern) textarea", "Co-term checked with finance")
    page.click("text=Resume drafting")
    # Drafting is a pipeline step: the contract is drafted at once and the deal goes to
    # review, where the approval gates pass and, needing no approval, it is approved and
    # goes out for signature (the demo has a signer and a countersigner for it).
    expect(page.get_by_test_id("deal-state")).to_have_text("Out for signature")
    expect(page.get_by_test_id("timeline")).to_contain_text("Deal approved")
    expect(page.get_by_test_id("timeline")).to_contain_text("Deal submitted for review")
    expect(page.get_by_test_id("timeline")).to_contain_text("Resumed from manual review")
    expect(page.get_by_test_id("contract-versions")).to_contain_text("v1")


def test_sales_sees_only_its_deals_and_no_actions(page, live_server, login, demo):
    login("sam.sales", "dealdesk-demo")
    own = Deal.objects.filter(owner__username="sam.sales").count()
    expect(page.get_by_test_id("deal-count")).to_have_text(f"{own} deals")
    expect(page.locator("select[name=owner]")).to_have_count(0)
    deal = Deal.objects.filter(owner__username="sam.sales").first()
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    expect(page.get_by_test_id("actions")).to_have_count(0)
    other = Deal.objects.exclude(owner__username="sam.sales").first()
    response = page.goto(f"{live_server.url}/deals/{other.pk}/")
    assert response.status == 404


def test_the_auditor_reads_everything_and_gets_no_buttons(page, live_server, login, demo):
    login("ana.auditor", "dealdesk-demo")
    expect(page.get_by_test_id("deal-count")).to_have_text("40 deals")
    deal = Deal.objects.filter(state="drafting").first()
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    expect(page.get_by_test_id("timeline")).to_be_visible()
    expect(page.get_by_test_id("actions")).to_have_count(0)


def test_a_free_period_deal_reads_as_its_contract(page, live_server, login, screenshot, demo):
    # Through the real pipeline: "first 2 months free" is extracted into the contract, and
    # the deal page bills what the contract bills, with the contract's last days.
    from dealdesk.services import pipeline_user
    from tests.dealdesk.pricing_deals import create_free_period_deal

    deal = create_free_period_deal(pipeline_user())
    login("dana.desk", "dealdesk-demo")
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    expect(page.get_by_test_id("term")).to_have_text("2027-01-01 – 2027-12-31, 12 months")
    expect(page.get_by_test_id("tcv")).to_have_text("38,250.00 USD")
    lines = page.get_by_test_id("lines")
    expect(lines.locator("thead")).to_contain_text("Per periodPer yearTerm total")
    expect(lines.locator("tbody tr").first.locator("td").last).to_have_text("38,250.00")
    first = page.get_by_test_id("schedule").locator("tbody tr").first
    expect(first).to_contain_text("2027-01-01 – 2027-01-31")
    expect(first).to_contain_text("1 free month")
    expect(first.locator("td").last).to_have_text("0.00 USD")
    screenshot("deal-detail-free-period")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("deal-detail-free-period-390")
