"""The DocuSign client: the real docusign-esign SDK against the local fake DocuSign."""

import io
import uuid

import pytest
from pypdf import PdfReader

from contracts.esign.docusign.client import (
    REQUEST_ID_FIELD,
    TOKEN_MARGIN_SECONDS,
    WEBHOOK_PATH,
    DocusignClient,
    EnvelopeRequest,
    EnvelopeSigner,
    ensure_envelope,
)
from dealdesk.integrations.errors import IntegrationError
from dealdesk.integrations.models import IntegrationCall
from tests.contracts.fake_docusign import certificate_pdf, fake_docusign, rsa_key_pair

pytestmark = pytest.mark.django_db

PDF = certificate_pdf("stand-in for an approved contract")


@pytest.fixture
def docusign(settings, tmp_path):
    settings.SITE_URL = "https://dealdesk.example.com"
    with fake_docusign(settings, tmp_path) as fake:
        yield fake


@pytest.fixture
def ds(docusign) -> DocusignClient:
    return DocusignClient.from_settings()


def envelope_request(**fields) -> EnvelopeRequest:
    defaults = {
        "request_id": str(uuid.uuid4()),
        "document_name": "Acme order form v3.pdf",
        "pdf": PDF,
        "email_subject": "Please sign: Acme order form",
        "email_blurb": "The approved order form, for your signature.",
        "signers": [
            EnvelopeSigner("1", "Jordan Signer", "jordan@acme.example", 1, "/dd-sign-1/"),
            EnvelopeSigner("2", "Cora Finch", "cora@dealdesk.example", 2, "/dd-sign-2/"),
        ],
        "remind_after_days": 3,
        "expire_after_days": 30,
    }
    return EnvelopeRequest(**{**defaults, **fields})


def calls() -> list[tuple[str, str, str]]:
    return list(
        IntegrationCall.objects.filter(vendor="docusign")
        .order_by("pk")
        .values_list("operation", "status", "idempotency_key")
    )


def test_one_log_in_serves_many_calls(ds, docusign):
    envelope_id = ds.create_envelope(envelope_request())
    for _ in range(3):
        ds.get_envelope(envelope_id)
    DocusignClient.from_settings().get_envelope(envelope_id)  # a new client, the same token
    assert docusign.token_requests == 1


def test_a_token_about_to_expire_is_renewed_before_the_call(ds, docusign):
    docusign.token_lifetime = TOKEN_MARGIN_SECONDS  # inside the margin from the start
    envelope_id = ds.create_envelope(envelope_request())
    ds.get_envelope(envelope_id)
    assert docusign.token_requests == 2


def test_a_revoked_token_means_one_fresh_log_in_and_the_call_goes_through(ds, docusign):
    envelope_id = ds.create_envelope(envelope_request())
    docusign.revoke_tokens()
    assert ds.get_envelope(envelope_id).status == "sent"
    assert docusign.token_requests == 2


def test_a_refused_log_in_is_permanent_and_sends_nothing(settings, tmp_path):
    with fake_docusign(settings, tmp_path) as fake:
        fake.jwt_client = (*fake.jwt_client[:2], rsa_key_pair()[1])  # not our key
        with pytest.raises(IntegrationError) as refused:
            DocusignClient.from_settings().create_envelope(envelope_request())
    assert (refused.value.retryable, refused.value.code) == (False, "invalid_grant")
    assert fake.envelopes_created == 0
    assert [(op, status) for op, status, _ in calls()] == [
        ("oauth_token", "failed"),
        ("create_envelope", "failed"),
    ]


def test_not_configured_says_what_is_missing(settings):
    settings.DOCUSIGN_ACCOUNT_ID = ""
    settings.DOCUSIGN_INTEGRATION_KEY = ""
    with pytest.raises(IntegrationError, match=r"DOCUSIGN_INTEGRATION_KEY, .*ACCOUNT_ID"):
        DocusignClient.from_settings()


