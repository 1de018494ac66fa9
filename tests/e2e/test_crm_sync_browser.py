"""The deal desk runs the CRM sync, reads the quarantine and decides drift, in a browser."""

import pytest
from playwright.sync_api import expect

from dealdesk.crm.services import DealChange, crm_sync_user, drift_record
from dealdesk.models import Deal

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sync_now_quarantine_and_drift(page, live_server, login, screenshot, demo):
    login("dana.desk", "dealdesk-demo")
    page.get_by_role("link", name="CRM sync").click()
    expect(page.get_by_text("No sync has run yet.")).to_be_visible()

    page.get_by_test_id("sync-now").click()
    expect(page.get_by_test_id("last-run")).to_contain_text("Succeeded")
    runs = page.get_by_test_id("runs")
    expect(runs.locator("tbody tr")).to_have_count(1)
    expect(runs).to_contain_text("Opportunity 12: 5 · 0 · 0 · 5 · 0 · 2")
    screenshot("crm-sync-runs")

    page.get_by_role("link", name="Quarantine").click()
    table = page.get_by_test_id("quarantine")
    expect(table).to_contain_text("unknown account 001A999999")
    expect(table).to_contain_text("unknown SKU LEGACY-HOSTING")
    row = table.locator("tr", has_text="unknown account 001A999999")
    row.get_by_text("show").click()
    expect(row.locator("pre")).to_contain_text('"AccountId": "001A999999"')
    screenshot("crm-sync-quarantine")

    # A deal in review changes in the CRM: drift, never a silent rewrite.
    deal = Deal.objects.filter(state="in_review").first()
    drift_record(
        deal=deal,
        change=DealChange(fields={"term_months": deal.term_months + 12, "payment_terms": 60}),
        actor=crm_sync_user(),
    )
    page.get_by_role("link", name="Drift").click()
    expect(page.get_by_test_id("drift")).to_contain_text(deal.name)
    screenshot("crm-sync-drift")

    page.get_by_test_id("drift").get_by_role("link", name=deal.name).click()
    banner = page.get_by_test_id("crm-drift")
    expect(banner).to_contain_text("term months")
    screenshot("deal-with-crm-drift")
    banner.get_by_role("button", name="Accept → re-draft").click()
    # Re-drafted at once (eager Celery): a new contract version, back in review.
    expect(page.get_by_test_id("deal-state")).to_have_text("In review")
    expect(page.get_by_test_id("crm-drift")).to_have_count(0)
    term = deal.term_months
    deal.refresh_from_db()
    assert (deal.term_months, deal.payment_terms) == (term + 12, 60)
    assert deal.contract_versions.filter(state__in=["draft", "legal_review"]).exists()


def test_the_auditor_reads_the_page_but_cannot_sync(page, live_server, login, demo):
    login("ana.auditor", "dealdesk-demo")
    page.get_by_role("link", name="CRM sync").click()
    expect(page.get_by_role("heading", name="CRM sync")).to_be_visible()
    expect(page.get_by_test_id("sync-now")).to_have_count(0)
