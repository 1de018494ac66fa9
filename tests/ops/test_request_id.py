"""The request id: taken from X-Request-ID when sane, else made; returned in the response;
carried into the tasks the request enqueues and into their log lines."""

import json
import re

import pytest

from dealdesk.ops.celery_signals import PUBLISHED_AT_HEADER, _stamp_message
from dealdesk.ops.request_id import TASK_HEADER, current_request_id
from dealdesk.ops.tasks import beat_heartbeat
from tests.integration.test_celery_worker import _wait_for, redis_url, worker  # noqa: F401
from tests.integrations import webhook_vendor
from tests.ops.recording_vendor import SEEN

pytestmark = pytest.mark.django_db


def test_a_request_without_an_id_gets_one_in_the_response(client):
    answer = client.get("/login/")
    assert re.fullmatch(r"[0-9a-f]{32}", answer["X-Request-ID"])
    assert client.get("/login/")["X-Request-ID"] != answer["X-Request-ID"]


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("lb-7f3a9c.00001", True),
        ("Root=1-67891233-abcdef012345678912345678", True),
        ("two words", False),
        ('x"}, {"level": "CRITICAL', False),
        ("a" * 129, False),
    ],
)
def test_a_sane_id_from_the_proxy_is_kept_and_anything_else_replaced(client, given, kept):
    returned = client.get("/login/", HTTP_X_REQUEST_ID=given)["X-Request-ID"]
    assert (returned == given) is kept
    if not kept:
        assert re.fullmatch(r"[0-9a-f]{32}", returned)


@pytest.mark.django_db(transaction=True)
def test_the_task_a_request_enqueues_sees_its_id(client, settings):
    # A webhook is stored by the request and handled by a task enqueued when its transaction
    # commits, still inside the request (run in-process here: no broker).
    settings.WEBHOOK_VENDORS = {"recording": "tests.ops.recording_vendor.RecordingVendor"}
    SEEN.clear()
    body = json.dumps({"id": "evt_req_1", "type": "t"}).encode()
    answer = client.post(
        "/webhooks/recording/",
        body,
        content_type="application/json",
        headers={webhook_vendor.HEADER: webhook_vendor.sign(body), "X-Request-ID": "req-42"},
    )
    assert answer.status_code == 200
    assert answer["X-Request-ID"] == "req-42"
    assert SEEN == ["req-42"]
    assert current_request_id.get() is None  # nothing leaks past the request


def test_a_published_task_carries_the_id_in_its_headers():
    headers: dict = {}
    token = current_request_id.set("req-7")
    try:
        _stamp_message(headers=headers)
    finally:
        current_request_id.reset(token)
    assert headers[TASK_HEADER] == "req-7"
    assert headers[PUBLISHED_AT_HEADER] > 0
    outside: dict = {}
    _stamp_message(headers=outside)
    assert TASK_HEADER not in outside


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_task_under_the_request_id(worker):  # noqa: F811
    from dealdesk.ops.models import Heartbeat

    token = current_request_id.set("req-worker-9")
    try:
        beat_heartbeat.apply_async()
    finally:
        current_request_id.reset(token)
    _wait_for(lambda: Heartbeat.objects.exists(), 60, "the worker to run the heartbeat")
    lines = [json.loads(line) for line in worker().splitlines() if line.startswith("{")]
    done = [line for line in lines if line["message"].startswith("ops.beat_heartbeat success")]
    assert done, lines
    assert done[0]["request_id"] == "req-worker-9"
    assert done[0]["task"] == "ops.beat_heartbeat"
