"""A new template version is used only after a second person approved it (issue 12)."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django_fsm import TransitionNotAllowed

from audit.actions import Action
from audit.models import AuditEvent
from contracts.document_templates import order_form_docx, order_form_html
from contracts.models import ContractTemplate, TemplateState
from contracts.services import (
    ContractTemplateError,
    contract_template_approve,
    contract_template_publish,
    contract_template_reject,
)
from dealdesk.models import DealPattern
from dealdesk.roles import SegregationOfDutiesError

pytestmark = pytest.mark.django_db

# new_deal's deals are classified under this pattern (tests/contracts/conftest.py).
PATTERN = "custom_terms"


def _publish(actor, title: str = "Order Form (2027 paper)") -> ContractTemplate:
    return contract_template_publish(
        pattern=DealPattern.objects.get(code=PATTERN),
        title=title,
        html=order_form_html(),
        docx=order_form_docx(),
        docx_filename="order-form-2027.docx",
        note="new paper",
        actor=actor,
    )


@pytest.fixture
def legal_lead(make_user):
    lead = make_user("Legal", username="lead", is_staff=True)
    lead.user_permissions.add(Permission.objects.get(codename="approve_contracttemplate"))
    return lead


def test_templates_shipped_before_approval_existed_are_approved_and_deal_desk_may_approve():
    assert set(ContractTemplate.objects.values_list("state", flat=True)) == {"approved"}
    approvers = Group.objects.filter(permissions__codename="approve_contracttemplate")
    assert list(approvers.values_list("name", flat=True)) == ["Deal Desk"]


def test_a_published_version_waits_for_approval_and_is_not_used_for_drafting(legal_user, new_deal):
    pending = _publish(legal_user)
    assert pending.state == TemplateState.PENDING_APPROVAL
    drafted = new_deal().contract_versions.get()
    assert drafted.template.version == 1
    assert drafted.snapshot["title"] != "Order Form (2027 paper)"


def test_an_approved_version_is_used_for_new_drafts(legal_user, desk_user, new_deal):
    contract_template_approve(template_id=_publish(legal_user).pk, actor=desk_user, note="ok")
    assert new_deal().contract_versions.get().template.version == 2


def test_a_rejected_version_is_never_used_and_a_newer_approved_one_is(
    legal_user, desk_user, new_deal
):
    rejected = _publish(legal_user, title="Bad paper")
    contract_template_reject(template_id=rejected.pk, actor=desk_user, reason="wrong entity")
    assert new_deal().contract_versions.get().template.version == 1
    approved = _publish(legal_user)
    contract_template_approve(template_id=approved.pk, actor=desk_user)
    assert new_deal().contract_versions.get().template == approved


def test_the_publisher_can_never_approve_their_own_version(legal_lead):
    template = _publish(legal_lead)
    with pytest.raises(SegregationOfDutiesError, match="a second person must"):
        contract_template_approve(template_id=template.pk, actor=legal_lead)
    with pytest.raises(SegregationOfDutiesError):
        contract_template_reject(template_id=template.pk, actor=legal_lead, reason="mine")
    template.refresh_from_db()
    assert template.state == TemplateState.PENDING_APPROVAL
    assert not AuditEvent.objects.filter(action=Action.CONTRACT_TEMPLATE_APPROVED).exists()


def test_legal_without_the_leads_permission_cannot_approve(legal_user, make_user):
    template = _publish(legal_user)
    colleague = make_user("Legal")
    with pytest.raises(PermissionDenied, match="may not approve"):
        contract_template_approve(template_id=template.pk, actor=colleague)


def test_legals_lead_approves_a_colleagues_version(legal_user, legal_lead):
    template = contract_template_approve(template_id=_publish(legal_user).pk, actor=legal_lead)
    assert template.state == TemplateState.APPROVED
    assert template.decided_by == legal_lead


def test_the_approval_is_audited_with_its_note_and_history(legal_user, desk_user):
    template = _publish(legal_user)
    published = AuditEvent.objects.get(action=Action.CONTRACT_TEMPLATE_PUBLISHED)
    assert published.actor == legal_user
    assert published.after["state"] == "pending_approval"
    contract_template_approve(template_id=template.pk, actor=desk_user, note="checked the PDF")
    event = AuditEvent.objects.get(action=Action.CONTRACT_TEMPLATE_APPROVED)
    assert event.actor == desk_user
    assert event.object_id == str(template.pk)
    assert (event.before, event.after) == (
        {"state": "pending_approval"},
        {"state": "approved", "version": 2},
    )
    assert event.reason == "checked the PDF"
    assert template.history.first().history_user == desk_user


def test_a_rejection_needs_a_reason_and_is_audited(legal_user, desk_user):
    template = _publish(legal_user)
    with pytest.raises(ContractTemplateError, match="reason is required"):
        contract_template_reject(template_id=template.pk, actor=desk_user, reason=" ")
    contract_template_reject(template_id=template.pk, actor=desk_user, reason="wrong entity")
    event = AuditEvent.objects.get(action=Action.CONTRACT_TEMPLATE_REJECTED)
    assert (event.actor, event.reason, event.after["state"]) == (
        desk_user,
        "wrong entity",
        "rejected",
    )


def test_a_version_is_decided_once(legal_user, desk_user, make_user):
    template = _publish(legal_user)
    contract_template_approve(template_id=template.pk, actor=desk_user)
    with pytest.raises(TransitionNotAllowed, match="is approved"):
        contract_template_reject(
            template_id=template.pk, actor=make_user("Deal Desk"), reason="too late"
        )
