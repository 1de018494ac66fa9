"""How stored webhook events reach a worker: a burst of a batch vendor's events publishes one
message, whose task works the queue off until none is left; with the broker down an event is
acknowledged at once (a breaker skips publishing for a few seconds) and the sweep relays it
once the broker is back."""

import json
import shutil
import subprocess
import time

import pytest
import redis
from celery.signals import before_task_publish
from django.urls import reverse
from django.utils import timezone

from dealdesk.celery import app as celery_app
from dealdesk.integrations import broker
from dealdesk.integrations.models import WebhookEvent
from dealdesk.integrations.webhooks import (
    BATCH,
    VerifiedEvent,
    webhook_process,
    webhook_receive,
    webhook_sweep,
)
from tests.integration.test_celery_worker import (
    _accepts,
    _free_port,
    _wait_for,
    reset_broker_connections,
)
from tests.integrations import webhook_vendor
from tests.integrations.webhook_vendor import HEADER, sign

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def vendors(settings):
    settings.WEBHOOK_VENDORS = {
        "batched": "tests.integrations.webhook_vendor.BatchVendor",
        "single": "tests.integrations.webhook_vendor.TestVendor",
    }
    for recorded in (webhook_vendor.EFFECTS, webhook_vendor.BATCHES, webhook_vendor.DURING_BATCH):
        recorded.clear()
    yield
    for recorded in (webhook_vendor.EFFECTS, webhook_vendor.BATCHES, webhook_vendor.DURING_BATCH):
        recorded.clear()


@pytest.fixture
def published():
    """The (task name, args) of every message handed to the broker from here on."""
    sent = []

    def record(sender=None, body=None, **_kwargs):
        sent.append((sender, list(body[0])))

    before_task_publish.connect(record, weak=False)
    yield sent
    before_task_publish.disconnect(record)


def use_broker(url: str) -> None:
    celery_app.conf.update(broker_url=url, task_always_eager=False)
    reset_broker_connections()


@pytest.fixture
def memory_broker():
    """A broker nobody consumes from: what is published waits (no worker runs it here)."""
    saved = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    use_broker("memory://localhost/")
    yield
    celery_app.conf.update(broker_url=saved[0], task_always_eager=saved[1])
    reset_broker_connections()


def _post(client, vendor: str, number: int):
    body = json.dumps({"id": f"evt_{number:04d}", "type": "thing.updated"}).encode()
    return client.post(
        reverse("webhook", args=[vendor]),
        body,
        content_type="application/json",
        headers={HEADER: sign(body)},
    )


def _deliver(client, vendor: str, count: int, capture) -> list[float]:
    """`count` events POSTed, each relayed after its commit; each answer's seconds."""
    seconds = []
    for number in range(count):
        began = time.perf_counter()
        with capture(execute=True):
            answer = _post(client, vendor, number)
        seconds.append(time.perf_counter() - began)
        assert answer.status_code == 200, answer.content
    return seconds


def test_a_burst_publishes_once_and_its_task_works_the_queue_off(
    client, memory_broker, published, django_capture_on_commit_callbacks
):
    count = 2 * BATCH + 30
    _deliver(client, "batched", count, django_capture_on_commit_callbacks)
    assert len(published) == 1, "only the first event found no worker on its way"
    (task, args) = published[0]
    assert (task, args) == (
        "integrations.webhook_process",
        [WebhookEvent.objects.earliest("pk").pk, 0],
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_process(*args)

    assert webhook_vendor.BATCHES == [BATCH, BATCH, 30]
    assert set(WebhookEvent.objects.values_list("status", "attempts")) == {("done", 1)}
    assert len(webhook_vendor.EFFECTS) == len(set(webhook_vendor.EFFECTS)) == count
    # The queue is empty: the next event wakes a worker again.
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, "batched", 9999)
    assert len(published) == 2


def test_a_vendor_without_a_batch_handler_publishes_each_event(
    client, memory_broker, published, django_capture_on_commit_callbacks
):
    _deliver(client, "single", 5, django_capture_on_commit_callbacks)
    assert [args[0] for _, args in published] == list(
        WebhookEvent.objects.order_by("pk").values_list("pk", flat=True)
    )


def test_an_event_stored_while_the_queue_is_worked_off_is_taken_by_the_same_task(
    client, memory_broker, published, django_capture_on_commit_callbacks
):
    _deliver(client, "batched", 3, django_capture_on_commit_callbacks)

    def arrives_unrelayed() -> None:
        # Its relay skipped (it saw a waiting event): the running task must still take it.
        # (Its after-commit relay never runs: the test's transaction is not committed.)
        webhook_receive(
            vendor="batched",
            event=VerifiedEvent(event_id="evt_late", type="thing.updated", payload={}),
        )

    webhook_vendor.DURING_BATCH.append(arrives_unrelayed)
    webhook_process(*published[0][1])

    assert webhook_vendor.BATCHES == [3, 1], "a short batch is not the end: a claim found none"
    assert WebhookEvent.objects.get(event_id="evt_late").status == "done"
    assert len(published) == 1


@pytest.fixture
def redis_down_then_up():
    """A broker URL nothing listens on yet (publishing fails as when Redis is down), and
    up() → a redis-server started there, stopped after the test."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    saved = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    use_broker(url)
    started = []

    def up() -> None:
        started.append(
            subprocess.Popen(  # noqa: S603
                [server, "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
                stdout=subprocess.DEVNULL,
            )
        )
        _wait_for(lambda: _accepts(port), 10, "redis to listen")

    yield url, up
    celery_app.conf.update(broker_url=saved[0], task_always_eager=saved[1])
    reset_broker_connections()
    for proc in started:
        proc.terminate()
        proc.wait(timeout=10)


def test_with_the_broker_down_events_are_acknowledged_at_once_and_swept_when_it_is_back(
    client, redis_down_then_up, published, django_capture_on_commit_callbacks, monkeypatch
):
    url, redis_up = redis_down_then_up
    monkeypatch.setattr(broker, "BREAKER_SECONDS", 1.0)
    seconds = _deliver(client, "batched", 30, django_capture_on_commit_callbacks)
    seconds += _deliver(client, "single", 30, django_capture_on_commit_callbacks)

    assert len(published) == 1, "the first failure paused publishing: no other event tried"
    # kombu's default retry policy waits 0.6 s per event; paused, an event costs no wait.
    assert seconds[0] < 0.5
    assert sorted(seconds)[len(seconds) // 2] < 0.1, seconds
    events = WebhookEvent.objects.all()
    assert events.count() == 60
    assert set(events.values_list("status", "attempts")) == {("pending", 0)}
    assert not events.filter(next_attempt_at__gt=timezone.now()).exists(), "due for the sweep"
    assert webhook_vendor.EFFECTS == []

    redis_up()  # the broker is back, at the same address; the pause ends within a second
    _wait_for(lambda: not broker.broker_paused(url), 5, "the pause to end")
    assert webhook_sweep() == 60
    assert redis.Redis.from_url(url).llen(celery_app.conf.task_default_queue) == 60
    assert len(published) == 61
    assert not events.filter(next_attempt_at__lte=timezone.now()).exists(), "sent: in grace"
