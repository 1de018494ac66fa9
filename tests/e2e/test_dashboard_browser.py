"""Deal Desk opens the process dashboard on a constructed March 2025, reads its charts and
tables, follows a figure to the deals behind it, exports the CSV, and narrows by owner, at
desktop and phone widths."""

import csv
import io

import pytest
from playwright.sync_api import expect

# The constructed March 2025 of the dashboard's own tests (committed: a transactional test).
from tests.insights.conftest import history  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_dashboard_figures_click_through_and_export(
    page,
    live_server,
    login,
    screenshot,
    history,  # noqa: F811
    make_user,
):
    make_user("Deal Desk", username="dee.desk")
    page.set_viewport_size({"width": 1280, "height": 900})
    login("dee.desk")
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Process dashboard")).to_be_visible()

    page.select_option("select[name=preset]", "")
    page.fill("input[name=date_from]", "2025-03-03")
    page.fill("input[name=date_to]", "2025-03-30")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_test_id("period")).to_have_text("3 Mar 2025 – 30 Mar 2025")
    expect(page.get_by_role("img", name="Median cycle time per stage, per week")).to_be_visible()
    expect(
        page.get_by_role("img", name="Deals waiting per state at the end of the period")
    ).to_be_visible()
    cycle = page.get_by_test_id("table-cycle")
    expect(cycle.locator("tbody tr").first.locator("th, td")).to_have_text(
        ["Closed-Won → drafted", "3", "1.0", "3.4"]
    )
    screenshot("dashboard-1280")

    # The chart's table fallback opens on request.
    page.get_by_text("The figures as a table").first.click()
    expect(page.get_by_test_id("table-weekly").first).to_be_visible()

    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert ["Closed-Won → drafted", "3", "1.0", "3.4"] in rows

    # "Ended late" for drafting: the one deal drafted in 4 days against an SLA of 2.
    page.get_by_test_id("table-sla").locator("[data-metric='late:drafted']").click()
    expect(page.get_by_test_id("figure")).to_have_text(
        "SLA breaches per stage: Drafted, Ended late"
    )
    expect(page.get_by_test_id("deal-count")).to_have_text("1 deal")
    expect(page.get_by_test_id("deal-table").locator("tbody tr")).to_have_count(1)
    expect(page.get_by_test_id("deal-table")).to_contain_text(history.slow_draft.name)
    screenshot("dashboard-deals-1280")

    page.get_by_role("link", name="‹ Dashboard").click()
    page.select_option("select[name=owner]", "alex")
    page.get_by_role("button", name="Show").click()
    expect(
        page.get_by_test_id("table-cycle").locator("tbody tr").first.locator("th, td")
    ).to_have_text(["Closed-Won → drafted", "1", "1.0", "1.0"])

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/insights/?date_from=2025-03-03&date_to=2025-03-30")
    expect(page.get_by_test_id("export-csv")).to_be_visible()
    expect(page.get_by_role("img", name="Median cycle time per stage, per week")).to_be_visible()
    screenshot("dashboard-390")
