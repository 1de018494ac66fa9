"""My approvals as a place to work all day: who may decide (said before they click), several
approved at once, counts and badges refreshed in place, the line's discount, quiet gates."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from approvals.models import ApprovalDelegation, ApprovalRequest
from approvals.selectors import check_may_decide, decider_missing, decision_refusals
from approvals.services import approval_requests_approve
from approvals.templatetags.approvals import gate_list
from audit.models import AuditEvent
from dealdesk.models import Deal, DealLine, DealTermsEdit
from dealdesk.roles import SegregationOfDutiesError
from tests.approvals.test_flow import NET_90
from tests.approvals.test_pages import more_requests


@pytest.fixture
def request_(won_deal):
    return ApprovalRequest.objects.get(deal=won_deal(notes=NET_90))


def edited_terms(deal, user):
    DealTermsEdit.objects.create(deal=deal, editor=user, what="line 1 discount")


def decide_in_place(client, request_, *, shown_on, decision="approve", reason=""):
    return client.post(
        reverse("approval-decide", args=[request_.pk]),
        {"decision": decision, "reason": reason, "shown_on": shown_on, "next": "/approvals/"},
        headers={"HX-Request": "true"},
    )


# --- who may decide: one answer for the page and the server --------------------------------


def test_the_only_finance_user_who_edited_the_terms_sees_why_instead_of_buttons(
    client, make_user, request_
):
    fran = make_user("Finance", username="fran")
    edited_terms(request_.deal, fran)
    client.force_login(fran)

    deal_page = client.get(reverse("deal-detail", args=[request_.deal_id])).content.decode()
    assert "Needs another Finance approver: fran edited the lines or clauses" in deal_page
    assert f'data-testid="approve-{request_.pk}"' not in deal_page
    queue = client.get(reverse("my-approvals")).content.decode()
    assert f'data-testid="refusal-{request_.pk}"' in queue
    assert f'data-testid="approve-{request_.pk}"' not in queue
    assert f'data-testid="select-{request_.pk}"' not in queue  # not offered for a batch

    # The server refuses on the same grounds.
    with pytest.raises(SegregationOfDutiesError, match="edited the lines or clauses"):
        check_may_decide(request=request_, user=fran)
    answer = decide_in_place(client, request_, shown_on="queue")
    assert "edited the lines or clauses" in answer.content.decode()
    request_.refresh_from_db()
    assert request_.state == "pending"


def test_everyone_on_the_deal_page_is_told_when_nobody_may_decide(client, make_user, request_):
    fran = make_user("Finance", username="fran")
    edited_terms(request_.deal, fran)
    assert "fran edited" in decider_missing(request_)
    client.force_login(make_user("Deal Desk"))
    page = client.get(reverse("deal-detail", args=[request_.deal_id])).content.decode()
    assert "Needs another Finance approver: fran edited the lines or clauses" in page

    # A second Finance user clears it, and may decide.
    make_user("Finance", username="gil")
    assert decider_missing(request_) == ""
    page = client.get(reverse("deal-detail", args=[request_.deal_id])).content.decode()
    assert "Needs another Finance approver" not in page


def test_a_finance_user_free_of_the_deal_gets_the_buttons(client, make_user, request_):
    client.force_login(make_user("Finance"))
    page = client.get(reverse("deal-detail", args=[request_.deal_id])).content.decode()
    assert f'data-testid="approve-{request_.pk}"' in page
    assert "Needs another" not in page


@pytest.mark.parametrize("why", ["owner", "decided_another_step"])
def test_the_bulk_answer_matches_the_decision_check(make_user, request_, why):
    user = make_user("Finance", "Executive")
    if why == "owner":
        Deal.objects.filter(pk=request_.deal_id).update(owner=user)
        match = "owns deal"
    else:
        more_requests(request_, 1)  # another step of the same content, decided by them
        ApprovalRequest.objects.filter(step=10).update(state="approved", decided_by=user)
        match = "already decided the Finance step"
    refusals = decision_refusals(user=user, requests=[request_])
    assert match in refusals[request_.pk]
    with pytest.raises(SegregationOfDutiesError, match=match):
        check_may_decide(request=request_, user=user)


# --- approve selected ----------------------------------------------------------------------


def test_approve_selected_decides_each_one_and_says_which_failed(
    client, make_user, won_deal, django_capture_on_commit_callbacks
):
    fran = make_user("Finance", username="fran")
    mine = ApprovalRequest.objects.get(deal=won_deal(notes=NET_90, name="Alpha"))
    edited = ApprovalRequest.objects.get(deal=won_deal(notes=NET_90, name="Bravo"))
    edited_terms(edited.deal, fran)
    client.force_login(fran)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            reverse("approvals-approve-selected"),
            {"ids": [mine.pk, edited.pk, 999_999], "reason": "Within the account plan."},
            follow=True,
        )
    said = [str(m) for m in answer.context["messages"]]
    assert said[0] == f"Approved 1: {mine}"
    assert f"Not approved: {edited}: fran edited the lines or clauses" in said[1]
    assert "Not approved: request 999999: no such request" in said[2]
    mine.refresh_from_db()
    edited.refresh_from_db()
    assert (mine.state, mine.reason, mine.decided_by) == (
        "approved",
        "Within the account plan.",
        fran,
    )
    assert edited.state == "pending"
    approved = AuditEvent.objects.filter(action="approval_request.approved")
    assert [event.object_id for event in approved] == [str(mine.pk)]


@pytest.mark.parametrize(
    ("ids", "message"),
    [([], "Tick the requests"), (["1", "x"], "not request ids"), (["-3"], "not request ids")],
)
def test_approve_selected_refuses_bad_input_and_decides_nothing(
    client, make_user, request_, ids, message
):
    client.force_login(make_user("Finance"))
    answer = client.post(reverse("approvals-approve-selected"), {"ids": ids}, follow=True)
    assert message in str(next(iter(answer.context["messages"])))
    assert not AuditEvent.objects.filter(action="approval_request.approved").exists()


def test_approve_selected_has_a_ceiling(make_user, request_):
    with pytest.raises(ValueError, match="at most 100"):
        approval_requests_approve(request_ids=list(range(1, 102)), actor=make_user("Finance"))
    assert ApprovalRequest.objects.get(pk=request_.pk).state == "pending"


def test_approve_selected_needs_the_decide_permission(client, make_user, request_):
    client.force_login(make_user("Sales"))
    assert (
        client.post(reverse("approvals-approve-selected"), {"ids": [request_.pk]}).status_code
        == 403
    )
    assert ApprovalRequest.objects.get(pk=request_.pk).state == "pending"


# --- decided in place: the page's other counts and badges come along -----------------------


def test_deciding_on_the_deal_page_sends_the_deal_state_and_the_nav_count(
    client, make_user, request_
):
    client.force_login(make_user("Finance"))
    body = decide_in_place(client, request_, shown_on="deal").content.decode()
    assert f'data-testid="decision-{request_.pk}"' in body
    deal = Deal.objects.get(pk=request_.deal_id)
    assert 'id="deal-state"' in body
    assert f'hx-swap-oob="true">{deal.get_state_display()}<' in body
    assert 'id="nav-approvals-count"' in body
    assert 'id="queue-count"' not in body


def test_deciding_on_the_queue_sends_its_count_with_its_filters(client, make_user, request_):
    more_requests(request_, 2)
    client.force_login(make_user("Finance"))
    response = client.post(
        reverse("approval-decide", args=[request_.pk]),
        {"decision": "approve", "shown_on": "queue", "next": "/approvals/?q=nothing-like-it"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert 'id="queue-count"' in body
    assert "0 open requests match" in body
    assert 'data-testid="nav-approvals-count" hx-swap-oob="true"' in body
    assert 'title="2 open requests">2<' in body
    assert 'id="deal-state"' not in body


def test_the_nav_count_is_the_users_open_requests(client, make_user, request_):
    client.force_login(make_user("Finance"))
    assert (
        'title="1 open request">1<' in client.get(reverse("approvals-nav-count")).content.decode()
    )
    client.force_login(make_user("Legal"))
    body = client.get(reverse("approvals-nav-count")).content.decode()
    assert "d-none" in body
    assert ">0<" in body


# --- what a row shows ----------------------------------------------------------------------


def test_a_row_shows_the_lines_discount_not_the_blended_one(client, make_user, request_):
    # The won deal: platform at 10 % off beside seats at list price.
    Deal.objects.filter(pk=request_.deal_id).update(effective_discount_pct=3)
    client.force_login(make_user("Finance"))
    page = client.get(reverse("my-approvals")).content.decode()
    cell = page.split(f'data-testid="discount-{request_.pk}"')[1].split("</td>")[0]
    assert ">10 %" in cell
    assert "PLAT-GROWTH" in cell
    assert "blended over the deal: 3.00 %" in cell
    assert DealLine.objects.filter(deal=request_.deal_id, discount_pct=10).exists()


def test_gates_that_passed_as_usual_fold_to_a_tick_and_a_failed_one_says_why():
    html = gate_list(
        [
            {"gate": "customer_verified", "passed": True, "reasons": ["Acme matches the CRM"]},
            {"gate": "pricing_tier", "passed": True, "reasons": ["highest 10%", "needs X"]},
            {"gate": "pricing_tier", "passed": True, "reasons": ["a", "line 2 below floor", "b"]},
            {"gate": "billable", "passed": False, "reasons": ["no CRM amount"]},
        ]
    )
    assert "<details><summary" in html
    assert '"customer_verified">✓ customer</summary>customer_verified: Acme matches' in html
    assert html.count('data-gate="passed"') == 2
    assert 'data-gate="noteworthy"' in html
    assert "line 2 below floor" in html
    assert '<span class="badge text-bg-danger">✗ billable</span> no CRM amount' in html


def test_25_rows_with_refusals_in_flat_queries(
    client, make_user, request_, django_assert_max_num_queries
):
    fran = make_user("Finance", username="fran")
    client.force_login(fran)
    with django_assert_max_num_queries(12):
        client.get(reverse("my-approvals"))
    more_requests(request_, 40)
    edited_terms(request_.deal, fran)  # every row now refused, each told why
    # The full segregation check, once for the deal's rows: a few queries, not a few a row.
    with django_assert_max_num_queries(15):
        page = client.get(reverse("my-approvals"))
    assert len(page.context["rows"]) == 25
    assert all(row.refusal for row in page.context["rows"])


# --- delegation, from the page -------------------------------------------------------------


def test_a_delegation_is_made_listed_and_revoked_from_my_approvals(client, make_user):
    fran = make_user("Finance", username="fran")
    gil = make_user("Executive", username="gil")
    client.force_login(fran)
    page = client.get(reverse("my-approvals")).content.decode()
    assert reverse("approval-delegation-create") in page
    group = fran.groups.get()
    answer = client.post(
        reverse("approval-delegation-create"),
        {
            "delegate": gil.pk,
            "group": group.pk,
            "starts_at": "2020-01-01T09:00",
            "ends_at": "2099-01-05T09:00",
        },
        follow=True,
    )
    assert "at most" in answer.content.decode()  # the service's limit, said on the form
    assert not ApprovalDelegation.objects.exists()
    now = timezone.localtime()
    answer = client.post(
        reverse("approval-delegation-create"),
        {
            "delegate": gil.pk,
            "group": group.pk,
            "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
            "reason": "Holiday",
        },
        follow=True,
    )
    delegation = ApprovalDelegation.objects.get()
    listed = (
        answer.content.decode().split('data-testid="delegations-given"')[1].split("</table>")[0]
    )
    assert "gil" in listed
    assert "Finance" in listed
    assert AuditEvent.objects.filter(action="approval_delegation.created").count() == 1

    client.post(reverse("approval-delegation-revoke", args=[delegation.pk]))
    delegation.refresh_from_db()
    assert delegation.revoked_by == fran
    assert AuditEvent.objects.filter(action="approval_delegation.revoked").count() == 1
    assert "None." in client.get(reverse("my-approvals")).content.decode()
    assert client.post(reverse("approval-delegation-revoke", args=[999_999])).status_code == 404
