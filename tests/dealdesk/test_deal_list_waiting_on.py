"""Who a deal waits on, as the deal list and its export say it: from the deal's state, and
for a deal in review from its open approval step and its contract's legal review."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals.models import ApprovalRequest
from contracts.models import ContractVersion
from dealdesk.models import Deal, DealState
from dealdesk.waiting_on import EVALUATING, NOBODY, waiting_on
from tests.approvals.conftest import won_deal  # noqa: F401  (the real pipeline)
from tests.contracts.conftest import media_root, new_deal  # noqa: F401
from tests.dealdesk.factories import DealFactory

pytestmark = pytest.mark.django_db

NET_90 = "Net 90, PO required (PO-4471) on all invoices"  # Finance approves beyond net 60


def another_request(of: ApprovalRequest, group: str, step: int) -> ApprovalRequest:
    return ApprovalRequest.objects.create(
        deal=of.deal,
        contract_version=of.contract_version,
        content_hash=of.content_hash,
        step=step,
        group=Group.objects.get(name=group),
        rule_names=["r"],
        reasons=["why"],
    )


@pytest.mark.parametrize(
    ("state", "holder"),
    [
        ("new", "Dealdesk (pricing)"),
        ("drafting", "Dealdesk (drafting)"),
        ("manual_review", "Deal Desk"),
        ("changes_requested", "Deal Desk"),
        ("approved", "Deal Desk (send for signature)"),
        ("out_for_signature", "Customer (signature)"),
        ("signed", "Finance (set up billing)"),
        ("billing", "Finance (first invoice)"),
        ("invoiced", "Customer (payment)"),
        ("paid", NOBODY),
        ("cancelled", NOBODY),
    ],
)
def test_outside_review_the_state_says_who_holds_the_deal(state, holder, django_assert_num_queries):
    deal = DealFactory(state=state)
    with django_assert_num_queries(0):
        assert waiting_on([deal]) == {deal.pk: holder}


def test_every_state_has_an_answer():
    deals = [DealFactory(state=state) for state in DealState.values]
    assert all(waiting_on(deals).values())


def test_in_review_with_nothing_open_the_approval_check_is_due():
    deal = DealFactory(state="in_review")
    assert waiting_on([deal]) == {deal.pk: EVALUATING}


def test_a_standard_deal_in_review_waits_on_legal(won_deal):  # noqa: F811
    deal = won_deal()
    assert deal.state == "in_review"
    assert not ApprovalRequest.objects.filter(deal=deal).exists()
    assert waiting_on([deal]) == {deal.pk: "Legal (contract review)"}


def test_a_deal_in_review_waits_on_its_lowest_open_step_and_on_legal(won_deal):  # noqa: F811
    deal = won_deal(notes=NET_90)
    finance = ApprovalRequest.objects.get(deal=deal)
    assert (finance.step, finance.group.name) == (1, "Finance")
    assert waiting_on([deal]) == {deal.pk: "Finance (approval step 1); Legal (contract review)"}

    another_request(finance, "Executive", 2)  # opens only after step 1: not waited on yet
    another_request(finance, "Deal Desk", 1)
    assert waiting_on([deal]) == {
        deal.pk: "Deal Desk, Finance (approval step 1); Legal (contract review)"
    }

    # Step 1 decided and Legal done: step 2 holds it.
    ApprovalRequest.objects.filter(deal=deal, step=1).update(state="approved")
    ContractVersion.objects.filter(deal=deal).update(state="approved")
    assert waiting_on([deal]) == {deal.pk: "Executive (approval step 2)"}

    # A superseded request waits on nobody.
    ApprovalRequest.objects.filter(deal=deal, step=2).update(state="superseded")
    assert waiting_on([deal]) == {deal.pk: EVALUATING}


def test_a_page_of_deals_costs_two_queries_however_many_are_in_review(
    won_deal,  # noqa: F811
    django_assert_num_queries,
):
    in_review = [won_deal(notes=NET_90, name=f"Review {n}") for n in range(3)]
    others = [DealFactory(state=state) for state in ("drafting", "paid", "approved")]
    deals = list(Deal.objects.filter(pk__in=[d.pk for d in in_review + others]))
    with django_assert_num_queries(2):
        holders = waiting_on(deals)
    assert {holders[d.pk] for d in in_review} == {
        "Finance (approval step 1); Legal (contract review)"
    }
    assert [holders[d.pk] for d in others] == [
        "Dealdesk (drafting)",
        NOBODY,
        "Deal Desk (send for signature)",
    ]


def test_the_list_shows_who_each_deal_waits_on(client, desk_user, won_deal):  # noqa: F811
    deal = won_deal(notes=NET_90)
    DealFactory(name="Waiting for a signature", state="out_for_signature")
    client.force_login(desk_user)
    page = client.get(reverse("deal-list")).content.decode()
    assert "<th>Waiting on</th>" in page
    assert (
        '<td class="small" data-testid="waiting-on">Finance (approval step 1); '
        "Legal (contract review)</td>"
    ) in page
    assert '<td class="small" data-testid="waiting-on">Customer (signature)</td>' in page
    assert deal.name in page


def test_the_list_query_count_stays_put_with_more_deals_in_review(
    client,
    desk_user,
    won_deal,  # noqa: F811
    django_assert_max_num_queries,
):
    won_deal(notes=NET_90, name="Review 0")
    client.force_login(desk_user)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("deal-list"))
    for n in range(1, 4):
        won_deal(notes=NET_90, name=f"Review {n}")
    DealFactory.create_batch(5, state="drafting")
    with django_assert_max_num_queries(len(one)):
        response = client.get(reverse("deal-list"))
    assert len(response.context["deals"]) == 9
