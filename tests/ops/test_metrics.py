"""/metrics: Prometheus's scrape behind a bearer token; requests, task latency, outbox lag,
dead letters, queue depth and refused webhooks; several processes added up."""

import json
import os
import socket
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from dealdesk.integrations.models import DeliveryStatus, OutboxMessage
from dealdesk.ops.tasks import beat_heartbeat
from tests.integration.test_celery_worker import redis_url  # noqa: F401
from tests.integrations import webhook_vendor

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
TOKEN = "scrape-token-0123456789"


@pytest.fixture(autouse=True)
def token(settings):
    settings.METRICS_TOKENS = ["old-token-in-rotation", TOKEN]


def _scrape(client, token=TOKEN) -> dict[tuple[str, tuple], float]:
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"].startswith("text/plain; version=0.0.4")
    return _samples(answer.content.decode())


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_without_the_token_nothing_is_shown(client, settings):
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 401
    assert wrong["WWW-Authenticate"].startswith("Bearer")
    assert b"dealdesk_" not in wrong.content
    # Both tokens of a rotation work.
    assert _scrape(client, "old-token-in-rotation")
    settings.METRICS_TOKENS = []
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def test_requests_are_counted_by_method_status_and_view(client):
    before = _scrape(client)
    key = (
        "dealdesk_http_requests_total",
        (("method", "GET"), ("status", "200"), ("view", "login")),
    )
    client.get("/login/")
    client.get("/login/")
    client.get("/no-such-page/")
    after = _scrape(client)
    assert after[key] - before.get(key, 0) == 2
    latency = (
        "dealdesk_http_request_duration_seconds_count",
        (("method", "GET"), ("view", "login")),
    )
    assert after[latency] - before.get(latency, 0) == 2
    assert any(
        labels == (("method", "GET"), ("status", "404"), ("view", "unmatched"))
        for name, labels in after
        if name == "dealdesk_http_requests_total"
    )


def test_task_latency_outbox_lag_and_dead_letters(client):
    beat_heartbeat.apply()
    now = timezone.now()
    OutboxMessage.objects.create(task="x.y", next_attempt_at=now - timedelta(minutes=5))
    OutboxMessage.objects.create(task="x.y", status=DeliveryStatus.DEAD)
    samples = _scrape(client)
    task = (
        "dealdesk_task_duration_seconds_count",
        (("outcome", "success"), ("task", "ops.beat_heartbeat")),
    )
    assert samples[task] >= 1
    assert samples[("dealdesk_outbox_open", ())] == 1
    assert 300 <= samples[("dealdesk_outbox_lag_seconds", ())] < 360
    assert samples[("dealdesk_dead_letters", (("kind", "outbox"),))] == 1
    assert samples[("dealdesk_dead_letters", (("kind", "webhook_inbox"),))] == 0
    assert samples[("dealdesk_beat_last_run_age_seconds", ())] < 5
    # No broker (tasks in-process): no queue to measure.
    assert ("dealdesk_broker_up", ()) not in samples


def test_queue_depth_from_the_broker(client, settings, redis_url):  # noqa: F811
    import redis

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = redis_url
    redis.Redis.from_url(redis_url).rpush("celery", "m1", "m2", "m3")
    samples = _scrape(client)
    assert samples[("dealdesk_broker_up", ())] == 1
    assert samples[("dealdesk_broker_queue_depth", (("queue", "celery"),))] == 3
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    assert _scrape(client)[("dealdesk_broker_up", ())] == 0


def test_refused_webhooks_are_counted_by_vendor(client, settings):
    settings.WEBHOOK_VENDORS = {"testvendor": "tests.integrations.webhook_vendor.TestVendor"}
    key = ("dealdesk_webhook_rejects_total", (("vendor", "testvendor"),))
    before = _scrape(client).get(key, 0)
    body = json.dumps({"id": "evt_9", "type": "t"}).encode()
    refused = client.post(
        "/webhooks/testvendor/",
        body,
        content_type="application/json",
        headers={webhook_vendor.HEADER: "0" * 64},
    )
    assert refused.status_code == 400
    assert _scrape(client)[key] - before == 1


def test_several_processes_are_added_up(tmp_path):
    """gunicorn's workers (and Celery's pool processes) each write their own counters into
    PROMETHEUS_MULTIPROC_DIR; one scrape reports their sum."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    record = textwrap.dedent(
        """
        from dealdesk.ops.metrics import request_observe
        request_observe(method="GET", status=200, view="deal-list", seconds=0.05)
        """
    )
    for _ in range(3):
        subprocess.run([sys.executable, "-c", record], cwd=ROOT, env=env, check=True)  # noqa: S603
    scrape = (
        "import sys; from prometheus_client import generate_latest;"
        "from dealdesk.ops.metrics import recorded_registry;"
        "sys.stdout.buffer.write(generate_latest(recorded_registry()))"
    )
    text = subprocess.run(  # noqa: S603
        [sys.executable, "-c", scrape], cwd=ROOT, env=env, check=True, capture_output=True
    ).stdout.decode()
    key = (
        "dealdesk_http_requests_total",
        (("method", "GET"), ("status", "200"), ("view", "deal-list")),
    )
    assert _samples(text)[key] == 3


def test_a_worker_machine_serves_its_pool_processes_task_timings(tmp_path):
    """WORKER_METRICS_ADDRESS: the worker's main process serves what its pool processes
    wrote to PROMETHEUS_MULTIPROC_DIR, for a worker machine with no web process."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    record = (
        "from dealdesk.ops.metrics import TASK_SECONDS;"
        "TASK_SECONDS.labels(task='outbox.deliver', outcome='success').observe(0.2)"
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", record], cwd=ROOT, env=env, check=True)  # noqa: S603
    serve = textwrap.dedent(
        """
        import sys, urllib.request
        from dealdesk.ops.metrics import serve_worker_metrics
        server, _ = serve_worker_metrics(f"127.0.0.1:{int(sys.argv[1])}")
        port = server.server_address[1]
        sys.stdout.write(urllib.request.urlopen(f"http://127.0.0.1:{port}/").read().decode())
        server.shutdown()
        """
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    text = subprocess.run(  # noqa: S603
        [sys.executable, "-c", serve, str(port)], cwd=ROOT, env=env, check=True, capture_output=True
    ).stdout.decode()
    key = (
        "dealdesk_task_duration_seconds_count",
        (("outcome", "success"), ("task", "outbox.deliver")),
    )
    assert _samples(text)[key] == 2


@pytest.mark.parametrize(
    ("address", "multiproc", "error"),
    [
        ("9808", "var/metrics", "ops.E002"),
        ("10.0.0.5:x", "var/metrics", "ops.E002"),
        ("10.0.0.5:9808", "", "ops.E003"),
    ],
)
def test_the_worker_metrics_address_is_checked(settings, monkeypatch, address, multiproc, error):
    from dealdesk.ops.checks import worker_metrics_address

    settings.WORKER_METRICS_ADDRESS = address
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", multiproc)
    assert [e.id for e in worker_metrics_address(None)] == [error]
    settings.WORKER_METRICS_ADDRESS = ""
    assert worker_metrics_address(None) == []
