"""The DocuSign backend end to end: the real SDK against the fake DocuSign, Connect events
through the webhook URL and inbox, the poll that recovers a lost event."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from contracts.esign import services
from contracts.esign.models import SignatureRequest
from dealdesk.integrations.errors import IntegrationError
from dealdesk.integrations.models import IntegrationCall, WebhookEvent
from dealdesk.services import pipeline_user
from tests.contracts.fake_docusign import fake_docusign

WEBHOOK = "/contracts/esign/docusign/webhook/"


@pytest.fixture
def docusign(settings, tmp_path):
    settings.ESIGN_BACKEND = "docusign"
    with fake_docusign(settings, tmp_path) as fake:
        yield fake


@pytest.fixture
def sent(docusign, out_for_signature):
    deal = out_for_signature()
    request = SignatureRequest.objects.get(deal=deal)
    return deal, request


def post(client, fake, envelope_id, event, capture, **kwargs):
    body, headers = fake.connect_event(envelope_id, event, **kwargs)
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    with capture(execute=True):
        return client.post(WEBHOOK, body, content_type="application/json", **extra)


def test_the_envelope_goes_out_in_routing_order_with_our_request_id(sent, docusign):
    deal, request = sent
    assert deal.state == "out_for_signature"
    assert request.backend == "docusign"
    assert request.envelope_id in docusign.envelopes
    assert docusign.envelopes_created == 1
    envelope = docusign.envelopes[request.envelope_id]
    assert [(s["routingOrder"], s["email"]) for s in envelope["signers"]] == [
        ("1", request.signers.get(role="customer").email),
        ("2", "cara@dealdesk.test"),
    ]
    assert {s.recipient_id for s in request.signers.all()} == {"1", "2"}


def test_signatures_reported_by_connect_sign_the_deal_with_docusigns_documents(
    sent, docusign, client, django_capture_on_commit_callbacks
):
    deal, request = sent
    envelope_id = request.envelope_id
    docusign.sign(envelope_id, "1")
    response = post(
        client,
        docusign,
        envelope_id,
        "recipient-completed",
        django_capture_on_commit_callbacks,
        recipient_id="1",
    )
    assert response.status_code == 200
    customer = request.signers.get(role="customer")
    assert customer.state == "signed"
    assert customer.ip == "203.0.113.7"

    docusign.sign(envelope_id, "2")
    post(client, docusign, envelope_id, "envelope-completed", django_capture_on_commit_callbacks)
    deal.refresh_from_db()
    request.refresh_from_db()
    assert deal.state == "signed"
    assert request.state == "completed"
    assert request.executed_sha256 == hashlib.sha256(request.executed_pdf.read()).hexdigest()
    assert request.certificate_sha256 == hashlib.sha256(request.certificate_pdf.read()).hexdigest()


def test_the_same_event_fifty_times_has_one_effect(
    sent, docusign, client, django_capture_on_commit_callbacks
):
    _, request = sent
    docusign.sign(request.envelope_id, "1")
    body, headers = docusign.connect_event(request.envelope_id, "recipient-completed")
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    with django_capture_on_commit_callbacks(execute=True):
        answers = {
            client.post(WEBHOOK, body, content_type="application/json", **extra).status_code
            for _ in range(50)
        }
    assert answers == {200}
    assert WebhookEvent.objects.filter(vendor="docusign").count() == 1
    assert request.signers.get(role="customer").state == "signed"
    from audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="signer.signed").count() == 1


@pytest.mark.parametrize("forgery", ["wrong-key", "no-signature", "stale", "changed-body"])
def test_a_forged_or_stale_event_is_refused_401_and_stores_nothing(forgery, sent, docusign, client):
    _, request = sent
    kwargs = {
        "wrong-key": {"keys": ["not-our-key"]},
        "no-signature": {"keys": []},
        "stale": {"generated_at": timezone.now() - timedelta(days=3)},
        "changed-body": {},
    }[forgery]
    body, headers = docusign.connect_event(request.envelope_id, "envelope-completed", **kwargs)
    if forgery == "changed-body":
        body = body.replace(b"envelope-completed", b"envelope-voided")
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    response = client.post(WEBHOOK, body, content_type="application/json", **extra)
    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()


def test_a_decline_in_docusign_sends_the_deal_back(
    sent, docusign, client, django_capture_on_commit_callbacks
):
    deal, request = sent
    docusign.decline(request.envelope_id, "1", "Wrong billing entity")
    post(
        client,
        docusign,
        request.envelope_id,
        "envelope-declined",
        django_capture_on_commit_callbacks,
    )
    deal.refresh_from_db()
    assert deal.state == "changes_requested"
    assert "Wrong billing entity" in deal.state_reason


def test_a_lost_event_is_recovered_by_the_poll(
    sent, docusign, django_capture_on_commit_callbacks, settings
):
    deal, request = sent
    docusign.sign(request.envelope_id, "1")
    docusign.sign(request.envelope_id, "2")  # and no Connect event ever arrives
    later = timezone.now() + timedelta(hours=settings.DOCUSIGN_POLL_AFTER_HOURS, minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        counts = services.signatures_sweep(now=later)
    assert counts["polled"] == 1
    deal.refresh_from_db()
    assert deal.state == "signed"
    with django_capture_on_commit_callbacks(execute=True):
        assert services.signatures_sweep(now=later)["polled"] == 0


def test_a_docusign_500_then_success_makes_one_envelope(
    docusign, won_deal, approve, countersigner, django_capture_on_commit_callbacks
):
    docusign.fail_next(1, 500, applied=True, method="POST")  # created, but the answer lost
    deal = approve(won_deal())
    request = SignatureRequest.objects.get(deal=deal)
    assert not request.envelope_id  # the step failed; the outbox retries it
    with django_capture_on_commit_callbacks(execute=True):
        services.signature_deliver(request_id=request.pk, actor=pipeline_user())
    request.refresh_from_db()
    assert request.envelope_id
    assert docusign.envelopes_created == 1
    assert IntegrationCall.objects.filter(vendor="docusign", status="failed_retryable").exists()


def test_voiding_here_voids_the_envelope(
    sent, docusign, approvers, django_capture_on_commit_callbacks
):
    _, request = sent
    with django_capture_on_commit_callbacks(execute=True):
        services.signature_void(
            request_id=request.pk, actor=approvers["Deal Desk"], reason="customer asked"
        )
    envelope = docusign.envelopes[request.envelope_id]
    assert envelope["status"] == "voided"
    assert envelope["voidedReason"] == "customer asked"


def test_a_docusign_failure_is_retryable(sent, docusign):
    _, request = sent
    docusign.fail_next(1, 503)
    from contracts.esign.docusign.client import DocusignClient

    with pytest.raises(IntegrationError) as failed:
        DocusignClient.from_settings().get_envelope(request.envelope_id)
    assert failed.value.retryable


def test_the_panel_says_when_docusign_has_not_taken_the_envelope_yet(
    docusign, won_deal, approve, countersigner, approvers, client
):
    docusign.fail_next(20, 503)  # DocuSign down: the step fails and waits for its retry
    deal = approve(won_deal())
    client.force_login(approvers["Deal Desk"])
    html = client.get(f"/deals/{deal.pk}/").content.decode()
    assert 'data-testid="envelope-pending"' in html
