"""Finance's signing authority table in the admin, in the browser (desktop and phone width)."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from dealdesk.roles import Role
from tests.contracts.test_esign_authority import _authority, _staff


@pytest.mark.e2e
@pytest.mark.parametrize("width", [1280, 390])
def test_finance_sees_the_table_in_the_admin(page, live_server, login, screenshot, width):
    _authority("dana", "Deal Desk director", "250000")
    _authority("cara", "CFO", "2000000")
    _authority("cole", "CEO", None)
    _staff(Role.FINANCE, "fran")
    page.set_viewport_size({"width": width, "height": 800})
    login("fran")
    page.goto(f"{live_server.url}{reverse('admin:esign_signingauthority_changelist')}")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 3
    # Smallest limit first: the order the countersigner is looked for in.
    assert rows.nth(0).inner_text().split("\t")[1:3] == ["Deal Desk director", "250,000.00 USD"]
    assert "no limit" in rows.nth(2).inner_text()
    screenshot(f"esign-signing-authorities-{width}")
    page.click("text=Add signing authority")
    expect(page.locator("#id_max_tcv")).to_be_visible()
    screenshot(f"esign-signing-authority-add-{width}")