def test_the_envelope_carries_signers_in_order_anchored_tabs_our_id_and_the_webhook(ds, docusign):
    req = envelope_request()
    envelope_id = ds.create_envelope(req)
    stored = docusign.envelopes[envelope_id]
    assert stored["documents"]["1"]["pdf"] == PDF
    signers = stored["signers"]
    assert [(s["email"], s["routingOrder"], s["status"]) for s in signers] == [
        ("jordan@acme.example", "1", "sent"),
        ("cora@dealdesk.example", "2", "created"),  # not their turn yet
    ]
    sign_here = signers[0]["tabs"]["signHereTabs"][0]
    date_signed = signers[0]["tabs"]["dateSignedTabs"][0]
    assert (sign_here["anchorString"], sign_here["anchorIgnoreIfNotPresent"]) == (
        "/dd-sign-1/",
        "false",
    )
    assert date_signed["anchorString"] == "/dd-sign-1/"
    assert int(date_signed["anchorXOffset"]) > 0
    assert signers[1]["tabs"]["signHereTabs"][0]["anchorString"] == "/dd-sign-2/"
    assert stored["customFields"]["textCustomFields"] == [
        {"name": REQUEST_ID_FIELD, "value": req.request_id, "show": "false"}
    ]
    hook = stored["eventNotification"]
    assert hook["url"] == "https://dealdesk.example.com" + WEBHOOK_PATH
    assert (hook["includeHMAC"], hook["deliveryMode"], hook["eventData"]["format"]) == (
        "true",
        "SIM",
        "json",
    )
    assert {"envelope-completed", "envelope-voided", "recipient-declined"} <= set(hook["events"])
    assert stored["notification"]["reminders"]["reminderDelay"] == "3"
    assert stored["notification"]["expirations"]["expireAfter"] == "30"
    assert calls() == [
        ("oauth_token", "succeeded", ""),
        ("create_envelope", "succeeded", req.request_id),
    ]


def test_a_500_then_success_sends_one_envelope(ds, docusign):
    req = envelope_request()
    docusign.fail_next(1, 500, method="POST")
    with pytest.raises(IntegrationError) as failed:
        ensure_envelope(ds, req)
    assert failed.value.retryable
    assert docusign.envelopes_created == 0

    envelope_id = ensure_envelope(ds, req)
    assert list(docusign.envelopes) == [envelope_id]


def test_a_send_whose_answer_was_lost_is_adopted_on_the_retry(ds, docusign):
    req = envelope_request()
    ensure_envelope(ds, envelope_request())  # someone else's envelope, never adopted
    docusign.fail_next(1, 500, method="POST", applied=True)
    with pytest.raises(IntegrationError) as lost:
        ensure_envelope(ds, req)
    assert lost.value.retryable
    assert docusign.envelopes_created == 2  # DocuSign made it; we never heard

    envelope_id = ensure_envelope(ds, req)
    assert docusign.envelopes_created == 2
    assert docusign.envelopes[envelope_id]["customFields"]["textCustomFields"][0]["value"] == (
        req.request_id
    )
    assert [m for m, path in docusign.requests if m == "POST"] == ["POST", "POST"]


def test_429_is_retryable_after_what_docusign_asked(ds, docusign):
    envelope_id = ds.create_envelope(envelope_request())
    docusign.fail_next(1, 429, headers={"Retry-After": "17"})
    with pytest.raises(IntegrationError) as busy:
        ds.get_envelope(envelope_id)
    error = busy.value
    assert (error.retryable, error.retry_after) == (True, 17.0)
    assert error.code == "HOURLY_APIINVOCATION_LIMIT_EXCEEDED"
    assert calls()[-1][:2] == ("get_envelope", "failed_retryable")


def test_400_is_permanent_with_docusign_error_code(ds, docusign):
    bad = EnvelopeSigner("1", "No Mail", "not-an-address", 1, "/dd-sign-1/")
    with pytest.raises(IntegrationError) as refused:
        ds.create_envelope(envelope_request(signers=[bad]))
    assert (refused.value.retryable, refused.value.code) == (
        False,
        "INVALID_EMAIL_ADDRESS_FOR_RECIPIENT",
    )
    assert refused.value.retry_after is None
    assert docusign.envelopes_created == 0
    assert calls()[-1][:2] == ("create_envelope", "failed")


