"""The webhook inbox: verified on the raw body, stored once per event id, answered at once,
handled by a task once; a bad signature is refused and nothing is stored."""

import json

import pytest
import requests
from django.urls import reverse

from dealdesk.integrations.models import WebhookEvent
from tests.concurrency import at_once, raised
from tests.integrations import webhook_vendor
from tests.integrations.webhook_vendor import HEADER, sign

BODY = json.dumps({"id": "evt_0001", "type": "envelope.completed", "data": {"n": 1}}).encode()


@pytest.fixture(autouse=True)
def vendor(settings):
    settings.WEBHOOK_VENDORS = {"testvendor": "tests.integrations.webhook_vendor.TestVendor"}
    webhook_vendor.EFFECTS.clear()
    yield
    webhook_vendor.EFFECTS.clear()


def _post(client, body=BODY, signature=None):
    return client.post(
        reverse("webhook", args=["testvendor"]),
        body,
        content_type="application/json",
        headers={HEADER: signature if signature is not None else sign(body)},
    )


@pytest.mark.django_db
def test_an_event_is_stored_acknowledged_and_handled_once(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = _post(client)
        second = _post(client)
    assert (first.status_code, first.json()["duplicate"]) == (200, False)
    assert (second.status_code, second.json()["duplicate"]) == (200, True)
    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts, event.signature_verified) == ("done", 1, True)
    assert event.payload["data"] == {"n": 1}
    assert webhook_vendor.EFFECTS == ["evt_0001"]


@pytest.mark.django_db
def test_a_bad_signature_is_refused_and_nothing_is_stored(client, caplog):
    answer = _post(client, signature="0" * 64)
    assert answer.status_code == 400
    assert "signature" in answer.json()["error"]
    assert not WebhookEvent.objects.exists()
    assert webhook_vendor.EFFECTS == []
    assert any("refused" in record.getMessage() for record in caplog.records)


@pytest.mark.django_db
def test_an_unknown_vendor_is_not_found(client):
    answer = client.post(
        reverse("webhook", args=["nobody"]), b"{}", content_type="application/json"
    )
    assert answer.status_code == 404


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_hundred_duplicate_deliveries_from_20_threads_store_and_handle_one_event(live_server):
    url = live_server.url + reverse("webhook", args=["testvendor"])

    def deliver() -> list[int]:
        with requests.Session() as session:
            return [
                session.post(
                    url,
                    data=BODY,
                    headers={HEADER: sign(BODY), "Content-Type": "application/json"},
                    timeout=30,
                ).status_code
                for _ in range(5)
            ]

    outcomes = at_once(*[deliver] * 20)
    assert raised(outcomes) == []
    assert [status for answers in outcomes for status in answers] == [200] * 100, "all answered"
    event = WebhookEvent.objects.get()
    assert (event.status, event.attempts) == ("done", 1)
    assert webhook_vendor.EFFECTS == ["evt_0001"], "one effect"
