"""In a real browser: the clause text Legal types reads back exactly, and a contract that
cannot be drawn says so in business words."""

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from contracts.rendering import DRAWING_FAILED
from dealdesk.models import Deal
from dealdesk.services import ContactSpec, DealSpec, LineSpec, deal_create, pipeline_user
from tests.dealdesk.factories import AccountFactory, ContactFactory, ProductFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

JURISDICTION = "England & Wales <KG> \"Ltd\" 's' 東京 Ελλάδα"


def _deal(legal_name: str) -> Deal:
    account = AccountFactory(name="Dunmore & Pryce", legal_name=legal_name)
    signer = ContactFactory(account=account, name="Aiko Tanaka", title="General Counsel")
    product = ProductFactory(sku="PLAT-GROWTH", name="Platform — Growth", list_price=Decimal(36000))
    return deal_create(
        spec=DealSpec(
            crm_id="006E2E0000000002",
            name="Dunmore & Pryce — New business",
            account=account,
            owner=UserFactory(roles=["Sales"]),
            start_date=date(2026, 2, 1),
            term_months=12,
            ae_notes="Net 60, PO required (PO-4471) on all invoices.",
            crm_amount=Decimal("32400.00"),  # as priced, so the deal stays in review
            lines=[LineSpec(product, Decimal(1), Decimal(10))],
            contacts=[ContactSpec(signer, "Signer", True)],
        ),
        actor=pipeline_user(),
    )


@pytest.fixture
def drafted(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    deal = _deal("Dunmore & Pryce <Holdings> Ltd")
    UserFactory(username="lee", roles=["Legal"], is_staff=True)
    return deal.contract_versions.get()


def test_a_clause_legal_adds_reads_exactly_as_typed(page, live_server, login, screenshot, drafted):
    login("lee")
    page.goto(f"{live_server.url}/contracts/{drafted.pk}/")
    add = page.get_by_test_id("add-clause")
    add.get_by_label("Clause type").select_option("governing_law")
    add.locator("input[name=param_jurisdiction]").fill(JURISDICTION)
    add.get_by_label("Reason to add").fill("customer's counsel")
    add.locator("text=Add clause").click()
    expect(page.locator("h1")).to_contain_text("contract v2")

    clause = page.get_by_test_id("clauses").locator("li", has_text="Governing law")
    expect(clause.locator("[data-testid^=wording-]")).to_have_text(
        f"This Order Form is governed by the laws of {JURISDICTION}, without regard to its "
        "conflict-of-laws rules."
    )
    screenshot("contract-text-review")
    page.set_viewport_size({"width": 390, "height": 844})
    clause.scroll_into_view_if_needed()
    screenshot("contract-text-review-390")


def test_a_contract_that_cannot_be_drawn_says_deal_desk_has_been_told(
    page, live_server, login, screenshot, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    deal = _deal("Nimbus \ue000 Labs")  # a character no installed font has
    UserFactory(username="dana", roles=["Deal Desk"], is_staff=True)
    login("dana")
    page.goto(f"{live_server.url}/deals/{deal.pk}/")
    expect(page.get_by_test_id("state-reason")).to_have_text(DRAWING_FAILED)
    expect(page.locator("body")).not_to_contain_text("apt-get")
    screenshot("contract-not-drawn-deal")
