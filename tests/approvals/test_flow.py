"""The approvals step of the real pipeline: gates, requests step by step, the deal approved."""

import json
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from approvals.models import ApprovalRequest, ApprovalRule, GateRun
from approvals.selectors import reapproval_changes
from approvals.services import approval_request_decide
from approvals.tasks import remind
from audit.models import AuditEvent
from contracts import services as contracts
from contracts.selectors import current_version

NET_90 = "Net 90, PO required (PO-4471) on all invoices"


def decide(request, user, *, approve=True, reason="", capture=None):
    with capture(execute=True):
        return approval_request_decide(
            request_id=request.pk, actor=user, approve=approve, reason=reason
        )


def legal_approves(deal, legal, capture):
    with capture(execute=True):
        contracts.contract_approve(version_id=current_version(deal).pk, actor=legal)
    deal.refresh_from_db()


def test_a_standard_deal_needs_only_legal_and_is_then_approved(
    won_deal, approvers, django_capture_on_commit_callbacks
):
    deal = won_deal()
    assert deal.state == "in_review"
    run = GateRun.objects.get(contract_version__deal=deal)
    assert run.passed
    assert run.required == []
    assert not ApprovalRequest.objects.exists()

    legal_approves(deal, approvers["Legal"], django_capture_on_commit_callbacks)

    assert deal.state == "approved"
    assert "0 approval(s) granted on contract v1" in deal.state_reason
    assert AuditEvent.objects.filter(action="deal.approved", object_id=str(deal.pk)).count() == 1


