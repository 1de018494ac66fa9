"""The customer's signing page as a plain HTML form (no JavaScript): what it shows, signing,
declining, and the links that open nothing."""

import re

import pytest

from audit.models import AuditEvent
from contracts.esign.models import SignatureRequest
from contracts.esign.tokens import signing_token


@pytest.fixture
def customer(out_for_signature):
    deal = out_for_signature()
    return SignatureRequest.objects.get(deal=deal).signers.get(role="customer")


def url(signer, suffix=""):
    return f"/contracts/esign/sign/{signing_token(signer)}/{suffix}"


def test_the_page_shows_the_exact_pdf_its_hash_and_the_consent(client, customer):
    response = client.get(url(customer))
    assert response.status_code == 200
    html = response.content.decode()
    assert customer.request.document_sha256 in html
    assert html.count('data-testid="page-image"') >= 1
    assert "Consent to sign electronically" in html
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]
    image = client.get(url(customer, "page-1.png"))
    assert image["Content-Type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")
    document = client.get(url(customer, "document.pdf"))
    assert b"".join(document.streaming_content) == customer.request.version.pdf.read()
    customer.refresh_from_db()
    assert customer.state == "viewed"
    assert AuditEvent.objects.filter(action="signer.viewed").count() == 1


def test_signing_without_javascript(client, customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url(customer),
            {"typed_name": "Jordan Signer", "consent": "yes", "drawn_signature": ""},
            HTTP_USER_AGENT="NoScript/1.0",
            REMOTE_ADDR="192.0.2.44",
        )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="sign-done"' in html
    assert "Thank you" in html
    assert "once all parties have signed" in html  # our countersignature is still missing
    customer.refresh_from_db()
    assert customer.state == "signed"
    assert (customer.ip, customer.user_agent) == ("192.0.2.44", "NoScript/1.0")
    copy = re.search(r'href="(/contracts/esign/copy/[^"]+)"', response.content.decode())
    assert b"".join(client.get(copy.group(1)).streaming_content).startswith(b"%PDF")

    again = client.post(url(customer), {"typed_name": "Jordan Signer", "consent": "yes"})
    assert again.status_code == 410
    assert "already signed" in again.content.decode()
    assert AuditEvent.objects.filter(action="signer.signed").count() == 1


def test_a_missing_consent_or_name_is_said_and_nothing_is_signed(client, customer):
    response = client.post(url(customer), {"typed_name": "", "consent": "yes"})
    assert response.status_code == 400
    assert "Please type your full name." in response.content.decode()
    response = client.post(url(customer), {"typed_name": "Jordan"})
    assert "Please confirm that you agree" in response.content.decode()
    customer.refresh_from_db()
    assert customer.state != "signed"


def test_a_bad_drawing_is_refused_with_words_for_the_signer(client, customer):
    response = client.post(
        url(customer),
        {"typed_name": "Jordan", "consent": "yes", "drawn_signature": "data:image/svg+xml,<svg/>"},
    )
    assert response.status_code == 400
    assert "drawn signature could not be used" in response.content.decode()


def test_declining_needs_a_reason_and_sends_the_deal_back(
    client, customer, django_capture_on_commit_callbacks
):
    assert client.post(url(customer, "decline/"), {"reason": " "}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(customer, "decline/"), {"reason": "Price is wrong"})
    assert response.status_code == 200
    customer.request.deal.refresh_from_db()
    assert customer.request.deal.state == "changes_requested"


@pytest.mark.parametrize(
    ("token", "status", "words"),
    [("garbage", 404, "This link is not valid"), ("cut", 404, "This link is not valid")],
)
def test_a_forged_link_offers_nothing(client, customer, token, status, words):
    bad = "garbage" if token == "garbage" else signing_token(customer)[:-4]
    response = client.get(f"/contracts/esign/sign/{bad}/")
    assert response.status_code == status
    html = response.content.decode()
    assert words in html
    assert "<form" not in html
    assert client.get(f"/contracts/esign/sign/{bad}/page-1.png").status_code == 404


def test_the_page_speaks_the_accounts_language(won_deal, approve, countersigner, client, mail):
    deal = won_deal()
    deal.account.billing_country = "Germany"
    deal.account.save()
    deal = approve(deal)
    signer = SignatureRequest.objects.get(deal=deal).signers.get(role="customer")
    assert signer.language == "de"
    html = client.get(url(signer)).content.decode()
    assert '<html lang="de">' in html
    assert "Unterschreiben" in html or "Unterzeichnen" in html
    assert mail.outbox[0].to == [signer.email]
    assert "Mit freundlichen Grüßen" in mail.outbox[0].body


@pytest.fixture
def mail():
    from django.core import mail as django_mail

    return django_mail
