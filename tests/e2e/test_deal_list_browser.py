"""Deal Desk searches the deal list with two words and two states, saves the filter, uses
it, and exports what it shows, in a real browser at desktop and phone widths."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from dealdesk.models import Account, Deal, DealState
from dealdesk.selectors import deal_list

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def a_filter_for_several_deals(user) -> tuple[str, list[str], list[Deal]]:
    """Two words (from an account's name and the demo's CRM ids) and two states that find
    more than one deal, and those deals in the list's order."""
    for account in Account.objects.order_by("name"):
        states = sorted({deal.state for deal in account.deals.all()})[:2]
        words = f"{account.name.split()[0].lower()} 006demo"
        found = list(deal_list(user=user, states=states, q=words))
        if len(states) == 2 and len(found) > 1:
            return words, states, found
    raise AssertionError("no demo account has deals in two states")


def test_search_states_save_use_and_export_a_filter(page, live_server, login, screenshot, demo):
    words, states, expected = a_filter_for_several_deals(
        get_user_model().objects.get(username="dana.desk")
    )
    assert len(expected) < Deal.objects.filter(state__in=states).count()

    page.set_viewport_size({"width": 1440, "height": 900})
    login("dana.desk", "dealdesk-demo")
    page.fill("input[name=q]", words)
    page.select_option("select[name=state]", states)
    page.get_by_role("button", name="Filter", exact=True).click()
    count = f"{len(expected)} deals"
    expect(page.get_by_test_id("deal-count")).to_have_text(count)
    rows = page.locator("[data-testid=deal-table] tbody tr")
    expect(rows).to_have_count(len(expected))
    expect(rows.first).to_contain_text(expected[0].name)
    expect(rows.get_by_test_id("waiting-on").first).not_to_be_empty()

    page.get_by_label("Saved filter name").fill("My review queue")
    page.get_by_role("button", name="Save this filter").click()
    expect(page.get_by_role("alert")).to_have_text("Saved the filter “My review queue”.")
    screenshot("deal-list-saved-filter-1440")

    page.get_by_role("link", name="Clear").click()
    expect(page.get_by_test_id("deal-count")).to_have_text(f"{Deal.objects.count()} deals")
    page.get_by_role("link", name="My review queue").click()
    expect(page.get_by_test_id("deal-count")).to_have_text(count)
    expect(page.locator("input[name=q]")).to_have_value(words)
    selected = page.locator("select[name=state] option:checked")
    labels = [label for value, label in DealState.choices if value in states]
    expect(selected).to_have_text(labels)
    expect(page.get_by_test_id("state-chosen")).to_have_text(f"State: {', '.join(labels)}")

    export = page.get_by_test_id("export-csv")
    expect(export).to_have_attribute("href", f"/deals/export.csv?{_query(page)}")
    with page.expect_download() as download:
        export.click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    exported = list(csv.reader(io.StringIO(text)))
    assert [row[0] for row in exported[1:]] == [d.crm_id for d in expected]

    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_test_id("export-csv")).to_be_visible()
    screenshot("deal-list-saved-filter-390")

    # Deleting it leaves the list as filtered, without the link.
    page.get_by_role("button", name="Delete saved filter My review queue").click()
    expect(page.get_by_role("link", name="My review queue")).to_have_count(0)
    expect(page.get_by_test_id("deal-count")).to_have_text(count)


def test_an_over_long_search_says_why_in_the_browser(page, live_server, login, demo):
    login("dana.desk", "dealdesk-demo")
    page.fill("input[name=q]", "renewal " * 15)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("filter-errors")).to_contain_text(
        "Search takes at most 100 characters"
    )
    expect(page.get_by_test_id("deal-count")).to_have_text("0 deals")


def _query(page) -> str:
    return page.url.split("?", 1)[1]
