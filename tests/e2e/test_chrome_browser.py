"""The app's frame in a browser: the menu on a phone, tables that scroll in their card, error
pages, the bell, a stuck deal's retry and a confirmed cancel."""

import pytest
from playwright.sync_api import expect

from dealdesk.models import Deal, Notification

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


def page_width(page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth")


def test_on_a_phone_the_menu_opens_log_out_works_and_nothing_scrolls_sideways(
    page, live_server, login, screenshot, demo
):
    page.set_viewport_size(PHONE)
    login("dana.desk", "dealdesk-demo")
    expect(page.get_by_test_id("deal-table")).to_be_visible()
    logout = page.get_by_test_id("logout")
    expect(logout).to_be_hidden()
    assert page_width(page) <= PHONE["width"]
    screenshot("chrome-phone-deal-list")

    deal = Deal.objects.exclude(state="new").order_by("pk").first()
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    expect(page.get_by_test_id("lines")).to_be_attached()
    assert page_width(page) <= PHONE["width"], "the lines table scrolls inside its card"
    screenshot("chrome-phone-deal")

    page.get_by_test_id("nav-toggle").click()
    expect(logout).to_be_visible()
    expect(page.locator("#main-nav.collapse.show")).to_be_visible()  # opened, not still sliding
    screenshot("chrome-phone-menu")
    logout.click()
    expect(page).to_have_url(f"{live_server.url}/login/")


def test_error_pages_have_the_navigation_and_a_way_back(page, live_server, login, screenshot, demo):
    page.set_viewport_size(DESKTOP)
    login("dana.desk", "dealdesk-demo")
    deal = Deal.objects.order_by("pk").first()
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    answer = page.goto(f"{live_server.url}/deals/{deal.pk}/cancel/")  # a form's address as a link
    assert answer.status == 405
    expect(page.get_by_test_id("error-page")).to_contain_text("only answers a form")
    expect(page.get_by_test_id("current-user")).to_be_visible()
    screenshot("chrome-405")
    page.get_by_role("link", name="Previous page").click()
    expect(page).to_have_url(f"{live_server.url}/deals/{deal.pk}/")

    answer = page.goto(f"{live_server.url}/no-such-page/")
    assert answer.status == 404
    page.get_by_test_id("back-to-deals").click()
    expect(page.get_by_test_id("deal-table")).to_be_visible()


def test_the_bell_counts_what_waits_and_opening_one_goes_to_the_deal(
    page, live_server, login, screenshot, demo
):
    page.set_viewport_size(DESKTOP)
    login("dana.desk", "dealdesk-demo")
    # The demo's approvals told Deal Desk how each request was decided.
    waiting = Notification.objects.filter(recipient__username="dana.desk", read_at=None)
    unread = waiting.count()
    assert unread > 1
    expect(page.get_by_test_id("bell-count")).to_have_text(str(unread))
    page.get_by_test_id("bell").click()
    newest = waiting.first()
    expect(page.get_by_test_id("notifications")).to_contain_text(newest.text)
    screenshot("chrome-notifications")
    page.get_by_role("button", name=newest.text).first.click()
    expect(page).to_have_url(f"{live_server.url}{newest.url}")
    expect(page.get_by_test_id("bell-count")).to_have_text(str(unread - 1))
    page.get_by_test_id("bell").click()
    page.get_by_test_id("read-all").click()
    expect(page.get_by_test_id("bell-count")).to_have_count(0)


def test_deal_desk_retries_a_stuck_deal_then_cancels_another_after_confirming(
    page, live_server, login, screenshot, demo
):
    page.set_viewport_size(DESKTOP)
    login("dana.desk", "dealdesk-demo")
    # seed_demo holds the pipeline: its drafting deals have no step queued at all.
    stuck = Deal.objects.filter(state="drafting").order_by("pk").first()
    page.goto(f"{live_server.url}/deals/{stuck.pk}/")
    expect(page.get_by_test_id("drafting-progress")).to_contain_text("No drafting step is queued")
    screenshot("chrome-drafting-stuck")
    page.get_by_test_id("retry-drafting").click()
    expect(page.get_by_role("alert").first).to_contain_text("drafting sent again")
    stuck.refresh_from_db()
    assert stuck.state != "drafting", "the step ran (tasks run in-process without a broker)"

    deal = Deal.objects.filter(state="in_review").order_by("pk").first()
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    cancel = page.get_by_test_id("cancel-deal")
    cancel.locator("summary").click()
    cancel.get_by_label("Reason to cancel deal").fill("Customer went with a competitor")
    cancel.get_by_role(
        "button", name="Cancel this deal"
    ).click()  # not ticked: the browser stops it
    deal.refresh_from_db()
    assert deal.state == "in_review"
    screenshot("chrome-cancel-confirm")
    cancel.get_by_label(f"Yes, cancel {deal.name}").check()
    cancel.get_by_role("button", name="Cancel this deal").click()
    expect(page.get_by_test_id("deal-state")).to_have_text("Cancelled")
    deal.refresh_from_db()
    assert deal.state == "cancelled"
