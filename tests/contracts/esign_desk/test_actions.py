"""Deal Desk's actions on the Signature panel: who may act, what each does, and refusals
shown as messages, never a 500."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from contracts.esign.models import SignatureRequest
from contracts.selectors import current_version

pytestmark = pytest.mark.django_db


def post(client, user, name, pk, data=None, **extra):
    client.force_login(user)
    return client.post(reverse(f"esign-desk:{name}", args=[pk]), data or {}, **extra)


def said(client, response) -> list[str]:
    """The messages the page an action went back to shows (and so uses up)."""
    assert response.status_code == 302
    page = client.get(response["Location"])
    return [str(m) for m in page.context["messages"]]


def open_request(deal) -> SignatureRequest:
    return SignatureRequest.objects.get(deal=deal, state__in=["draft", "sent"])


@pytest.mark.parametrize("role", ["Sales", "Auditor", "Legal", "Finance"])
def test_only_deal_desk_acts_the_others_get_403_and_nothing_happens(
    client, make_user, out_for_signature, role
):
    deal = out_for_signature()
    request = open_request(deal)
    customer = request.signers.get(role="customer")
    user = make_user(role, username=f"u_{role.lower()}")
    events = AuditEvent.objects.count()
    for name, pk, data in (
        ("remind", customer.pk, {}),
        ("link", customer.pk, {}),
        ("void", request.pk, {"reason": "x", "confirm": "1"}),
        ("send", deal.pk, {}),
        ("paper-upload", deal.pk, {"change_statement": "none"}),
    ):
        assert post(client, user, name, pk, data).status_code == 403, name
    request.refresh_from_db()
    assert request.state == "sent"
    assert AuditEvent.objects.count() == events


def test_deal_desk_reminds_a_signer(client, desk, out_for_signature):
    deal = out_for_signature()
    customer = open_request(deal).signers.get(role="customer")
    response = post(client, desk, "remind", customer.pk)
    assert response.status_code == 302
    assert response["Location"] == reverse("deal-detail", args=[deal.pk])
    assert said(client, response) == ["Jordan Signer is reminded to sign."]
    customer.refresh_from_db()
    assert customer.reminded_at is not None
    assert AuditEvent.objects.filter(action="signer.reminded", actor=desk).count() == 1


def test_reminding_a_signer_whose_turn_has_not_come_is_a_message(client, desk, out_for_signature):
    deal = out_for_signature()
    us = open_request(deal).signers.get(role="countersigner")
    response = post(client, desk, "remind", us.pk)
    assert response.status_code == 302
    assert said(client, response) == ["Cara Chen has nothing to sign now"]
    assert not AuditEvent.objects.filter(action="signer.reminded").exists()


def test_copy_link_shows_the_link_on_a_page_and_is_audited(client, desk, out_for_signature):
    deal = out_for_signature()
    customer = open_request(deal).signers.get(role="customer")
    response = post(client, desk, "link", customer.pk)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert 'value="http://testserver/contracts/esign/sign/' in html
    assert 'data-copy-from="signing-link"' in html
    event = AuditEvent.objects.get(action="signer.link_copied")
    assert event.actor == desk


def test_void_needs_a_reason_and_a_tick_then_the_deal_is_approved_and_resend_sends_again(
    client, desk, out_for_signature
):
    deal = out_for_signature()
    request = open_request(deal)
    response = post(client, desk, "void", request.pk, {"reason": "wrong signer"})
    assert said(client, response) == ["Tick the box to confirm: voiding withdraws every link."]
    response = post(client, desk, "void", request.pk, {"reason": " ", "confirm": "1"})
    assert said(client, response) == ["Say why: a reason is required."]
    request.refresh_from_db()
    assert request.state == "sent"

    response = post(client, desk, "void", request.pk, {"reason": "wrong signer", "confirm": "1"})
    assert response.status_code == 302
    request.refresh_from_db()
    deal.refresh_from_db()
    assert (request.state, request.state_reason, deal.state) == (
        "voided",
        "wrong signer",
        "approved",
    )
    html = client.get(reverse("deal-detail", args=[deal.pk])).content.decode()
    assert 'data-testid="signature-send">Resend<' in html
    assert "“wrong signer”" in html

    response = post(client, desk, "send", deal.pk)
    assert said(client, response) == [f"{deal.name}: sent for signature to 2 signer(s)."]
    deal.refresh_from_db()
    assert deal.state == "out_for_signature"
    assert SignatureRequest.objects.filter(deal=deal).count() == 2


def test_send_of_a_blocked_draft_says_what_still_blocks_it(
    client, desk, won_deal, approve, countersigner
):
    deal = won_deal()
    deal.contact_roles.all().delete()
    deal = approve(deal)
    response = post(client, desk, "send", deal.pk)
    assert response.status_code == 302
    (message,) = said(client, response)
    assert message.startswith("Not sent: Deal ")
    assert "has no customer signer" in message
    assert open_request(deal).state == "draft"


def test_a_wrong_state_is_a_message_not_a_500(client, desk, out_for_signature):
    deal = out_for_signature()
    request = open_request(deal)
    first = post(client, desk, "void", request.pk, {"reason": "first", "confirm": "1"})
    assert said(client, first)[0].startswith("Signature request voided")
    response = post(client, desk, "void", request.pk, {"reason": "again", "confirm": "1"})
    assert response.status_code == 302
    assert said(client, response) == ["The request is voided already"]


def test_the_next_page_is_followed_only_within_the_site(client, desk, out_for_signature):
    deal = out_for_signature()
    customer = open_request(deal).signers.get(role="customer")
    back = post(client, desk, "remind", customer.pk, {"next": "/signatures/?waiting=customer"})
    assert back["Location"] == "/signatures/?waiting=customer"
    evil = post(client, desk, "remind", customer.pk, {"next": "https://evil.example/"})
    assert evil["Location"] == reverse("deal-detail", args=[deal.pk])


# --- the executed files -------------------------------------------------------------------


def signed(deal, sign):
    for signer in open_request(deal).signers.order_by("routing_order"):
        signer.refresh_from_db()
        sign(signer)
    return SignatureRequest.objects.get(deal=deal, state="completed")


def test_the_executed_pdf_downloads_for_viewers_and_is_refused_once_altered(
    client, make_user, out_for_signature, sign
):
    deal = out_for_signature()
    request = signed(deal, sign)
    client.force_login(make_user("Auditor", username="audrey"))
    url = reverse("esign-desk:file", args=[request.pk, "executed"])
    response = client.get(url)
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == request.executed_sha256
    assert "attachment" in response["Content-Disposition"]
    assert (
        client.get(reverse("esign-desk:file", args=[request.pk, "certificate"])).status_code == 404
    )
    assert client.get(reverse("esign-desk:file", args=[request.pk, "other"])).status_code == 404

    path = request.executed_pdf.path
    with open(path, "r+b") as handle:  # one byte changed on disk
        handle.seek(100)
        byte = handle.read(1)
        handle.seek(100)
        handle.write(bytes([byte[0] ^ 1]))
    response = client.get(url)
    assert response.status_code == 409
    assert "is not the file that was signed" in response.content.decode()
    assert not hasattr(response, "streaming_content")


def test_sales_cannot_download(client, out_for_signature, sign):
    deal = out_for_signature()
    request = signed(deal, sign)
    client.force_login(deal.owner)
    assert client.get(reverse("esign-desk:file", args=[request.pk, "executed"])).status_code == 403


# --- the paper path -----------------------------------------------------------------------


def upload(client, desk, deal, content: bytes, name="signed.pdf", statement="Nothing changed."):
    return post(
        client,
        desk,
        "paper-upload",
        deal.pk,
        {"pdf": SimpleUploadedFile(name, content), "change_statement": statement},
    )


def test_a_paper_upload_that_is_no_pdf_is_refused_and_nothing_is_stored(
    client, desk, out_for_signature
):
    deal = out_for_signature()
    response = upload(client, desk, deal, b"<html>not a contract</html>", name="x.pdf")
    assert response.status_code == 302
    assert said(client, response) == ["The file is not a PDF."]
    assert not SignatureRequest.objects.filter(backend="paper").exists()
    assert open_request(deal).state == "sent"  # the signature request is untouched
    response = upload(client, desk, deal, b"%PDF-1.4", statement="  ")
    assert said(client, response) == [
        "Say what changed from the approved text (“nothing” if nothing did)."
    ]


def paper_deal(client, desk, out_for_signature):
    deal = out_for_signature()
    pdf = current_version(deal).pdf.read()
    response = upload(client, desk, deal, pdf, statement="Customer paper; same terms.")
    assert "Legal confirms it or sends it back" in said(client, response)[0]
    return deal, SignatureRequest.objects.get(deal=deal, backend="paper")


def test_legal_confirms_a_paper_contract_and_the_deal_is_signed(
    client, desk, approvers, out_for_signature
):
    deal, request = paper_deal(client, desk, out_for_signature)
    legal = approvers["Legal"]
    client.force_login(legal)
    html = client.get(reverse("deal-detail", args=[deal.pk])).content.decode()
    assert 'data-testid="paper-confirm"' in html
    assert "Customer paper; same terms." in html
    assert post(client, desk, "paper-confirm", request.pk).status_code == 403  # Deal Desk
    response = post(client, legal, "paper-confirm", request.pk, {"reason": "checked"})
    assert said(client, response) == [
        "Confirmed: the contract signed on paper matches the approved terms."
    ]
    deal.refresh_from_db()
    request.refresh_from_db()
    assert (deal.state, request.state, request.confirmed_by) == ("signed", "completed", legal)


def test_the_uploader_cannot_confirm_their_own_upload(client, make_user, out_for_signature):
    both = make_user("Deal Desk", "Legal", username="two_hats")
    _, request = paper_deal(client, both, out_for_signature)
    response = post(client, both, "paper-confirm", request.pk)
    assert response.status_code == 302
    assert said(client, response) == ["Two_hats uploaded this contract and cannot confirm it"]
    request.refresh_from_db()
    assert request.state == "sent"
    assert not AuditEvent.objects.filter(action="signature_request.completed").exists()


def test_legal_sends_a_paper_contract_back_with_a_reason(
    client, desk, approvers, out_for_signature
):
    deal, request = paper_deal(client, desk, out_for_signature)
    legal = approvers["Legal"]
    response = post(client, legal, "paper-send-back", request.pk, {"reason": ""})
    assert said(client, response) == ["Say why: a reason is required."]
    response = post(client, legal, "paper-send-back", request.pk, {"reason": "page 3 differs"})
    deal.refresh_from_db()
    request.refresh_from_db()
    assert (deal.state, request.state, request.state_reason) == (
        "approved",
        "voided",
        "page 3 differs",
    )