def test_a_timeout_is_retryable(settings, docusign):
    settings.DOCUSIGN_TIMEOUT_SECONDS = 0.3  # a float: the SDK alone would drop it
    ds = DocusignClient.from_settings()
    ds.find_envelope("warm-up")  # log in first: the stall is for the envelope call
    docusign.delay_next(1.5)
    with pytest.raises(IntegrationError) as slow:
        ds.create_envelope(envelope_request())
    assert (slow.value.retryable, slow.value.code) == (True, "network")


def test_get_envelope_follows_the_signers_in_routing_order(ds, docusign):
    envelope_id = ds.create_envelope(envelope_request())
    docusign.deliver(envelope_id, "1")
    state = ds.get_envelope(envelope_id)
    first, second = state.recipients
    assert (state.status, first.status, second.status) == ("sent", "delivered", "created")
    assert first.delivered_at is not None
    assert first.signed_at is None
    assert second.sent_at is None

    docusign.sign(envelope_id, "1", ip="203.0.113.50")
    first, second = ds.get_envelope(envelope_id).recipients
    assert (first.status, first.ip, second.status) == ("completed", "203.0.113.50", "sent")
    assert first.signed_at.tzinfo is not None
    assert second.sent_at is not None

    docusign.sign(envelope_id, "2", ip="192.0.2.8")
    state = ds.get_envelope(envelope_id)
    assert state.status == "completed"
    assert [r.ip for r in state.recipients] == ["203.0.113.50", "192.0.2.8"]


def test_a_decline_is_read_with_its_reason(ds, docusign):
    envelope_id = ds.create_envelope(envelope_request())
    docusign.decline(envelope_id, "1", "Payment terms are not what we agreed", ip="198.51.100.4")
    state = ds.get_envelope(envelope_id)
    first = state.recipients[0]
    assert (state.status, first.status) == ("declined", "declined")
    assert first.decline_reason == "Payment terms are not what we agreed"
    assert (first.ip, first.declined_at is not None) == ("198.51.100.4", True)


def test_void_and_void_again(ds, docusign):
    envelope_id = ds.create_envelope(envelope_request())
    ds.void_envelope(envelope_id, "Deal cancelled by Deal Desk")
    ds.void_envelope(envelope_id, "Deal cancelled by Deal Desk")  # a retry: already done
    state = ds.get_envelope(envelope_id)
    assert (state.status, state.voided_reason) == ("voided", "Deal cancelled by Deal Desk")


def test_a_void_without_a_reason_still_gives_docusign_one(ds, docusign):
    envelope_id = ds.create_envelope(envelope_request())
    ds.void_envelope(envelope_id, "  ")
    assert docusign.envelopes[envelope_id]["voidedReason"] == "Voided by the sender"


def test_a_completed_envelope_cannot_be_voided(ds, docusign):
    envelope_id = ds.create_envelope(envelope_request())
    docusign.sign(envelope_id, "1")
    docusign.sign(envelope_id, "2")
    with pytest.raises(IntegrationError) as refused:
        ds.void_envelope(envelope_id, "too late")
    assert (refused.value.retryable, refused.value.code) == (
        False,
        "ENVELOPE_CANNOT_VOID_INVALID_STATE",
    )
    assert docusign.envelopes[envelope_id]["status"] == "completed"


def test_downloads_the_signed_document_and_the_certificate(ds, docusign):
    envelope_id = ds.create_envelope(envelope_request())
    docusign.sign(envelope_id, "1")
    docusign.sign(envelope_id, "2")
    assert ds.download_combined(envelope_id) == PDF
    certificate = ds.download_certificate(envelope_id)
    assert len(PdfReader(io.BytesIO(certificate)).pages) == 1
    assert calls()[-2:] == [
        ("download_combined", "succeeded", envelope_id),
        ("download_certificate", "succeeded", envelope_id),
    ]


def test_an_unknown_envelope_is_a_permanent_error(ds, docusign):
    ds.find_envelope("warm-up")
    with pytest.raises(IntegrationError) as missing:
        ds.get_envelope(str(uuid.uuid4()))
    assert (missing.value.retryable, missing.value.code) == (False, "ENVELOPE_DOES_NOT_EXIST")
