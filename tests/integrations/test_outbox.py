"""The outbox: a step is written with its transition, relayed after commit, swept when the
relay is lost, retried with backoff, dead-lettered when it cannot succeed, and retried by a
person from the admin."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from celery import Task
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from audit.models import AuditEvent
from dealdesk import pipeline, services
from dealdesk.celery import app as celery_app
from dealdesk.integrations.models import OutboxMessage
from dealdesk.integrations.outbox import outbox_enqueue, outbox_sweep
from dealdesk.models import Deal
from tests.dealdesk.factories import AccountFactory, ProductFactory, UserFactory
from tests.integration.test_celery_worker import reset_broker_connections
from tests.integrations import steps

pytestmark = pytest.mark.django_db

FLAKY = "tests.integrations.steps.flaky_step"
REJECTED = "tests.integrations.steps.rejected_step"


def _time_passes() -> None:
    """Whatever was scheduled is due now (what the minutes of backoff would have done)."""
    OutboxMessage.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def _enqueue(task: str, key: str, capture) -> OutboxMessage:
    with capture(execute=True), transaction.atomic():
        message = outbox_enqueue(task=task, args=[key])
    message.refresh_from_db()
    return message


def test_every_next_step_resolves_to_a_registered_task():
    for model, state in pipeline.NEXT_STEP:
        for path in pipeline.next_steps(model, state):
            _assert_registered_task(model, state, path)


def _assert_registered_task(model: str, state: str, path: str) -> None:
    task = import_string(path)
    assert isinstance(task, Task), f"{model}:{state} → {path} is not a Celery task"
    assert task.name in celery_app.tasks, f"{path} is not registered with the Celery app"


def _spec() -> services.DealSpec:
    return services.DealSpec(
        crm_id="006OUTBOX000001",
        name="Outbox — New business",
        account=AccountFactory(),
        owner=UserFactory(roles=["Sales"]),
        start_date=date(2026, 3, 1),
        term_months=12,
        lines=[services.LineSpec(ProductFactory(list_price=Decimal("12000")), Decimal(2))],
    )


def test_the_step_is_written_in_the_transitions_transaction(pipeline_user):
    with pytest.raises(RuntimeError), transaction.atomic():  # noqa: PT012 - rolled back whole
        services.deal_create(spec=_spec(), actor=pipeline_user)
        assert OutboxMessage.objects.count() == 1
        raise RuntimeError("the transaction rolls back")
    assert not OutboxMessage.objects.exists(), "a rolled-back transition leaves no step"
    assert not Deal.objects.exists()


@pytest.fixture
def broker_down():
    """A real broker URL nobody listens on: publishing fails as it does when Redis is down."""
    conf = celery_app.conf
    saved = {
        key: conf[key]
        for key in (
            "task_always_eager",
            "broker_url",
            "broker_connection_retry",
            "task_publish_retry",
        )
    }
    conf.update(
        task_always_eager=False,
        broker_url="redis://127.0.0.1:9/0",  # the discard port: connection refused
        broker_connection_retry=False,
        task_publish_retry=False,
    )
    reset_broker_connections()  # connections are made from the new URL
    yield
    conf.update(saved)
    reset_broker_connections()


def test_a_step_whose_enqueue_fails_is_delivered_by_the_sweep_once(
    pipeline_user, broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        deal = services.deal_create(spec=_spec(), actor=pipeline_user)
    deal.refresh_from_db()
    assert deal.state == "new", "the broker was down: the step did not run"
    message = OutboxMessage.objects.get()
    assert (message.status, message.task) == ("pending", "dealdesk.tasks.deal_classify_and_price")
    assert outbox_sweep() == 0, "not due yet: the relay may still be delivering it"

    celery_app.conf.task_always_eager = True  # the broker is back (eager: the worker runs here)
    _time_passes()
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_sweep() >= 1
    deal.refresh_from_db()
    assert deal.state != "new", "the sweep delivered the step; the pipeline went on"
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("done", 1)
    assert (
        AuditEvent.objects.filter(object_id=str(deal.pk), action="deal.drafting_started").count()
        == 1
    )

    _time_passes()
    outbox_sweep()  # a second sweep finds nothing to do
    assert (
        AuditEvent.objects.filter(object_id=str(deal.pk), action="deal.drafting_started").count()
        == 1
    )


def test_retryable_failures_are_retried_with_backoff_until_the_step_succeeds_once(
    django_capture_on_commit_callbacks,
):
    steps.FAILURES["k"] = 3
    message = _enqueue(FLAKY, "k", django_capture_on_commit_callbacks)
    assert (message.status, message.attempts) == ("pending", 1)
    assert "503" in message.last_error
    assert message.next_attempt_at > timezone.now(), "the next attempt waits (backoff)"
    assert outbox_sweep() == 0, "not due before its backoff ends"
    for _ in range(3):
        _time_passes()
        with django_capture_on_commit_callbacks(execute=True):
            outbox_sweep()
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == ("done", 4, "")
    assert steps.EFFECTS == ["k"]
    _time_passes()
    outbox_sweep()
    assert len(steps.CALLS) == 4, "a done step is not run again"


def test_attempts_spent_dead_letter_the_step(settings, django_capture_on_commit_callbacks):
    settings.INTEGRATIONS_MAX_ATTEMPTS = 2
    steps.FAILURES["k"] = 5
    _enqueue(FLAKY, "k", django_capture_on_commit_callbacks)
    _time_passes()
    outbox_sweep()
    message = OutboxMessage.objects.get()
    assert (message.status, message.attempts) == ("dead", 2)
    assert AuditEvent.objects.filter(action="outbox_message.dead_lettered").count() == 1
    _time_passes()
    assert outbox_sweep() == 0, "a dead letter waits for a person"


def test_a_permanent_failure_is_dead_lettered_at_once(django_capture_on_commit_callbacks):
    steps.FAILURES["k"] = 1
    message = _enqueue(REJECTED, "k", django_capture_on_commit_callbacks)
    assert (message.status, message.attempts) == ("dead", 1)
    assert "customer id unknown" in message.last_error
    event = AuditEvent.objects.get(action="outbox_message.dead_lettered")
    assert event.object_id == str(message.pk)
    assert steps.EFFECTS == []


def test_retry_from_the_admin_runs_it_again_and_is_audited(
    client, django_user_model, django_capture_on_commit_callbacks
):
    steps.FAILURES["k"] = 1
    message = _enqueue(REJECTED, "k", django_capture_on_commit_callbacks)
    admin = django_user_model.objects.create_superuser("root", "root@x.test", "pw")
    client.force_login(admin)
    changelist = reverse("admin:integrations_outboxmessage_changelist")
    assert client.get(f"{changelist}?status__exact=dead").status_code == 200
    detail = client.get(reverse("admin:integrations_outboxmessage_change", args=[message.pk]))
    assert "customer id unknown" in detail.content.decode(), "the error is shown"
    assert 'data-testid="retry-dead-letter"' in detail.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            changelist,
            {"action": "retry_selected", "_selected_action": [message.pk], "index": 0},
            follow=True,
        )
    assert answer.status_code == 200
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("done", 1)
    assert steps.EFFECTS == ["k"]
    retried = AuditEvent.objects.get(action="outbox_message.retried")
    assert (retried.actor_username, retried.object_id) == ("root", str(message.pk))


def test_retry_needs_the_permission(make_user, django_capture_on_commit_callbacks):
    from django.core.exceptions import PermissionDenied

    from dealdesk.integrations.outbox import outbox_retry

    steps.FAILURES["k"] = 1
    message = _enqueue(REJECTED, "k", django_capture_on_commit_callbacks)
    with pytest.raises(PermissionDenied):
        outbox_retry(message_id=message.pk, actor=make_user("Sales"))
    message.refresh_from_db()
    assert message.status == "dead"
    assert not AuditEvent.objects.filter(action="outbox_message.retried").exists()


def test_held_writes_no_steps_for_bulk_created_deals(pipeline_user):
    spec = _spec()
    other = services.DealSpec(**{**spec.__dict__, "crm_id": "006OUTBOX000002"})
    with pipeline.held():
        services.deals_create(specs=[spec, other], actor=pipeline_user)
    assert not OutboxMessage.objects.exists()


def test_the_retry_button_on_a_dead_letters_page_sends_it_again(
    client, django_user_model, django_capture_on_commit_callbacks
):
    steps.FAILURES["k"] = 1
    message = _enqueue(REJECTED, "k", django_capture_on_commit_callbacks)
    client.force_login(django_user_model.objects.create_superuser("root", "r@x.test", "pw"))
    retry = reverse("admin:integrations_outboxmessage_retry", args=[message.pk])
    assert client.get(retry).status_code == 405, "a GET changes nothing"
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(retry)
    assert answer.status_code == 302
    message.refresh_from_db()
    assert message.status == "done"
    assert AuditEvent.objects.filter(action="outbox_message.retried").count() == 1
    page = client.get(reverse("admin:integrations_outboxmessage_change", args=[message.pk]))
    assert 'data-testid="retry-dead-letter"' not in page.content.decode(), "only dead letters"
