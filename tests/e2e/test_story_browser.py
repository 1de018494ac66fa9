"""The deal page tells the whole story, auditors read the log, Legal confirms a rejection:
in a real browser."""

import pytest
from playwright.sync_api import expect

from contracts.models import ContractVersion
from dealdesk.models import Deal
from tests.contracts.conftest import media_root  # noqa: F401
from tests.dealdesk.factories import UserFactory
from tests.e2e.test_contract_review_browser import drafted  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_legal_confirms_a_rejection_and_the_story_shows_it(
    page,
    live_server,
    login,
    screenshot,
    drafted,  # noqa: F811
):
    UserFactory(username="ada", first_name="Ada", last_name="Audit", roles=["Auditor"])
    login("lee")
    page.goto(f"{live_server.url}/contracts/{drafted.pk}/")
    clause = page.get_by_test_id("clause-3")
    title = clause.locator("strong").first.inner_text()
    clause.get_by_test_id("reject-3").click()  # opens the confirmation, rejects nothing yet
    form = page.get_by_test_id("reject-form-3")
    expect(form).to_contain_text(f"Remove “{title}” from the contract?")
    form.get_by_test_id("confirm-reject-3").click()  # no reason: the browser refuses
    assert ContractVersion.objects.count() == 1
    form.get_by_label(f"Reason to reject {title}").fill("customer withdrew the SLA ask")
    screenshot("clause-reject-confirm")
    form.get_by_test_id("confirm-reject-3").click()
    expect(page.locator("h1")).to_contain_text("contract v2")

    deal = Deal.objects.get()
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("Clause removed by Legal")
    expect(timeline).to_contain_text("“customer withdrew the SLA ask”")
    expect(page.get_by_test_id("version-status-1")).to_have_text("Superseded by v2")
    screenshot("deal-story")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot("deal-story-390")
    page.set_viewport_size({"width": 1440, "height": 900})

    page.click("text=Log out")
    login("ada")
    page.get_by_role("link", name="Audit log").first.click()
    expect(page.locator("h1")).to_have_text("Audit log")
    page.fill("input[name=deal]", "Sakura")
    page.select_option("select[name=action]", label="Clause removed by Legal")
    page.click("button:text('Filter')")
    log = page.get_by_test_id("audit-log")
    expect(log.locator("tbody tr")).to_have_count(1)
    expect(log).to_contain_text("customer withdrew the SLA ask")
    screenshot("audit-log")
    log.get_by_role("link", name="Sakura Data — New business").click()
    expect(page.locator("h1")).to_contain_text("Sakura Data — New business")
