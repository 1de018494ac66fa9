"""A deal whose CRM owner maps to no user is blocked from approval until Deal Desk assigns one."""

import pytest
from django.urls import reverse

from approvals.models import ApprovalRequest
from approvals.services import approval_request_decide
from audit.models import AuditEvent
from dealdesk.crm.services import crm_sync_user
from dealdesk.models import Deal
from dealdesk.roles import SegregationOfDutiesError
from tests.approvals.test_flow import NET_90


@pytest.fixture
def unmapped_deal(won_deal):
    """What the CRM sync makes of an opportunity whose OwnerId is mapped to nobody."""
    deal = won_deal(notes=NET_90)
    Deal.objects.filter(pk=deal.pk).update(owner=crm_sync_user())
    return deal


def test_nobody_decides_on_a_deal_whose_crm_owner_maps_to_no_user(unmapped_deal, make_user):
    request_ = ApprovalRequest.objects.get(deal=unmapped_deal)
    with pytest.raises(SegregationOfDutiesError, match="mapped to no Dealdesk user"):
        approval_request_decide(request_id=request_.pk, actor=make_user("Finance"), approve=True)
    request_.refresh_from_db()
    assert request_.state == "pending"
    assert not AuditEvent.objects.filter(action="approval_request.approved").exists()


def test_the_deal_page_says_why_and_deal_desk_assigns_the_owner(
    unmapped_deal, make_user, client, django_capture_on_commit_callbacks
):
    desk, sam = make_user("Deal Desk"), make_user("Sales", username="sam")
    client.force_login(desk)
    page = client.get(reverse("deal-detail", args=[unmapped_deal.pk])).content.decode()
    assert 'data-testid="owner-unmapped"' in page
    assert "Blocked from approval" in page

    response = client.post(
        reverse("deal-owner-assign", args=[unmapped_deal.pk]),
        {"owner": sam.pk, "reason": "Sam's deal per the CRM's owner report"},
    )
    assert response.status_code == 302
    unmapped_deal.refresh_from_db()
    assert unmapped_deal.owner == sam
    event = AuditEvent.objects.get(action="deal.owner_assigned")
    assert (event.actor, event.before, event.after) == (
        desk,
        {"owner": crm_sync_user().username},
        {"owner": "sam"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        approval_request_decide(
            request_id=ApprovalRequest.objects.get(deal=unmapped_deal).pk,
            actor=make_user("Finance"),
            approve=True,
        )
    assert (
        'data-testid="owner-unmapped"'
        not in client.get(reverse("deal-detail", args=[unmapped_deal.pk])).content.decode()
    )


def test_only_deal_desk_assigns_owners(unmapped_deal, make_user, client):
    client.force_login(make_user("Finance"))
    response = client.post(
        reverse("deal-owner-assign", args=[unmapped_deal.pk]),
        {"owner": make_user("Sales").pk, "reason": "mine now"},
    )
    assert response.status_code == 403
    unmapped_deal.refresh_from_db()
    assert unmapped_deal.owner == crm_sync_user()
    assert not AuditEvent.objects.filter(action="deal.owner_assigned").exists()
