"""The admin's approve and reject actions, role by role, through the decide service."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from approvals.models import ApprovalRequest
from audit.models import AuditEvent
from dealdesk.forms import REASON_REQUIRED
from tests.approvals.test_flow import NET_90

CHANGELIST = "admin:approvals_approvalrequest_changelist"


@pytest.fixture
def request_(won_deal):
    """An open Finance request and, on the same contract, an open Executive one."""
    finance = ApprovalRequest.objects.get(deal=won_deal(notes=NET_90))
    ApprovalRequest.objects.create(
        deal=finance.deal,
        contract_version=finance.contract_version,
        content_hash=finance.content_hash,
        step=2,
        group=Group.objects.get(name="Executive"),
        rule_names=["VP Sales: discount above 20 %"],
        reasons=["why"],
    )
    return finance


def of_group(request_, role: str) -> ApprovalRequest:
    return ApprovalRequest.objects.get(deal=request_.deal, group__name=role)


def act(client, action: str, target: ApprovalRequest, **extra):
    return client.post(
        reverse(CHANGELIST), {"action": action, "_selected_action": [target.pk], **extra}
    )


def rejections() -> int:
    return AuditEvent.objects.filter(action="approval_request.rejected").count()


@pytest.mark.parametrize("role", ["Finance", "Executive"])
def test_deciders_reject_with_a_reason_on_an_intermediate_page(
    client, make_user, request_, role, django_capture_on_commit_callbacks
):
    user = make_user(role, is_staff=True)
    client.force_login(user)
    target = of_group(request_, role)

    page = act(client, "reject_selected", target)  # from the changelist: the form
    assert page.status_code == 200
    body = page.content.decode()
    assert "Reason (required)" in body
    assert f'name="_selected_action" value="{target.pk}"' in body
    assert 'name="action" value="reject_selected"' in body

    with django_capture_on_commit_callbacks(execute=True):
        answer = act(client, "reject_selected", target, apply="1", reason="margin too thin")
    assert answer.status_code == 302
    target.refresh_from_db()
    assert (target.state, target.decided_by, target.reason) == ("rejected", user, "margin too thin")
    assert rejections() == 1
    target.deal.refresh_from_db()
    assert target.deal.state == "changes_requested"
    shown = [str(m) for m in client.get(reverse(CHANGELIST)).context["messages"]]
    assert shown == [f"rejected: {target}"]


@pytest.mark.parametrize("reason", ["", "   "])
def test_no_reason_shows_the_form_again_and_decides_nothing(client, make_user, request_, reason):
    client.force_login(make_user("Finance", is_staff=True))
    page = act(client, "reject_selected", request_, apply="1", reason=reason)
    assert page.status_code == 200
    assert REASON_REQUIRED in page.content.decode()
    assert 'name="action" value="reject_selected"' in page.content.decode()
    request_.refresh_from_db()
    assert request_.state == "pending"
    assert request_.decided_by is None
    assert rejections() == 0


def test_each_refusal_gets_its_own_message(client, make_user, request_):
    # Finance may not decide the Executive request: that one is refused, its own is rejected.
    client.force_login(make_user("Finance", is_staff=True))
    executive = of_group(request_, "Executive")
    client.post(
        reverse(CHANGELIST),
        {
            "action": "reject_selected",
            "_selected_action": [request_.pk, executive.pk],
            "apply": "1",
            "reason": "no",
        },
    )
    shown = [str(m) for m in client.get(reverse(CHANGELIST)).context["messages"]]
    assert f"rejected: {request_}" in shown
    assert f"{executive}: only Executive decides this request" in shown
    executive.refresh_from_db()
    assert executive.state == "pending"
    assert rejections() == 1


@pytest.mark.parametrize("role", ["Finance", "Executive"])
def test_deciders_approve_their_groups_request_from_the_admin(client, make_user, request_, role):
    user = make_user(role, is_staff=True)
    client.force_login(user)
    target = of_group(request_, role)
    assert act(client, "approve_selected", target).status_code == 302
    target.refresh_from_db()
    assert (target.state, target.decided_by) == ("approved", user)


@pytest.mark.parametrize("role", ["Legal", "Sales", "Deal Desk", "Auditor"])
def test_other_roles_get_no_action_and_decide_nothing(client, make_user, request_, role):
    client.force_login(make_user(role, is_staff=True))
    changelist = client.get(reverse(CHANGELIST))
    if role == "Sales":
        assert changelist.status_code == 403  # cannot even see the requests
    else:
        assert changelist.status_code == 200
        form = changelist.context["action_form"]  # None when no action is offered at all
        offered = {name for name, _ in form.fields["action"].choices} if form else set()
        assert not offered & {"approve_selected", "reject_selected"}
        assert "reject_selected" not in changelist.content.decode()
    for action in ("approve_selected", "reject_selected"):
        # Not an action this user has: the changelist again (or 403), nothing decided.
        assert act(client, action, request_, apply="1", reason="because").status_code in (200, 403)
    request_.refresh_from_db()
    assert request_.state == "pending"
    assert not AuditEvent.objects.filter(
        action__in=["approval_request.approved", "approval_request.rejected"]
    ).exists()
