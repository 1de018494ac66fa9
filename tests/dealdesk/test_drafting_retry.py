"""A deal stuck in drafting: the page says where its step stands, and Deal Desk sends it again
(a dead letter retried, else a fresh step), audited; nobody else, and never a live step."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from audit.models import AuditEvent
from dealdesk.drafting import drafting_progress
from dealdesk.integrations.models import OutboxMessage
from dealdesk.services import deal_retry_drafting
from dealdesk.templatetags.dealdesk import iso
from tests.dealdesk.factories import DealFactory

DRAFT = "contracts.tasks.contract_draft"


def drafting_deal(*, minutes_ago: int = 5):
    return DealFactory(
        state="drafting", state_changed_at=timezone.now() - timedelta(minutes=minutes_ago)
    )


def step(deal, **fields) -> OutboxMessage:
    return OutboxMessage.objects.create(
        task=DRAFT,
        args=[deal.pk],
        object_type="dealdesk.deal",
        object_id=str(deal.pk),
        state="drafting",
        **fields,
    )


@pytest.fixture
def dead(db):
    deal = drafting_deal()
    return deal, step(
        deal, status="dead", attempts=8, last_error="Traceback ...\nIntegrationError: LLM down"
    )


def test_progress_says_the_step_its_attempt_and_next_try(db):
    deal = drafting_deal()
    next_try = timezone.now() + timedelta(minutes=4)
    step(deal, status="done", attempts=1, created_at=timezone.now() - timedelta(days=9))
    step(deal, status="pending", attempts=2, next_attempt_at=next_try, last_error="x\nE: boom")
    progress = drafting_progress(deal)
    assert progress.summary == (
        f"Extracting clauses and rendering the contract — attempt 3 of 8, next try {iso(next_try)}"
    )
    assert progress.last_error == "E: boom"
    assert not progress.can_retry, "a step on its normal backoff is left alone"


def test_progress_of_a_dead_step_and_of_no_step(dead):
    deal, _ = dead
    progress = drafting_progress(deal)
    assert "failed after 8 attempt(s) and stopped" in progress.summary
    assert progress.can_retry
    other = drafting_deal()
    assert drafting_progress(other).summary == "No drafting step is queued for this deal"
    assert drafting_progress(other).can_retry
    assert drafting_progress(DealFactory()) is None, "a new deal is not drafting"


def test_a_running_step_is_never_retried_and_a_waiting_one_only_after_the_limit(db, settings):
    settings.DRAFTING_RETRY_AFTER_MINUTES = 30
    running = drafting_deal(minutes_ago=300)
    step(running, status="running", attempts=1)
    assert not drafting_progress(running).can_retry
    young, old = drafting_deal(minutes_ago=29), drafting_deal(minutes_ago=31)
    step(young, status="pending", attempts=3)
    step(old, status="pending", attempts=3)
    assert not drafting_progress(young).can_retry
    assert drafting_progress(old).can_retry


def test_deal_desk_retries_a_dead_step_audited_and_relayed_after_commit(
    dead, desk_user, django_capture_on_commit_callbacks
):
    deal, message = dead
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        deal_retry_drafting(deal_id=deal.pk, actor=desk_user, reason="LLM is back")
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("pending", 0)
    assert len(callbacks) == 1, "relayed once the retry commits"
    events = AuditEvent.objects.order_by("seq")
    assert [(e.action, e.actor_id, e.reason) for e in events] == [
        ("outbox_message.retried", desk_user.pk, "LLM is back"),
        ("deal.drafting_retried", desk_user.pk, "LLM is back"),
    ]
    assert OutboxMessage.objects.count() == 1, "the dead letter itself, no second step"


def test_a_stale_waiting_step_gets_a_fresh_one(db, desk_user, django_capture_on_commit_callbacks):
    deal = drafting_deal(minutes_ago=120)
    step(deal, status="pending", attempts=5)
    with django_capture_on_commit_callbacks(execute=False):
        deal_retry_drafting(deal_id=deal.pk, actor=desk_user)
    assert OutboxMessage.objects.filter(task=DRAFT, object_id=str(deal.pk)).count() == 2
    event = AuditEvent.objects.get(action="deal.drafting_retried")
    assert event.reason == "drafting retried from the deal page"


@pytest.mark.parametrize("role", ["Legal", "Sales", "Finance", "Auditor"])
def test_only_deal_desk_may_retry(dead, make_user, role):
    deal, message = dead
    with pytest.raises(PermissionDenied):
        deal_retry_drafting(deal_id=deal.pk, actor=make_user(role), reason="x")
    message.refresh_from_db()
    assert message.status == "dead"
    assert not AuditEvent.objects.exists()


def test_a_live_step_or_a_deal_past_drafting_is_refused(db, desk_user):
    deal = drafting_deal()
    step(deal, status="pending", attempts=1)
    with pytest.raises(TransitionNotAllowed, match="still drafting normally"):
        deal_retry_drafting(deal_id=deal.pk, actor=desk_user, reason="x")
    with pytest.raises(TransitionNotAllowed, match="not drafting"):
        deal_retry_drafting(deal_id=DealFactory(state="in_review").pk, actor=desk_user)
    assert OutboxMessage.objects.count() == 1
    assert not AuditEvent.objects.exists()


def test_the_deal_page_shows_progress_and_the_button_only_to_deal_desk(
    client, dead, desk_user, make_user
):
    deal, _ = dead
    url = reverse("deal-detail", args=[deal.pk])
    client.force_login(desk_user)
    page = client.get(url).content.decode()
    assert 'data-testid="drafting-progress"' in page
    assert "failed after 8 attempt(s)" in page
    assert "IntegrationError: LLM down" in page
    assert 'data-testid="retry-drafting"' in page
    client.force_login(make_user("Legal"))
    page = client.get(url).content.decode()
    assert 'data-testid="drafting-progress"' in page
    assert 'data-testid="retry-drafting"' not in page
    response = client.post(reverse("deal-action", args=[deal.pk, "retry_drafting"]))
    assert response.status_code == 403
    assert not AuditEvent.objects.exists()


def test_retry_from_the_page_runs_the_step_again(
    client, dead, desk_user, django_capture_on_commit_callbacks
):
    deal, message = dead
    client.force_login(desk_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("deal-action", args=[deal.pk, "retry_drafting"]),
            {"reason": "vendor fixed"},
            follow=True,
        )
    assert "drafting sent again" in response.content.decode()
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("done", 1), "the step ran once more"
    deal.refresh_from_db()
    # A factory deal has no pattern, hence no template: the step hands it to a person.
    assert deal.state == "manual_review"


def test_retry_of_a_live_step_from_the_page_says_why(client, desk_user):
    deal = drafting_deal()
    step(deal, status="running", attempts=1)
    client.force_login(desk_user)
    response = client.post(reverse("deal-action", args=[deal.pk, "retry_drafting"]), follow=True)
    assert "still drafting normally" in response.content.decode()
    assert not AuditEvent.objects.exists()
