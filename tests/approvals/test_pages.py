"""My approvals, deciding in place, the deal page's panel and the admin action, per role."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from approvals.models import ApprovalRequest
from tests.approvals.test_flow import NET_90

ROLES = ["Deal Desk", "Legal", "Finance", "Executive", "Sales", "Auditor"]


@pytest.fixture
def request_(won_deal):
    return ApprovalRequest.objects.get(deal=won_deal(notes=NET_90))


def more_requests(request_, count):
    """Open Finance requests on the same contract (distinct steps keep them apart)."""
    for step in range(10, 10 + count):
        ApprovalRequest.objects.create(
            deal=request_.deal,
            contract_version=request_.contract_version,
            content_hash=request_.content_hash,
            step=step,
            group=request_.group,
            rule_names=["r"],
            reasons=["why"],
        )


def test_my_approvals_lists_the_groups_open_requests_in_bounded_queries(
    client, make_user, request_, django_assert_max_num_queries
):
    client.force_login(make_user("Finance"))
    with django_assert_max_num_queries(12):
        page = client.get(reverse("my-approvals"))
    assert request_.deal.name in page.content.decode()
    assert "payment terms net 90 are beyond net 60" in page.content.decode()
    assert "customer_verified" in page.content.decode()  # gate results on the row
    more_requests(request_, 40)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("my-approvals"))
    assert page.context["page"].paginator.count == 41
    assert len(page.context["page"].object_list) == 25


@pytest.mark.parametrize("role", ["Deal Desk", "Legal", "Executive", "Sales", "Auditor"])
def test_other_roles_do_not_see_finances_requests(client, make_user, request_, role):
    client.force_login(make_user(role))
    page = client.get(reverse("my-approvals"))
    assert page.status_code == 200
    assert page.context["page"].paginator.count == 0


def test_anonymous_is_sent_to_log_in(client, request_):
    assert client.get(reverse("my-approvals")).status_code == 302
    assert client.post(reverse("approval-decide", args=[request_.pk])).status_code == 302
    request_.refresh_from_db()
    assert request_.state == "pending"


@pytest.mark.parametrize("role", ["Sales", "Auditor"])
def test_roles_without_the_decide_permission_are_refused(client, make_user, request_, role):
    client.force_login(make_user(role))
    answer = client.post(reverse("approval-decide", args=[request_.pk]), {"decision": "approve"})
    assert answer.status_code == 403
    request_.refresh_from_db()
    assert request_.state == "pending"


@pytest.mark.parametrize("role", ["Deal Desk", "Legal", "Executive"])
def test_another_group_is_refused_in_place(client, make_user, request_, role):
    client.force_login(make_user(role))
    answer = client.post(
        reverse("approval-decide", args=[request_.pk]),
        {"decision": "approve"},
        HTTP_HX_REQUEST="true",
    )
    assert answer.status_code == 200
    assert "only Finance decides this request" in answer.content.decode()
    request_.refresh_from_db()
    assert request_.state == "pending"


def test_finance_rejects_in_place_only_with_a_reason(
    client, make_user, request_, django_capture_on_commit_callbacks
):
    client.force_login(make_user("Finance"))
    url = reverse("approval-decide", args=[request_.pk])
    answer = client.post(url, {"decision": "reject"}, HTTP_HX_REQUEST="true")
    assert "a reason is required" in answer.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            url, {"decision": "reject", "reason": "too long"}, HTTP_HX_REQUEST="true"
        )
    assert answer.status_code == 200
    assert "Rejected" in answer.content.decode()
    request_.deal.refresh_from_db()
    assert request_.deal.state == "changes_requested"


def test_the_deal_page_shows_gates_and_lets_the_group_decide(client, make_user, request_):
    client.force_login(make_user("Finance"))
    page = client.get(reverse("deal-detail", args=[request_.deal_id])).content.decode()
    assert 'data-testid="approvals-panel"' in page
    assert f'data-testid="approve-{request_.pk}"' in page
    client.force_login(make_user("Legal"))
    page = client.get(reverse("deal-detail", args=[request_.deal_id])).content.decode()
    assert 'data-testid="approvals-panel"' in page
    assert f'data-testid="approve-{request_.pk}"' not in page


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("Finance", True), ("Executive", True), ("Deal Desk", False), ("Legal", False)],
)
def test_the_admin_action_is_for_finance_and_executive_through_the_service(
    client, make_user, request_, role, allowed
):
    user = make_user(role, is_staff=True)
    client.force_login(user)
    changelist = reverse("admin:approvals_approvalrequest_changelist")
    answer = client.post(
        changelist,
        {"action": "approve_selected", "_selected_action": [request_.pk]},
        follow=True,
    )
    request_.refresh_from_db()
    if role == "Finance":
        assert request_.state == "approved"
        assert request_.decided_by == user
    else:
        # Executive may use the action, but the service still says only Finance decides.
        assert request_.state == "pending"
        if allowed:
            assert "only Finance decides" in answer.content.decode()


def test_nav_shows_my_approvals_to_deciders_only(client, make_user):
    for role in ROLES:
        client.force_login(make_user(role))
        page = client.get(reverse("deal-list")).content.decode()
        shown = reverse("my-approvals") in page
        assert (
            shown
            == Group.objects.get(name=role)
            .permissions.filter(codename="decide_approvalrequest")
            .exists()
        )
