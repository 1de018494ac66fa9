"""Who may decide a request: the group (or a time-boxed delegate), never the owner or editor."""

from datetime import timedelta
from functools import partial

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from approvals.models import ApprovalDelegation, ApprovalRequest
from approvals.services import ApprovalError, approval_request_decide
from audit.models import AuditEvent
from dealdesk.models import Deal
from dealdesk.roles import SegregationOfDutiesError
from tests.approvals.test_flow import NET_90
from tests.concurrency import at_once, raised


@pytest.fixture
def request_(won_deal):
    deal = won_deal(notes=NET_90)
    return ApprovalRequest.objects.get(deal=deal)


def refused(request, user, error=PermissionDenied, match=""):
    with pytest.raises(error, match=match):
        approval_request_decide(request_id=request.pk, actor=user, approve=True)
    request.refresh_from_db()
    assert request.state == "pending"
    assert request.decided_by is None
    assert not AuditEvent.objects.filter(action="approval_request.approved").exists()


def test_the_deal_owner_may_not_decide_even_in_the_group(request_):
    owner = request_.deal.owner
    owner.groups.add(request_.group)
    refused(request_, owner, SegregationOfDutiesError, "owns deal")


def test_whoever_last_edited_the_terms_may_not_decide(request_, make_user):
    editor = make_user("Finance")
    Deal.objects.filter(pk=request_.deal_id).update(terms_edited_by=editor)
    refused(request_, editor, SegregationOfDutiesError, "last edited")


@pytest.mark.parametrize("role", ["Deal Desk", "Legal", "Executive", "Sales", "Auditor"])
def test_only_the_requests_group_decides(request_, make_user, role):
    refused(request_, make_user(role), PermissionDenied, "only Finance decides")


def delegation(delegator, delegate, group, *, hours_ago=1, hours_left=1):
    now = timezone.now()
    return ApprovalDelegation.objects.create(
        delegator=delegator,
        delegate=delegate,
        group=group,
        starts_at=now - timedelta(hours=hours_ago),
        ends_at=now + timedelta(hours=hours_left),
    )


def test_a_delegate_decides_within_the_time_box_and_is_recorded(request_, make_user):
    member, stand_in = make_user("Finance"), make_user("Executive")
    delegation(member, stand_in, request_.group)
    approval_request_decide(request_id=request_.pk, actor=stand_in, approve=True)
    request_.refresh_from_db()
    assert request_.state == "approved"
    assert (request_.decided_by, request_.delegate_for) == (stand_in, member)
    event = AuditEvent.objects.get(action="approval_request.approved")
    assert event.data["delegate_for"] == member.get_username()


def test_an_expired_delegation_grants_nothing(request_, make_user):
    stand_in = make_user("Executive")
    delegation(make_user("Finance"), stand_in, request_.group, hours_ago=3, hours_left=-1)
    refused(request_, stand_in, PermissionDenied, "only Finance")


def test_a_delegate_from_outside_the_group_needs_a_delegator_in_it(request_, make_user):
    from approvals.selectors import groups_acting_for

    stand_in = make_user("Executive")
    delegation(make_user("Legal"), stand_in, request_.group)
    refused(request_, stand_in, PermissionDenied, "only Finance")
    assert request_.group_id not in groups_acting_for(stand_in)  # nor queued for them


def test_a_delegate_who_owns_the_deal_is_refused(request_, make_user):
    delegation(make_user("Finance"), request_.deal.owner, request_.group)
    refused(request_, request_.deal.owner, SegregationOfDutiesError, "owns deal")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_deciders_at_once_record_exactly_one_decision(request_, make_user):
    first, second = make_user("Finance"), make_user("Finance")

    def decide(user, approve):
        approval_request_decide(
            request_id=request_.pk, actor=user, approve=approve, reason="at once"
        )
        return "decided"

    outcomes = at_once(partial(decide, first, True), partial(decide, second, False))
    assert outcomes.count("decided") == 1
    (loser,) = raised(outcomes)
    assert isinstance(loser, ApprovalError)
    assert str(loser).startswith("this request was already")
    request_.refresh_from_db()
    assert request_.state in ("approved", "rejected")
    decided = AuditEvent.objects.filter(
        action__in=["approval_request.approved", "approval_request.rejected"]
    )
    assert decided.count() == 1


def test_the_admin_form_refuses_a_delegation_from_outside_the_group(request_, make_user):
    stand_in = make_user("Executive")
    with pytest.raises(ValidationError, match="is not in Finance"):
        delegation(make_user("Sales"), stand_in, request_.group).full_clean()
    delegation(make_user("Finance"), stand_in, request_.group).full_clean()
