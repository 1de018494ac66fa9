"""Segregation of duties as rules over the whole deal: every editor, one step per person."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from approvals.models import ApprovalRequest, ApprovalRule
from approvals.services import approval_request_decide
from audit.models import AuditEvent
from contracts import services as contracts
from contracts.selectors import current_version
from dealdesk.roles import SegregationOfDutiesError
from tests.approvals.test_flow import NET_90

VP_SALES = "VP Sales: discount above 20 %"
CFO_RULES = ["CFO: discount above 35 %", "CFO: TCV above 500,000 USD", "CFO: price below floor"]


@pytest.fixture
def every_tier_above_5(db):
    """The won deal's 10 % discount needs step 1 (Finance, net 90), VP Sales and the CFO."""
    ApprovalRule.objects.filter(name__in=[VP_SALES, CFO_RULES[0]]).update(
        discount_pct_above=Decimal(5)
    )


def decide(request, user, capture):
    with capture(execute=True):
        approval_request_decide(request_id=request.pk, actor=user, approve=True)


def test_a_lawyer_who_edited_an_earlier_version_may_not_approve_a_later_one(won_deal, make_user):
    deal = won_deal()
    first, second = make_user("Legal"), make_user("Legal")
    v2 = contracts.contract_clause_reject(
        version_id=current_version(deal).pk, clause_index=1, actor=first, reason="no PO"
    )
    v3 = contracts.contract_clause_reject(
        version_id=v2.pk, clause_index=0, actor=second, reason="net 60 is standard"
    )
    with pytest.raises(SegregationOfDutiesError, match="edited the lines or clauses"):
        contracts.contract_approve(version_id=v3.pk, actor=first)
    v3.refresh_from_db()
    assert v3.state == "legal_review"
    assert not AuditEvent.objects.filter(action="contract_version.approved").exists()


def test_the_default_policy_gives_the_cfo_tier_to_the_cfo_group_not_executive(db):
    groups = dict(ApprovalRule.objects.values_list("name", "group__name"))
    assert groups[VP_SALES] == "Executive"
    assert {groups[name] for name in CFO_RULES} == {"CFO"}


def test_an_executive_may_not_decide_the_cfo_step(
    won_deal, make_user, every_tier_above_5, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    deal = won_deal(notes=NET_90)
    decide(ApprovalRequest.objects.get(deal=deal, step=1), make_user("Finance"), capture)
    executive = make_user("Executive")
    decide(ApprovalRequest.objects.get(deal=deal, step=2), executive, capture)
    cfo_step = ApprovalRequest.objects.get(deal=deal, step=3)
    assert cfo_step.group.name == "CFO"
    with pytest.raises(PermissionDenied, match="only CFO decides"):
        decide(cfo_step, make_user("Executive"), capture)
    decide(cfo_step, make_user("CFO"), capture)
    cfo_step.refresh_from_db()
    assert cfo_step.state == "approved"


def test_a_person_in_two_groups_decides_only_one_step_of_a_deal(
    won_deal, make_user, every_tier_above_5, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    deal = won_deal(notes=NET_90)
    both = make_user("Finance", "Executive", "CFO")
    decide(ApprovalRequest.objects.get(deal=deal, step=1), both, capture)
    vp_step = ApprovalRequest.objects.get(deal=deal, step=2)
    with pytest.raises(SegregationOfDutiesError, match="already decided the Finance step"):
        decide(vp_step, both, capture)
    vp_step.refresh_from_db()
    assert (vp_step.state, vp_step.decided_by) == ("pending", None)
    assert AuditEvent.objects.filter(action="approval_request.approved").count() == 1
