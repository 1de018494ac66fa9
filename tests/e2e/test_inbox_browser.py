"""The exception inbox in the browser, as Finance and as Deal Desk: the navigation's badge,
filtering, "Assign to me", and following a row to the screen where it is resolved."""

import pytest
from playwright.sync_api import expect

from tests.inbox import factories as f

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _open_nav(page, width: int) -> None:
    if width < 992:  # the navigation is collapsed behind its toggle
        page.get_by_test_id("nav-toggle").click()


@pytest.mark.parametrize("width", [1280, 390])
def test_finance_filters_assigns_and_follows_a_row(
    page, live_server, login, screenshot, make_user, width
):
    make_user("Finance", username="fran", first_name="Fran", last_name="Moreau")
    item = f.ar_item(since=f.ago(80))
    record = f.billing_exception(since=f.ago(30), problem="the account has no billing e-mail")
    hidden = f.quarantined(since=f.ago(90), reason="Opportunity without an account")
    page.set_viewport_size({"width": width, "height": 900})

    login("fran")
    _open_nav(page, width)
    expect(page.get_by_test_id("nav-inbox-count")).to_have_text("2")
    page.get_by_role("link", name="Inbox").click()
    rows = page.get_by_test_id("inbox-list")
    expect(rows.locator(".inbox-row")).to_have_count(2)
    expect(rows).not_to_contain_text("Opportunity without an account")
    expect(page.locator(f"[data-testid=inbox-row-crm_quarantine-{hidden.pk}]")).to_have_count(0)
    first = page.get_by_test_id(f"inbox-row-ar_item-{item.pk}")
    expect(first.get_by_test_id("row-group")).to_have_text("Finance")
    expect(first.get_by_test_id("row-breached")).to_be_visible()  # 80 h > 72 h
    expect(page.get_by_test_id("count-ar_item")).to_contain_text("1")
    screenshot(f"inbox-finance-{width}")

    page.get_by_label("Kind").select_option("billing_exception")
    page.get_by_test_id("apply-filters").click()
    expect(rows.locator(".inbox-row")).to_have_count(1)
    row = page.get_by_test_id(f"inbox-row-billing_exception-{record.pk}")
    expect(row.get_by_test_id("row-reason")).to_have_text("the account has no billing e-mail")
    row.get_by_test_id("assign").click()
    expect(row.get_by_test_id("row-assignee")).to_have_text("Fran Moreau")
    expect(row.get_by_test_id("unassign")).to_be_visible()
    page.get_by_label("Assigned").select_option("mine")
    page.get_by_test_id("apply-filters").click()
    expect(rows.locator(".inbox-row")).to_have_count(1)
    screenshot(f"inbox-finance-mine-{width}")

    page.get_by_test_id(f"inbox-row-billing_exception-{record.pk}").get_by_test_id(
        "row-link"
    ).click()
    expect(page).to_have_url(f"{live_server.url}/billing/exceptions/{record.pk}/")
    expect(page.locator("main")).to_contain_text("the account has no billing e-mail")


@pytest.mark.parametrize("width", [1280, 390])
def test_deal_desk_sees_its_stops_and_opens_the_deal(
    page, live_server, login, screenshot, make_user, width
):
    make_user("Deal Desk", username="dana", first_name="Dana", last_name="Reyes")
    review = f.deal_in("manual_review", since=f.ago(30), reason="no pattern fits the lines")
    f.quarantined(since=f.ago(3), reason="Opportunity amount is not a number")
    declined = f.signature_request(
        state="declined",
        since=f.ago(2),
        deal_state="changes_requested",
        reason="Ann Buyer declined to sign: the cap is wrong",
    )
    f.ar_item(since=f.ago(100))  # Finance's: never on Deal Desk's inbox
    page.set_viewport_size({"width": width, "height": 900})

    login("dana")
    page.goto(f"{live_server.url}/inbox/")
    rows = page.get_by_test_id("inbox-list")
    expect(rows.locator(".inbox-row")).to_have_count(3)
    expect(rows).not_to_contain_text("matched no invoice")
    expect(rows.locator(".inbox-row").first).to_contain_text("no pattern fits the lines")
    expect(page.get_by_test_id(f"inbox-row-signature-{declined.pk}")).to_contain_text(
        "the cap is wrong"
    )
    _open_nav(page, width)
    expect(page.get_by_test_id("nav-inbox-count")).to_have_text("3")
    screenshot(f"inbox-deal-desk-{width}")

    page.get_by_label("SLA breached only").check()
    page.get_by_test_id("apply-filters").click()
    expect(rows.locator(".inbox-row")).to_have_count(1)
    row = page.get_by_test_id(f"inbox-row-manual_review-{review.pk}")
    row.get_by_test_id("assign").click()
    expect(page.get_by_test_id(f"inbox-row-manual_review-{review.pk}")).to_contain_text(
        "Dana Reyes"
    )
    page.get_by_test_id(f"inbox-row-manual_review-{review.pk}").get_by_test_id("row-link").click()
    expect(page).to_have_url(f"{live_server.url}/deals/{review.pk}/")
    expect(page.get_by_test_id("state-reason")).to_have_text("no pattern fits the lines")
