"""DocuSign Connect: a delivery is accepted only with a matching HMAC on its raw body, from a
configured key, fresh, and in DocuSign's JSON SIM shape; the rest is refused and not stored."""

import hashlib
import json
import uuid
from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from contracts.esign.docusign.client import DocusignClient, EnvelopeRequest, EnvelopeSigner
from contracts.esign.docusign.connect import DocusignConnect, connect_signature
from dealdesk.integrations.models import WebhookEvent
from dealdesk.integrations.views import webhook
from dealdesk.integrations.webhooks import InvalidWebhook
from tests.contracts.fake_docusign import certificate_pdf, fake_docusign

pytestmark = pytest.mark.django_db

PATH = "/contracts/esign/docusign/webhook/"


@pytest.fixture
def docusign(settings, tmp_path):
    with fake_docusign(settings, tmp_path) as fake:
        yield fake


@pytest.fixture
def envelope_id(docusign) -> str:
    """An envelope sent through the real client, so events describe a real one."""
    signer = EnvelopeSigner("1", "Jordan Signer", "jordan@acme.example", 1, "/dd-sign-1/")
    return DocusignClient.from_settings().create_envelope(
        EnvelopeRequest(
            request_id=str(uuid.uuid4()),
            document_name="Order form.pdf",
            pdf=certificate_pdf("contract"),
            email_subject="Please sign",
            email_blurb="",
            signers=[signer],
            remind_after_days=0,
            expire_after_days=30,
        )
    )


def verify(body: bytes, headers: dict[str, str]):
    request = RequestFactory().post(
        PATH, data=body, content_type="application/json", headers=headers
    )
    return DocusignConnect().verify(request)


def test_a_delivery_signed_with_the_key_is_accepted(docusign, envelope_id):
    body, headers = docusign.connect_event(envelope_id, "envelope-sent")
    event = verify(body, headers)
    assert event.type == "envelope-sent"
    assert event.payload["data"]["envelopeId"] == envelope_id
    assert event.event_id == hashlib.sha256(body).hexdigest()


def test_rotation_any_header_matching_any_configured_key_passes(settings, docusign, envelope_id):
    # DocuSign signs with the old and the new key while both exist; we may hold only the new.
    body, headers = docusign.connect_event(envelope_id, "envelope-completed", keys=["old", "new"])
    assert list(headers) == ["X-DocuSign-Signature-1", "X-DocuSign-Signature-2"]
    settings.DOCUSIGN_CONNECT_HMAC_KEYS = ["new"]
    assert verify(body, headers).type == "envelope-completed"
    # ...or we hold both while DocuSign already signs with the new one only.
    body, headers = docusign.connect_event(envelope_id, "envelope-completed", keys=["new"])
    settings.DOCUSIGN_CONNECT_HMAC_KEYS = ["old", "new"]
    assert verify(body, headers).type == "envelope-completed"


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ("forged", "signature does not match"),
        ("body_changed", "signature does not match"),
        ("no_header", "no X-DocuSign-Signature-1"),
        ("no_keys", "no DocuSign Connect HMAC key"),
    ],
)
def test_a_delivery_without_a_good_signature_is_refused(
    settings, docusign, envelope_id, tamper, message
):
    body, headers = docusign.connect_event(envelope_id, "envelope-completed")
    if tamper == "forged":
        body, headers = docusign.connect_event(envelope_id, "envelope-completed", keys=["guess"])
    elif tamper == "body_changed":
        body = body.replace(b"envelope-completed", b"envelope-declined")
    elif tamper == "no_header":
        headers = {}
    elif tamper == "no_keys":
        settings.DOCUSIGN_CONNECT_HMAC_KEYS = []
    with pytest.raises(InvalidWebhook, match=message):
        verify(body, headers)


@pytest.mark.parametrize(
    ("generated", "message"),
    [(timedelta(days=1, minutes=1), "stale"), (timedelta(minutes=-10), "future")],
)
def test_an_old_or_future_delivery_is_refused(docusign, envelope_id, generated, message):
    body, headers = docusign.connect_event(
        envelope_id, "envelope-completed", generated_at=timezone.now() - generated
    )
    with pytest.raises(InvalidWebhook, match=message):
        verify(body, headers)


def test_a_delivery_within_the_allowed_age_passes(settings, docusign, envelope_id):
    settings.DOCUSIGN_CONNECT_MAX_AGE_SECONDS = 3600
    body, headers = docusign.connect_event(
        envelope_id, "envelope-sent", generated_at=timezone.now() - timedelta(minutes=59)
    )
    assert verify(body, headers).type == "envelope-sent"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<xml>not json</xml>", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (json.dumps({"generatedDateTime": "2026-01-01T00:00:00Z"}).encode(), "no event"),
        (json.dumps({"event": "envelope-sent", "data": {}}).encode(), "no data.envelopeId"),
        (
            json.dumps({"event": "envelope-sent", "data": {"envelopeId": "e"}}).encode(),
            "generatedDateTime is missing",
        ),
        (
            json.dumps(
                {"event": "x", "data": {"envelopeId": "e"}, "generatedDateTime": "yesterday"}
            ).encode(),
            "not a time",
        ),
    ],
)
def test_a_signed_body_that_is_not_a_connect_event_is_refused(settings, body, message):
    settings.DOCUSIGN_CONNECT_HMAC_KEYS = ["k"]
    with pytest.raises(InvalidWebhook, match=message):
        verify(body, {"X-DocuSign-Signature-1": connect_signature(body, "k")})


def test_the_same_delivery_twice_is_one_inbox_row_and_a_forgery_none(
    settings, docusign, envelope_id
):
    # The inbox's own view, called directly: the URL the lead routes to it is theirs.
    settings.WEBHOOK_VENDORS = {"docusign": "contracts.esign.docusign.connect.DocusignConnect"}
    body, headers = docusign.connect_event(envelope_id, "recipient-completed", recipient_id="1")

    def post(data: bytes):
        request = RequestFactory().post(
            PATH, data=data, content_type="application/json", headers=headers
        )
        return webhook(request, vendor="docusign")

    answers = [json.loads(post(body).content) for _ in range(2)]
    assert [a["duplicate"] for a in answers] == [False, True]
    event = WebhookEvent.objects.get()
    assert (event.vendor, event.type) == ("docusign", "recipient-completed")
    assert event.event_id == verify(body, headers).event_id

    forged = post(body.replace(b"recipient-completed", b"envelope-completed"))
    assert forged.status_code in (400, 401)
    assert WebhookEvent.objects.count() == 1
