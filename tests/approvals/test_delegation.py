"""Delegation needs the delegator: made by them (or a superuser for them, with a reason),
audited, time-boxed, and listed on My approvals."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from approvals.models import ApprovalDelegation
from approvals.services import (
    ApprovalError,
    approval_delegation_create,
    approval_delegation_revoke,
)
from audit.models import AuditEvent


def admin_add(client, actor, *, delegator, delegate, group, days=7, reason=""):
    client.force_login(actor)
    start, end = timezone.localtime(), timezone.localtime() + timedelta(days=days)
    return client.post(
        reverse("admin:approvals_approvaldelegation_add"),
        {
            "delegator": delegator.pk,
            "delegate": delegate.pk,
            "group": Group.objects.get(name=group).pk,
            "starts_at_0": start.strftime("%Y-%m-%d"),
            "starts_at_1": start.strftime("%H:%M:%S"),
            "ends_at_0": end.strftime("%Y-%m-%d"),
            "ends_at_1": end.strftime("%H:%M:%S"),
            "reason": reason,
        },
    )


def create(delegator, delegate, group, *, actor=None, days=7, reason=""):
    now = timezone.now()
    return approval_delegation_create(
        delegator=delegator,
        delegate=delegate,
        group=Group.objects.get(name=group),
        starts_at=now,
        ends_at=now + timedelta(days=days),
        actor=actor or delegator,
        reason=reason,
    )


def test_finance_cannot_grant_itself_executive_authority_in_the_admin(client, make_user):
    finance = make_user("Finance", is_staff=True)
    executive = make_user("Executive")
    response = admin_add(client, finance, delegator=executive, delegate=finance, group="Executive")
    assert response.status_code == 200  # the form again, with the reason
    assert f"only {executive} can delegate" in response.content.decode()
    assert not ApprovalDelegation.objects.exists()
    assert not AuditEvent.objects.filter(action="approval_delegation.created").exists()


def test_a_delegator_adds_their_own_delegation_in_the_admin_and_it_is_audited(client, make_user):
    finance = make_user("Finance", is_staff=True)
    stand_in = make_user("Deal Desk")
    response = admin_add(client, finance, delegator=finance, delegate=stand_in, group="Finance")
    assert response.status_code == 302
    delegation = ApprovalDelegation.objects.get()
    assert (delegation.delegator, delegation.delegate, delegation.created_by) == (
        finance,
        stand_in,
        finance,
    )
    event = AuditEvent.objects.get(action="approval_delegation.created")
    assert event.actor == finance
    assert event.after["group"] == "Finance"


def test_a_superuser_delegates_on_someones_behalf_only_with_a_reason(client, make_user):
    admin = make_user(is_staff=True, is_superuser=True)
    executive, stand_in = make_user("Executive"), make_user("Finance")
    response = admin_add(client, admin, delegator=executive, delegate=stand_in, group="Executive")
    assert "say why you delegate on" in response.content.decode()
    assert not ApprovalDelegation.objects.exists()

    admin_add(
        client,
        admin,
        delegator=executive,
        delegate=stand_in,
        group="Executive",
        reason="Eve is on leave; agreed by phone with the CFO",
    )
    delegation = ApprovalDelegation.objects.get()
    assert delegation.created_by == admin
    event = AuditEvent.objects.get(action="approval_delegation.created")
    assert event.reason == "Eve is on leave; agreed by phone with the CFO"


def test_only_a_member_of_the_group_can_delegate_it(make_user):
    finance = make_user("Finance")
    with pytest.raises(ApprovalError, match="is not in Executive"):
        create(finance, make_user("Finance"), "Executive")
    assert not ApprovalDelegation.objects.exists()


def test_a_delegation_ends_within_the_longest_span(make_user, settings):
    settings.APPROVAL_DELEGATION_MAX_DAYS = 30
    finance, stand_in = make_user("Finance"), make_user("Deal Desk")
    with pytest.raises(ApprovalError, match="at most 30 days"):
        create(finance, stand_in, "Finance", days=31)
    with pytest.raises(ApprovalError, match="must end after it starts"):
        create(finance, stand_in, "Finance", days=-1)
    assert not ApprovalDelegation.objects.exists()
    assert create(finance, stand_in, "Finance", days=30).pk


def test_a_revoked_delegation_grants_nothing_and_only_its_parties_revoke_it(make_user):
    finance, stand_in = make_user("Finance"), make_user("Deal Desk")
    delegation = create(finance, stand_in, "Finance")
    assert ApprovalDelegation.objects.in_force(stand_in).exists()
    with pytest.raises(PermissionDenied):
        approval_delegation_revoke(delegation_id=delegation.pk, actor=make_user("Finance"))
    approval_delegation_revoke(delegation_id=delegation.pk, actor=finance, reason="back early")
    assert not ApprovalDelegation.objects.in_force(stand_in).exists()
    event = AuditEvent.objects.get(action="approval_delegation.revoked")
    assert (event.actor, event.reason) == (finance, "back early")


def test_my_approvals_lists_delegations_given_and_received_and_makes_them(client, make_user):
    finance = make_user("Finance", username="fran")
    stand_in = make_user("Deal Desk", username="dana")
    client.force_login(finance)
    form = client.get(reverse("approval-delegation-create")).content.decode()
    assert 'data-testid="delegation-form"' in form
    start = timezone.localtime()
    response = client.post(
        reverse("approval-delegation-create"),
        {
            "delegate": stand_in.pk,
            "group": Group.objects.get(name="Finance").pk,
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    delegation = ApprovalDelegation.objects.get()
    assert delegation.created_by == finance

    given = client.get(reverse("my-approvals")).content.decode()
    assert 'data-testid="delegations-given"' in given
    assert "dana" in given.split('data-testid="delegations-given"')[1].split("</table>")[0]
    client.force_login(stand_in)
    received = client.get(reverse("my-approvals")).content.decode()
    assert "fran" in received.split('data-testid="delegations-received"')[1].split("</table>")[0]
