"""The Deal state machine, through its services: permissions, reasons, history and audit."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from audit.models import AuditEvent
from dealdesk import services
from dealdesk.models import Deal, Product
from tests.dealdesk.factories import DealFactory, DealLineFactory, pattern

pytestmark = pytest.mark.django_db

# Phase 1 ends at approved; signature, billing and payment add their own services.
HAPPY_PATH = [
    (services.deal_start_drafting, "drafting", "deal.drafting_started"),
    (services.deal_submit_for_review, "in_review", "deal.submitted_for_review"),
    (services.deal_approve, "approved", "deal.approved"),
]


def _walk(deal, actor, steps):
    for service, _, _ in steps:
        deal = service(deal_id=deal.pk, actor=actor)
    return deal


def test_the_happy_path_runs_new_to_approved_writing_history_and_audit(pipeline_user):
    deal = DealFactory()
    for service, state, _ in HAPPY_PATH:
        deal = service(deal_id=deal.pk, actor=pipeline_user)
        assert deal.state == state
    deal.refresh_from_db()
    assert deal.state == "approved"
    events = AuditEvent.objects.filter(object_type="dealdesk.deal", object_id=str(deal.pk))
    assert [e.action for e in events.order_by("seq")] == [a for _, _, a in HAPPY_PATH]
    assert events.last().before == {"state": "in_review"}
    assert events.last().after == {"state": "approved"}
    states = list(deal.history.order_by("history_id").values_list("state", "history_user"))
    assert [s for s, _ in states[1:]] == [s for _, s, _ in HAPPY_PATH]
    assert {u for _, u in states[1:]} == {pipeline_user.pk}


def test_an_illegal_transition_is_refused_with_a_clear_error_and_writes_nothing(pipeline_user):
    deal = DealFactory()
    with pytest.raises(TransitionNotAllowed, match=r"deal \d+ is new: it cannot approve"):
        services.deal_approve(deal_id=deal.pk, actor=pipeline_user)
    deal.refresh_from_db()
    assert deal.state == "new"
    assert deal.history.count() == 1
    assert not AuditEvent.objects.exists()


def test_the_state_field_cannot_be_assigned_directly():
    deal = DealFactory()
    with pytest.raises(AttributeError):
        deal.state = "paid"


def test_a_person_may_ask_by_name_only_for_the_deal_pages_actions():
    assert set(services.PERSON_ACTIONS) == {"redraft", "send_to_manual_review", "cancel"}
    assert not hasattr(services, "GENERIC_TRANSITIONS")
    assert not hasattr(services, "deal_transition")


@pytest.mark.parametrize("role", ["Sales", "Auditor", "Legal", "Finance", "Executive"])
def test_people_without_manage_permission_cannot_cancel(make_user, role):
    deal = DealFactory()
    with pytest.raises(PermissionDenied):
        services.deal_cancel(deal_id=deal.pk, actor=make_user(role), reason="no")
    deal.refresh_from_db()
    assert deal.state == "new"
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("role", ["Deal Desk", "Sales", "Auditor"])
def test_people_cannot_run_pipeline_steps(make_user, role):
    deal = DealFactory()
    with pytest.raises(PermissionDenied):
        services.deal_start_drafting(deal_id=deal.pk, actor=make_user(role))


def test_cancel_needs_a_reason_and_records_it(desk_user):
    deal = DealFactory()
    with pytest.raises(services.ReasonRequired):
        services.deal_cancel(deal_id=deal.pk, actor=desk_user, reason=" ")
    deal = services.deal_cancel(deal_id=deal.pk, actor=desk_user, reason="customer withdrew")
    assert deal.state == "cancelled"
    assert deal.state_reason == "customer withdrew"
    latest = deal.history.latest()
    assert latest.history_user == desk_user
    assert latest.history_change_reason == "customer withdrew"
    event = AuditEvent.objects.get(action="deal.cancelled")
    assert event.actor == desk_user
    assert event.reason == "customer withdrew"


def test_a_long_reason_is_kept_whole_in_history_and_audit(desk_user):
    reason = "The customer's procurement withdrew the PO; " * 40  # ~1,800 characters
    deal = services.deal_cancel(deal_id=DealFactory().pk, actor=desk_user, reason=reason)
    assert deal.history.latest().history_change_reason == reason
    assert AuditEvent.objects.get(action="deal.cancelled").reason == reason


def test_legal_can_request_changes_on_a_deal_in_review(make_user, pipeline_user):
    deal = DealFactory()
    _walk(deal, pipeline_user, HAPPY_PATH[:2])
    deal = services.deal_request_changes(
        deal_id=deal.pk,
        actor=make_user("Legal"),
        reason="liability cap missing",
    )
    assert deal.state == "changes_requested"


def test_a_cancelled_deal_cannot_be_cancelled_again(desk_user):
    deal = DealFactory()
    services.deal_cancel(deal_id=deal.pk, actor=desk_user, reason="withdrawn")
    with pytest.raises(TransitionNotAllowed, match="cancelled: it cannot cancel"):
        services.deal_cancel(deal_id=deal.pk, actor=desk_user, reason="again")


def test_resume_from_manual_review_sets_the_pattern_and_resumes_drafting(desk_user):
    deal = DealFactory()
    services.deal_send_to_manual_review(deal_id=deal.pk, actor=desk_user, reason="co-term")
    deal = services.deal_resume(
        deal_id=deal.pk, actor=desk_user, pattern_code="multi_product", reason="checked by hand"
    )
    assert deal.state == "drafting"
    assert deal.pattern == pattern("multi_product")
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions == ["deal.sent_to_manual_review", "deal.pattern_set", "deal.resumed"]


def test_a_deal_that_could_not_be_priced_resumes_only_once_its_product_is_set_up(desk_user):
    line = DealLineFactory(product__sku="NEW-SKU", product__kind="", product__billing_interval="")
    deal = line.deal
    services.deal_send_to_manual_review(deal_id=deal.pk, actor=desk_user, reason="unpriced")
    with pytest.raises(TransitionNotAllowed, match=r"cannot resume: product NEW-SKU .* billing"):
        services.deal_resume(
            deal_id=deal.pk, actor=desk_user, pattern_code="simple", reason="set up?"
        )
    deal.refresh_from_db()
    assert (deal.state, deal.pattern, deal.tcv) == ("manual_review", None, None)

    Product.objects.filter(pk=line.product_id).update(kind="subscription", billing_interval="year")
    deal = services.deal_resume(
        deal_id=deal.pk, actor=desk_user, pattern_code="simple", reason="Finance set it up"
    )
    deal.refresh_from_db()
    assert deal.state == "drafting"
    assert deal.tcv == Decimal("12000.00")  # priced on resume: list, queue and gates read it


def test_resume_is_refused_outside_manual_review(desk_user):
    deal = DealFactory()
    with pytest.raises(TransitionNotAllowed):
        services.deal_resume(
            deal_id=deal.pk, actor=desk_user, pattern_code="simple", reason="because"
        )
    deal.refresh_from_db()
    assert deal.pattern is None


def test_a_stale_copy_cannot_overwrite_a_newer_state(pipeline_user, desk_user):
    deal = DealFactory()
    stale = Deal.objects.get(pk=deal.pk)
    services.deal_cancel(deal_id=deal.pk, actor=desk_user, reason="withdrawn")
    stale.start_drafting()
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        stale.save()
    deal.refresh_from_db()
    assert deal.state == "cancelled"


def test_a_rolled_back_transition_enqueues_nothing_and_leaves_no_audit(
    desk_user, django_capture_on_commit_callbacks
):
    deal = DealFactory()
    with (  # noqa: PT012 - the cancel must happen inside the transaction that fails
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.deal_cancel(deal_id=deal.pk, actor=desk_user, reason="x")
        raise RuntimeError("boom")
    assert callbacks == []
    deal.refresh_from_db()
    assert deal.state == "new"
    assert not AuditEvent.objects.exists()
