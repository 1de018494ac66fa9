"""Cancelling a deal takes its open approval requests out of every queue."""

from django.urls import reverse

from approvals.models import ApprovalRequest
from audit.models import AuditEvent
from dealdesk.services import deal_cancel
from tests.approvals.test_flow import NET_90


def test_cancelling_a_deal_supersedes_its_open_requests_and_empties_the_queue(
    won_deal, make_user, client, django_capture_on_commit_callbacks
):
    deal = won_deal(notes=NET_90)
    request_ = ApprovalRequest.objects.get(deal=deal)
    finance = make_user("Finance")
    client.force_login(finance)
    assert (
        f'data-testid="request-{request_.pk}"'
        in client.get(reverse("my-approvals")).content.decode()
    )

    with django_capture_on_commit_callbacks(execute=True):
        deal_cancel(deal_id=deal.pk, actor=make_user("Deal Desk"), reason="Customer withdrew.")

    request_.refresh_from_db()
    assert (request_.state, request_.reason) == ("superseded", "the deal was cancelled")
    assert AuditEvent.objects.filter(
        action="approval_request.superseded", object_id=str(request_.pk)
    ).exists()
    assert (
        f'data-testid="request-{request_.pk}"'
        not in client.get(reverse("my-approvals")).content.decode()
    )
