"""The deal page's timeline tells the whole story: the deal's own events, its contract
versions' (drafts, clause decisions, gates, Legal's approval) and its approval requests', in
words a person reads, in a bounded number of queries."""

import re

import pytest
from django.urls import reverse

from approvals.models import ApprovalRequest
from audit.actions import Action
from audit.services import audit_record
from contracts import services as contracts
from contracts.selectors import current_version
from dealdesk import services
from dealdesk.selectors import deal_timeline
from tests.approvals.conftest import approvers, vp_sales_above_5, won_deal  # noqa: F401
from tests.approvals.test_flow import NET_90, decide
from tests.contracts.conftest import media_root, new_deal  # noqa: F401
from tests.dealdesk.factories import DealFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fran(make_user):
    return make_user("Finance", username="fran", first_name="Fran", last_name="Lee")


def _timeline_html(client, user, deal) -> str:
    client.force_login(user)
    page = client.get(reverse("deal-detail", args=[deal.pk])).content.decode()
    return page.split('data-testid="timeline"', 1)[1].split("</ul>", 1)[0]


def test_approvals_and_legal_decisions_are_on_the_deal_timeline_in_words(
    won_deal,  # noqa: F811
    approvers,  # noqa: F811
    vp_sales_above_5,  # noqa: F811
    fran,
    client,
    django_capture_on_commit_callbacks,
):
    capture = django_capture_on_commit_callbacks
    deal = won_deal(notes=NET_90)
    decide(ApprovalRequest.objects.get(deal=deal), fran, capture=capture)
    executive = ApprovalRequest.objects.get(deal=deal, group__name="Executive")
    decide(executive, approvers["Executive"], approve=False, reason="too cheap", capture=capture)

    by_title = {entry.title: entry for entry in deal_timeline(deal=deal)}
    granted = by_title["Approval granted"]
    assert granted.actor == "Fran Lee (Finance)"
    assert granted.details == [
        "Finance (step 1) — Finance: payment terms beyond net 60: payment terms net 90 are "
        "beyond net 60"
    ]
    refused = by_title["Approval refused"]
    assert refused.detail == "too cheap"
    assert refused.details[0].startswith("Executive (step 2) — VP Sales")
    requested = [e.details[0] for e in deal_timeline(deal=deal) if e.title == "Approval requested"]
    assert [r.split(" — ")[0] for r in requested] == ["Executive (step 2)", "Finance (step 1)"]
    assert by_title["Contract drafted"].details[0] == "Contract v1, Legal review"
    assert (
        "Needs approval from Finance (step 1), Executive (step 2)"
        in by_title["Gates evaluated"].details
    )
    assert "State: In review → Changes requested" in by_title["Deal changes requested"].details

    html = _timeline_html(client, approvers["Deal Desk"], deal)
    assert "Fran Lee (Finance)" in html
    assert "“too cheap”" in html
    assert "Contract drafted" in html
    # No code names: no dotted actions, no field names with underscores, no hashes.
    text = re.sub(r"<[^>]+>", " ", html)
    assert not re.search(r"\b[a-z]+\.[a-z_]+ed\b", text), text
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), text
    assert not re.search(r"[0-9a-f]{40}", text)


def test_legal_clause_decisions_and_contract_approval_are_on_the_timeline(
    won_deal,  # noqa: F811
    approvers,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    deal = won_deal()
    legal = approvers["Legal"]
    version = current_version(deal)
    index = next(i for i, c in enumerate(version.clauses) if c["type"] == "payment_terms")
    with django_capture_on_commit_callbacks(execute=True):
        contracts.contract_clause_accept(version_id=version.pk, clause_index=index, actor=legal)
        contracts.contract_approve(version_id=version.pk, actor=legal, note="standard paper")
    entries = {entry.title: entry for entry in deal_timeline(deal=deal)}
    accepted = entries["Clause accepted by Legal"]
    assert accepted.actor.endswith("(Legal)")
    assert accepted.details[0] == f"Clause {index + 1}: Payment terms"
    assert entries["Contract approved by Legal"].detail == "standard paper"


def test_amounts_and_percentages_read_with_their_units(desk_user, pipeline_user):
    deal = DealFactory(currency="EUR")
    services.deal_cancel(deal_id=deal.pk, actor=desk_user, reason="duplicate")
    audit_record(
        actor=pipeline_user,
        obj=deal,
        action=Action.DEAL_CRM_CHANGED,
        before={"tcv": "1000.00", "effective_discount_pct": "10.00"},
        after={"tcv": "1200.50", "effective_discount_pct": "12.00"},
    )
    entry = deal_timeline(deal=deal)[0]
    assert entry.title == "Changed in the CRM"
    assert entry.details == ["TCV: 1,000.00 EUR → 1,200.50 EUR", "Effective discount: 10 % → 12 %"]


def test_the_timeline_costs_the_same_queries_however_long_the_story(
    won_deal,  # noqa: F811
    approvers,  # noqa: F811
    vp_sales_above_5,  # noqa: F811
    fran,
    django_assert_max_num_queries,
    django_capture_on_commit_callbacks,
):
    short = won_deal()
    with django_assert_max_num_queries(8):
        deal_timeline(deal=short)
    long = won_deal(notes=NET_90, crm_id="006T00000000999")
    decide(
        ApprovalRequest.objects.get(deal=long),
        fran,
        capture=django_capture_on_commit_callbacks,
    )
    with django_assert_max_num_queries(8):
        entries = deal_timeline(deal=long)
    assert len(entries) > 10


def test_another_deals_events_stay_off_the_timeline(won_deal):  # noqa: F811
    first = won_deal()
    second = won_deal(crm_id="006T00000000777")
    titles = [e.title for e in deal_timeline(deal=first)]
    assert titles.count("Contract drafted") == 1
    assert second.pk != first.pk
