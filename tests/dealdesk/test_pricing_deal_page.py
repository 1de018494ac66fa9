"""A free period from the notes is billed as free on the deal page, in the contract and in the
gates, with the same figures everywhere and the contract's inclusive end dates."""

import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from approvals.selectors import evaluate
from audit.actions import Action
from audit.models import AuditEvent
from dealdesk.selectors import deal_lines, deal_pricing
from tests.dealdesk.pricing_deals import create_free_period_deal

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def deal(pipeline_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deal = create_free_period_deal(pipeline_user)
    deal.refresh_from_db()
    return deal


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_contract_bills_the_free_months_at_zero(deal):
    version = deal.contract_versions.get()
    assert [(c.type, c.params) for c in version.typed_snapshot.clauses if c.type == "free_period"]
    pricing = version.typed_snapshot.pricing
    assert pricing.tcv == Decimal("38250.00")
    assert [p.total for p in pricing.periods[:3]] == [Decimal("0.00")] * 2 + [Decimal("3825.00")]
    assert version.typed_snapshot.lines[0].term_total == Decimal("38250.00")
    # The deal page prices from the same clauses: its figures are the contract's.
    page_pricing = deal_pricing(deal, deal_lines(deal=deal))
    assert page_pricing.tcv == pricing.tcv
    assert [p.total for p in page_pricing.periods] == [p.total for p in pricing.periods]


def test_the_contract_pdf_shows_the_same_totals_and_inclusive_dates(deal):
    version = deal.contract_versions.get()
    reader = PdfReader(io.BytesIO(version.pdf.read()))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "Total contract value 38,250.00 USD" in text
    assert "31 December 2027" in text  # the term's last day, not 1 January 2028
    assert "1 January 2027 – 31 January 2027 0.00 USD" in text
    assert "1 March 2027 – 31 March 2027 3,825.00 USD" in text
    assert "45,900.00" not in text  # the full year is never printed as what is owed


def test_the_deal_page_shows_free_months_per_period_term_totals_and_last_days(
    client, desk_user, deal
):
    client.force_login(desk_user)
    html = client.get(reverse("deal-detail", args=[deal.pk])).content.decode()
    text = _text(html)

    assert "Term 2027-01-01 – 2027-12-31, 12 months" in text
    assert "Per period Per year Term total" in text
    # Per period is the month's price; per year twelve of them; term total what is billed.
    assert "per month 3,825.00 45,900.00 38,250.00 Pricing" in text
    assert "2027-01-01 – 2027-01-31 1 free month PLAT-MONTHLY 0.00 0.00 USD" in text
    assert "2027-02-01 – 2027-02-28 1 free month" in text
    assert "2027-03-01 – 2027-03-31 PLAT-MONTHLY 3,825.00 3,825.00 USD" in text
    assert "Total contract value 38,250.00 USD" in text
    assert "2028-01-01" not in text  # no exclusive end is shown anywhere
    assert "Line total" not in text


def test_the_billable_gate_says_which_figure_the_crm_amount_matched(deal):
    version = deal.contract_versions.get()
    billable = next(g for g in evaluate(deal, version).gates if g.gate == "billable")
    assert billable.passed, billable.reasons
    assert "matches the lines' total, Salesforce's sum of TotalPrice" in billable.reasons[0]


def test_the_deal_stores_the_totals_its_contract_bills_and_says_so(deal):
    # Classified before any clause existed at 45,900.00; the contract's free months take
    # 7,650.00 off, and the list, the queue and the gates read the stored figure.
    assert deal.tcv == Decimal("38250.00")
    event = AuditEvent.objects.get(action=Action.DEAL_REPRICED, object_id=str(deal.pk))
    assert Decimal(event.before["tcv"]) == Decimal("45900.00")
    assert Decimal(event.after["tcv"]) == Decimal("38250.00")
    assert event.reason == "priced under contract v1"
