"""Legal reviews a drafted contract in a real browser: quotes, accept in place, edit, approve."""

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from contracts.models import ContractVersion
from dealdesk.services import ContactSpec, DealSpec, LineSpec, deal_create, pipeline_user
from tests.dealdesk.factories import AccountFactory, ContactFactory, ProductFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NOTES = (
    "Great call with their CFO. Net 60, PO required (PO-4471) on all invoices. "
    "T4C w/ 90 days notice; 99.95 uptime SLA, 10% credit. they wanted MFN, declined."
)


@pytest.fixture
def drafted(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    account = AccountFactory(
        name="Sakura Data", legal_name="Sakura Data K.K. (株式会社さくらデータ)"
    )
    signer = ContactFactory(account=account, name="Aiko Tanaka", title="General Counsel")
    product = ProductFactory(
        sku="PLAT-GROWTH", name="Platform — Growth tier", list_price=Decimal(36000)
    )
    deal_create(
        spec=DealSpec(
            crm_id="006E2E0000000001",
            name="Sakura Data — New business",
            account=account,
            owner=UserFactory(roles=["Sales"]),
            start_date=date(2026, 2, 1),
            term_months=12,
            ae_notes=NOTES,
            # As the CRM prices it, so the approval gates let the deal stay in review.
            crm_amount=Decimal("32400.00"),
            lines=[LineSpec(product, Decimal(1), Decimal(10))],
            contacts=[ContactSpec(signer, "Signer", True)],
        ),
        actor=pipeline_user(),
    )
    UserFactory(username="lee", roles=["Legal"], is_staff=True)
    UserFactory(username="kim", roles=["Legal"], is_staff=True)
    return ContractVersion.objects.get()


def test_legal_reviews_edits_and_approves_a_draft(page, live_server, login, screenshot, drafted):
    login("lee")
    page.click("text=Legal review")
    expect(page.get_by_test_id("queue")).to_contain_text("Sakura Data — New business")
    page.click("text=Sakura Data — New business")

    notes = page.get_by_test_id("notes")
    expect(notes.locator("mark")).to_have_count(4)
    expect(page.get_by_test_id("clause-0")).to_contain_text("within 60 days")
    expect(page.get_by_test_id("clause-3")).to_contain_text("99.95% of each calendar month")

    page.get_by_test_id("accept-1").click()  # htmx, in place
    expect(page.get_by_test_id("accepted-1")).to_be_visible()
    assert page.url.endswith(f"/contracts/{drafted.pk}/")
    screenshot("contract-review")

    clause = page.get_by_test_id("clause-0")
    clause.locator("summary", has_text="Edit").click()
    clause.locator("input[name=param_net_days]").fill("45")
    clause.get_by_label("Reason to edit").fill("CFO agreed to 45")
    clause.locator("text=Save as new version").click()
    expect(page.get_by_test_id("clause-0")).to_contain_text("within 45 days")
    expect(page.locator("h1")).to_contain_text("contract v2")
    expect(page.get_by_test_id("accepted-1")).to_be_visible()  # carried over

    page.click("text=Changes from v1")
    expect(page.get_by_test_id("clause-changes")).to_contain_text("changed")
    expect(page.get_by_test_id("text-diff")).to_contain_text("45 days")
    screenshot("contract-diff")

    v2 = ContractVersion.objects.get(number=2)
    assert v2.state == "legal_review"
    assert ContractVersion.objects.get(number=1).state == "superseded"

    # Whoever last edited the clauses may not approve them: a second lawyer does.
    page.goto(f"{live_server.url}/contracts/{v2.pk}/")
    page.get_by_test_id("approve").click()
    expect(page.locator(".alert-danger")).to_contain_text("last edited")
    page.click("text=Log out")
    login("kim")
    page.goto(f"{live_server.url}/contracts/{v2.pk}/")
    page.get_by_test_id("approve").click()
    expect(page.get_by_test_id("version-state")).to_have_text("Approved")
    v2.refresh_from_db()
    assert v2.state == "approved"
