"""/healthz: 200 when every check passes, 503 naming the failing part; no login, any Host."""

from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from dealdesk.integrations.models import DeliveryStatus, OutboxMessage, WebhookEvent
from dealdesk.ops import health
from dealdesk.ops.models import Heartbeat
from dealdesk.ops.tasks import beat_heartbeat
from tests.integration.test_celery_worker import _free_port, redis_url  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker(settings, redis_url):  # noqa: F811
    """A real Redis as the broker, as production has."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = redis_url
    return redis_url


@pytest.fixture
def broker_down(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{_free_port()}/0"  # nothing listens


def test_without_a_broker_the_laptop_is_healthy_and_needs_no_login(client):
    # An address no ALLOWED_HOSTS names, over http: how a load balancer asks an instance.
    answer = client.get("/healthz", HTTP_HOST="10.0.3.7:8000")
    assert answer.status_code == 200
    body = answer.json()
    assert (body["status"], body["failing"]) == ("ok", [])
    assert set(body["checks"]) == {"database", "broker", "beat", "outbox", "dead_letters"}
    assert body["checks"]["broker"] == {"ok": True, "configured": False}
    assert answer["Cache-Control"] == "no-store"


def test_healthy_with_a_live_broker_and_a_fresh_heartbeat(client, broker):
    beat_heartbeat()
    answer = client.get("/healthz")
    assert answer.status_code == 200, answer.json()
    checks = answer.json()["checks"]
    assert checks["broker"] == {"ok": True, "configured": True, "queue_depth": {"celery": 0}}
    assert checks["beat"]["ok"]
    assert checks["beat"]["last_run_age_seconds"] < 5


def test_database_fine_and_broker_down_is_503_naming_the_broker(client, broker_down):
    beat_heartbeat()
    answer = client.get("/healthz")
    assert answer.status_code == 503
    body = answer.json()
    assert (body["status"], body["failing"]) == ("failing", ["broker"])
    assert body["checks"]["database"] == {"ok": True}
    # The exception's class only: the endpoint is public, a message may name internal hosts.
    assert body["checks"]["broker"] == {"ok": False, "error": "ConnectionError"}


def test_a_broker_that_never_answers_is_given_up_on_quickly(client, broker_down, settings):
    settings.HEALTHZ_BROKER_TIMEOUT_SECONDS = 0.5
    started = timezone.now()
    assert client.get("/healthz?check=broker").status_code == 503
    assert timezone.now() - started < timedelta(seconds=3)


def test_a_stale_beat_is_503(client, broker, settings):
    Heartbeat.objects.create(name="beat", at=timezone.now() - timedelta(seconds=301))
    answer = client.get("/healthz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["failing"] == ["beat"]
    assert body["checks"]["beat"]["ok"] is False
    assert body["checks"]["beat"]["last_run_age_seconds"] >= 301
    settings.HEALTHZ_BEAT_STALE_SECONDS = 600
    assert client.get("/healthz").status_code == 200


def test_a_beat_that_never_ran_is_503(client, broker):
    body = client.get("/healthz").json()
    assert body["failing"] == ["beat"]
    assert body["checks"]["beat"]["last_run_age_seconds"] is None


def test_a_step_waiting_past_its_due_time_is_503_and_a_retry_waiting_is_not(client):
    now = timezone.now()
    # A retry scheduled for later is open and old, but not overdue.
    OutboxMessage.objects.create(
        task="x.y", created_at=now - timedelta(hours=2), next_attempt_at=now + timedelta(hours=1)
    )
    checks = client.get("/healthz").json()["checks"]["outbox"]
    assert checks["ok"] is True
    assert checks["outbox"]["open"] == 1
    assert checks["outbox"]["lag_seconds"] == 0
    assert checks["outbox"]["oldest_open_age_seconds"] >= 7200
    # One the broker never delivered: due ten minutes ago.
    OutboxMessage.objects.create(task="x.y", next_attempt_at=now - timedelta(minutes=10))
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["failing"] == ["outbox"]
    assert answer.json()["checks"]["outbox"]["outbox"]["lag_seconds"] >= 600


def test_webhook_events_waiting_count_as_lag_too(client):
    WebhookEvent.objects.create(
        vendor="stripe",
        event_id="evt_1",
        payload={},
        next_attempt_at=timezone.now() - timedelta(minutes=6),
    )
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["outbox"]["webhook_inbox"]["open"] == 1


def test_dead_letters_are_counted_but_do_not_fail_the_check(client):
    OutboxMessage.objects.create(task="x.y", status=DeliveryStatus.DEAD)
    WebhookEvent.objects.create(vendor="s", event_id="e", payload={}, status=DeliveryStatus.DEAD)
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json()["checks"]["dead_letters"] == {"ok": True, "outbox": 1, "webhook_inbox": 1}


def test_database_down_is_503_and_what_reads_it_is_not_tried(client, monkeypatch):
    def refuse():
        raise OperationalError("connection to server at db.internal failed")

    monkeypatch.setitem(health.CHECKS, "database", refuse)
    answer = client.get("/healthz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["failing"] == ["database", "beat", "outbox", "dead_letters"]
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    assert body["checks"]["outbox"] == {"ok": False, "error": "database unavailable"}
    assert "db.internal" not in answer.content.decode()


def test_the_load_balancer_asks_for_the_database_only(client, broker_down):
    # A broker outage must not take the web tier out of rotation: webhooks are still stored.
    answer = client.get("/healthz?check=database")
    assert answer.status_code == 200
    assert list(answer.json()["checks"]) == ["database"]


def test_an_unknown_check_is_a_400_and_a_post_a_405(client):
    assert client.get("/healthz?check=everything").status_code == 400
    assert client.post("/healthz").status_code == 405


def test_a_few_queries_whatever_the_backlog(client, django_assert_max_num_queries):
    OutboxMessage.objects.bulk_create(OutboxMessage(task="x.y") for _ in range(50))
    with django_assert_max_num_queries(6):
        client.get("/healthz")