def test_steps_open_in_order_and_the_deal_is_approved_when_all_are_granted(
    won_deal, approvers, vp_sales_above_5, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    deal = won_deal(notes=NET_90)
    finance = ApprovalRequest.objects.get(deal=deal)
    assert (finance.step, finance.group.name, finance.state) == (1, "Finance", "pending")
    assert finance.rule_names == ["Finance: payment terms beyond net 60"]
    assert "payment terms net 90 are beyond net 60" in finance.reasons[0]
    # The group hears of it; the Executive step waits for step 1.
    assert [m.to for m in mail.outbox] == [["Fin@x.test"]]

    decide(finance, approvers["Finance"], capture=capture)
    deal.refresh_from_db()
    assert deal.state == "in_review"
    executive = ApprovalRequest.objects.get(deal=deal, group__name="Executive")
    assert executive.step == 2
    assert executive.state == "pending"

    decide(executive, approvers["Executive"], capture=capture)
    deal.refresh_from_db()
    assert deal.state == "in_review"  # legal has not approved the contract yet

    legal_approves(deal, approvers["Legal"], capture)
    assert deal.state == "approved"
    finance.refresh_from_db()
    assert finance.decided_by == approvers["Finance"]
    assert finance.decided_at
    assert finance.content_hash == current_version(deal).content_hash
    assert AuditEvent.objects.filter(action="approval_request.approved").count() == 2
    assert finance.history.first().history_user == approvers["Finance"]


def test_a_hard_gate_failure_sends_the_deal_back_with_the_reasons(won_deal):
    deal = won_deal(crm_amount=Decimal("1000.00"))
    assert deal.state == "changes_requested"
    assert "priced amount 43,650.00 USD differs from the CRM amount 1,000.00" in deal.state_reason
    assert not GateRun.objects.get(contract_version__deal=deal).passed
    assert not ApprovalRequest.objects.exists()


def test_rejecting_needs_a_reason_and_sends_the_deal_back(
    won_deal, approvers, django_capture_on_commit_callbacks
):
    deal = won_deal(notes=NET_90)
    request = ApprovalRequest.objects.get(deal=deal)
    with pytest.raises(ValueError, match="a reason is required"):
        decide(
            request, approvers["Finance"], approve=False, capture=django_capture_on_commit_callbacks
        )
    request.refresh_from_db()
    assert request.state == "pending"
    assert not AuditEvent.objects.filter(action="approval_request.rejected").exists()

    decide(
        request,
        approvers["Finance"],
        approve=False,
        reason="net 90 is too long for this customer",
        capture=django_capture_on_commit_callbacks,
    )
    deal.refresh_from_db()
    assert deal.state == "changes_requested"
    assert "Finance rejected (by finance): net 90 is too long" in deal.state_reason
    # Deal Desk hears of the decision.
    assert mail.outbox[-1].to == ["Dea@x.test"]


def test_a_decided_request_cannot_be_decided_again(
    won_deal, approvers, make_user, django_capture_on_commit_callbacks
):
    deal = won_deal(notes=NET_90)
    request = ApprovalRequest.objects.get(deal=deal)
    decide(request, approvers["Finance"], capture=django_capture_on_commit_callbacks)
    with pytest.raises(ValueError, match="already approved by finance"):
        decide(
            request,
            make_user("Finance"),
            approve=False,
            reason="no",
            capture=django_capture_on_commit_callbacks,
        )
    request.refresh_from_db()
    assert request.state == "approved"
    assert request.decided_by == approvers["Finance"]


def test_a_policy_change_does_not_alter_an_open_request(won_deal):
    deal = won_deal(notes=NET_90)
    request = ApprovalRequest.objects.get(deal=deal)
    ApprovalRule.objects.filter(name="Finance: payment terms beyond net 60").update(
        name="Finance: renamed", payment_net_days_above=30
    )
    request.refresh_from_db()
    assert request.rule_names == ["Finance: payment terms beyond net 60"]
    assert "beyond net 60" in request.reasons[0]


def _legal_edits_net_days_to_75(deal, legal, capture) -> None:
    """Legal changes the payment terms clause: a new contract version (v2)."""
    version = current_version(deal)
    index = next(i for i, c in enumerate(version.clauses) if c["type"] == "payment_terms")
    with capture(execute=True):
        contracts.contract_clause_edit(
            version_id=version.pk,
            clause_index=index,
            params={"net_days": 75},
            actor=legal,
            reason="customer agreed to net 75",
        )


def test_a_clause_edit_supersedes_granted_approvals_and_shows_what_changed(
    client, won_deal, approvers, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    deal = won_deal(notes=NET_90)
    old = ApprovalRequest.objects.get(deal=deal)
    decide(old, approvers["Finance"], capture=capture)
    _legal_edits_net_days_to_75(deal, approvers["Legal"], capture)

    old.refresh_from_db()
    assert old.state == "superseded"
    assert old.reason == "contract v2 replaced what was approved"
    new = ApprovalRequest.objects.get(deal=deal, state="pending")
    assert new.contract_version.number == 2
    assert new.content_hash == current_version(deal).content_hash != old.content_hash
    changes = reapproval_changes(new)
    assert ("clause payment_terms", '{"net_days": 90}', '{"net_days": 75}') in changes
    assert all(not what.startswith("line") for what, _, _ in changes)
    # The deal page's re-approval view shows it to the approver.
    client.force_login(approvers["Finance"])
    page = client.get(reverse("deal-detail", args=[deal.pk])).content.decode()
    assert f'data-testid="changes-{new.pk}"' in page
    assert "clause payment_terms: {&quot;net_days&quot;: 90} → {&quot;net_days&quot;: 75}" in page


def test_a_request_replaced_before_anyone_decided_it_says_so(
    won_deal, approvers, django_capture_on_commit_callbacks
):
    deal = won_deal(notes=NET_90)
    pending = ApprovalRequest.objects.get(deal=deal)
    _legal_edits_net_days_to_75(deal, approvers["Legal"], django_capture_on_commit_callbacks)
    pending.refresh_from_db()
    assert pending.state == "superseded"
    assert pending.reason == "contract v2 replaced it before a decision"  # never approved


def test_explain_approvals_prints_gates_rules_and_requests(won_deal):
    deal = won_deal(notes=NET_90)
    for key in (deal.crm_id, str(deal.pk)):
        out = StringIO()
        call_command("explain_approvals", key, stdout=out)
        explained = json.loads(out.getvalue())
        assert [g["gate"] for g in explained["gates"]] == [
            "customer_verified",
            "billable",
            "pricing_tier",
            "terms_compliance",
        ]
        assert explained["fired_rules"][0]["rules"] == ["Finance: payment terms beyond net 60"]
        assert explained["requests"][0]["group"] == "Finance"
        assert explained["requests"][0]["state"] == "pending"
    with pytest.raises(CommandError, match="no deal"):
        call_command("explain_approvals", "006NOPE")


def test_the_daily_reminder_mails_groups_with_requests_past_the_sla(won_deal, approvers):
    deal = won_deal(notes=NET_90)
    mail.outbox.clear()
    assert remind() == 0  # just opened: within the SLA, nobody is reminded
    assert mail.outbox == []
    ApprovalRequest.objects.filter(deal=deal).update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    assert remind() == 1
    assert mail.outbox[0].to == ["Fin@x.test"]
    assert "1 approval request(s) waiting more than 24 h" in mail.outbox[0].subject
