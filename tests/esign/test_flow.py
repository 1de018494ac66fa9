"""The signature flow on the local backend, through the real pipeline: sent in routing order,
signed, executed and sealed; declined, voided, expired; links that no longer work."""

import hashlib
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from audit.models import AuditEvent
from contracts.esign import services
from contracts.esign.executed import verify_executed_pdf
from contracts.esign.models import SignatureRequest, Signer
from contracts.esign.tokens import LinkRefused, signing_token
from contracts.models import ContractVersion
from dealdesk.services import pipeline_user


def signers_of(deal):
    request = SignatureRequest.objects.get(deal=deal, state="sent")
    return request, list(request.signers.order_by("routing_order", "pk"))


def test_an_approved_deal_goes_out_and_every_party_signs_in_order(
    out_for_signature, sign, django_capture_on_commit_callbacks
):
    deal = out_for_signature()
    assert deal.state == "out_for_signature"
    request, (customer, us) = signers_of(deal)
    assert request.document_sha256 == request.version.pdf_sha256
    assert (customer.role, customer.state) == ("customer", "notified")
    assert (us.role, us.state) == ("countersigner", "waiting")  # customer first
    assert [m.to for m in mail.outbox if "sign" in m.subject.lower()] == [[customer.email]]
    link = f"http://testserver/contracts/esign/sign/{signing_token(customer)}/"
    assert link in mail.outbox[-1].body

    sign(customer)
    us.refresh_from_db()
    assert us.state == "notified"  # now our turn
    assert mail.outbox[-1].to == ["cara@dealdesk.test"]

    sign(us)
    deal.refresh_from_db()
    request.refresh_from_db()
    assert deal.state == "signed"
    assert request.state == "completed"
    assert ContractVersion.objects.get(pk=request.version_id).state == "executed"
    executed = request.executed_pdf.read()
    assert hashlib.sha256(executed).hexdigest() == request.executed_sha256
    assert verify_executed_pdf(executed, expected_document_sha256=request.document_sha256) == []
    copies = [m for m in mail.outbox if m.subject.startswith("[Dealdesk] Signed by all parties")]
    assert sorted(m.to[0] for m in copies) == sorted([customer.email, "cara@dealdesk.test"])
    assert "/contracts/esign/copy/" in copies[0].body
    completed = AuditEvent.objects.get(action="signature_request.completed")
    assert completed.data["sha256"] == request.executed_sha256
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "signature_request.sent",
        "signer.notified",
        "signer.signed",
        "contract_version.executed",
        "deal.sent_for_signature",
        "deal.signed",
    } <= actions


def test_a_signature_records_ip_user_agent_and_consent(
    out_for_signature, sign, django_capture_on_commit_callbacks
):
    deal = out_for_signature()
    _, (customer, _) = signers_of(deal)
    sign(customer, name="  Jordan   Signer ", user_agent="pytest-browser/1.0")
    customer.refresh_from_db()
    assert customer.state == "signed"
    assert customer.ip == "203.0.113.7"
    assert customer.user_agent == "pytest-browser/1.0"
    assert customer.typed_name == "Jordan Signer"
    assert customer.consent_text
    event = AuditEvent.objects.get(action="signer.signed")
    assert event.data["ip"] == "203.0.113.7"
    assert event.data["document_sha256"] == customer.request.document_sha256


def test_the_same_link_signs_once(out_for_signature, sign, django_capture_on_commit_callbacks):
    deal = out_for_signature()
    _, (customer, _) = signers_of(deal)
    sign(customer)
    with pytest.raises(LinkRefused) as refused:
        sign(customer)
    assert refused.value.why == "signed"
    assert AuditEvent.objects.filter(action="signer.signed").count() == 1


@pytest.mark.parametrize("tamper", ["garbage", "other-signer", "old-nonce", "cut"])
def test_a_forged_or_revoked_link_is_refused_and_records_nothing(
    tamper, out_for_signature, django_capture_on_commit_callbacks
):
    deal = out_for_signature()
    _, (customer, us) = signers_of(deal)
    token = {
        "garbage": "not-a-token",
        "other-signer": signing_token(us),  # not asked yet: it has no link secret
        "old-nonce": signing_token(customer),
        "cut": signing_token(customer)[:-3],
    }[tamper]
    if tamper == "old-nonce":
        Signer.objects.filter(pk=customer.pk).update(link_nonce="rotated")
    before = AuditEvent.objects.count()
    with pytest.raises(LinkRefused) as refused:
        services.signer_sign(
            token=token,
            typed_name="X",
            consented=True,
            drawn_signature=None,
            ip=None,
            user_agent="",
        )
    assert refused.value.why == "invalid"
    assert AuditEvent.objects.count() == before
    assert not Signer.objects.filter(state="signed").exists()


def test_an_expired_link_is_refused(out_for_signature):
    deal = out_for_signature()
    request, (customer, _) = signers_of(deal)
    SignatureRequest.objects.filter(pk=request.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    with pytest.raises(LinkRefused) as refused:
        services.signer_viewed(token=signing_token(customer), ip=None, user_agent="")
    assert refused.value.why == "expired"


def test_consent_and_a_typed_name_are_required(out_for_signature):
    deal = out_for_signature()
    _, (customer, _) = signers_of(deal)
    for consented, name, missing in ((False, "Jordan", "consent"), (True, "  ", "typed_name")):
        with pytest.raises(services.SignatureError, match=missing):
            services.signer_sign(
                token=signing_token(customer),
                typed_name=name,
                consented=consented,
                drawn_signature=None,
                ip=None,
                user_agent="",
            )
    customer.refresh_from_db()
    assert customer.state == "notified"


def test_a_decline_sends_the_deal_back_with_the_reason(
    out_for_signature, django_capture_on_commit_callbacks
):
    deal = out_for_signature()
    request, (customer, _) = signers_of(deal)
    with django_capture_on_commit_callbacks(execute=True):
        services.signer_decline(
            token=signing_token(customer),
            reason="Liability cap too low",
            ip="198.51.100.2",
            user_agent="ua",
        )
    deal.refresh_from_db()
    request.refresh_from_db()
    assert request.state == "declined"
    assert deal.state == "changes_requested"
    assert "Liability cap too low" in deal.state_reason
    assert "Jordan Signer" in deal.state_reason
    assert AuditEvent.objects.filter(action="deal.signature_declined").count() == 1


def test_void_returns_the_deal_to_approved_and_only_resend_sends_again(
    out_for_signature, approvers, django_capture_on_commit_callbacks
):
    deal = out_for_signature()
    request, (customer, _) = signers_of(deal)
    desk = approvers["Deal Desk"]
    with django_capture_on_commit_callbacks(execute=True):
        services.signature_void(request_id=request.pk, actor=desk, reason="wrong signer")
    deal.refresh_from_db()
    assert deal.state == "approved"
    assert "wrong signer" in deal.state_reason
    with pytest.raises(LinkRefused) as refused:
        services.signer_viewed(token=signing_token(customer), ip=None, user_agent="")
    assert refused.value.why == "voided"
    # The pipeline's step on approved ran again: it does not send a voided version by itself.
    assert SignatureRequest.objects.filter(deal=deal).count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        again = services.signature_send(deal_id=deal.pk, actor=desk, resend=True)
    deal.refresh_from_db()
    assert again.pk != request.pk
    assert again.state == "sent"
    assert deal.state == "out_for_signature"


def test_void_needs_deal_desk_and_a_reason(out_for_signature, approvers, make_user):
    deal = out_for_signature()
    request, _ = signers_of(deal)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.signature_void(request_id=request.pk, actor=make_user("Sales"), reason="x")
    with pytest.raises(services.SignatureError, match="reason"):
        services.signature_void(request_id=request.pk, actor=approvers["Deal Desk"], reason=" ")


def test_the_sweep_reminds_then_expires(
    out_for_signature, settings, django_capture_on_commit_callbacks
):
    deal = out_for_signature()
    request, (customer, _) = signers_of(deal)
    later = timezone.now() + timedelta(days=settings.ESIGN_REMIND_AFTER_DAYS, minutes=1)
    sent = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        counts = services.signatures_sweep(now=later)
    assert counts["reminded"] == 1
    assert len(mail.outbox) == sent + 1
    assert mail.outbox[-1].to == [customer.email]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.signatures_sweep(now=later)["reminded"] == 0  # not twice a period

    SignatureRequest.objects.filter(pk=request.pk).update(expires_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        counts = services.signatures_sweep()
    deal.refresh_from_db()
    request.refresh_from_db()
    assert counts["expired"] == 1
    assert request.state == "expired"
    assert deal.state == "approved"
    assert "expired" in deal.state_reason


def test_a_deal_without_a_customer_signer_waits_with_the_reason(won_deal, approve, countersigner):
    deal = won_deal()
    deal.contact_roles.all().delete()
    deal = approve(deal)
    assert deal.state == "approved"
    request = SignatureRequest.objects.get(deal=deal)
    assert request.state == "draft"
    assert "no customer signer" in request.blocked_reason
    assert AuditEvent.objects.filter(action="signature_request.blocked").count() == 1


def test_no_countersigner_with_authority_blocks_the_send(won_deal, approve):
    deal = approve(won_deal())
    request = SignatureRequest.objects.get(deal=deal)
    assert request.state == "draft"
    assert "signing authority" in request.blocked_reason


def test_the_approved_pdf_altered_on_disk_is_not_sent(
    won_deal, approvers, countersigner, django_capture_on_commit_callbacks
):
    from contracts import services as contracts
    from contracts.selectors import current_version

    deal = won_deal()
    version = current_version(deal)
    with open(version.pdf.path, "ab") as handle:
        handle.write(b"%tampered")
    with django_capture_on_commit_callbacks(execute=True):
        contracts.contract_approve(version_id=version.pk, actor=approvers["Legal"])
    deal.refresh_from_db()
    assert deal.state == "approved"
    request = SignatureRequest.objects.get(deal=deal)
    assert request.state == "draft"
    assert "not the document that was generated" in request.blocked_reason
    assert not Signer.objects.exists()
    assert AuditEvent.objects.filter(action="contract_version.document_tampered").exists()


def test_sending_twice_makes_one_request(out_for_signature):
    deal = out_for_signature()
    first = SignatureRequest.objects.get(deal=deal)
    again = services.signature_send(deal_id=deal.pk, actor=pipeline_user())
    assert again is None or again.pk == first.pk
    assert SignatureRequest.objects.filter(deal=deal).count() == 1


def test_a_cancelled_deal_voids_its_request(
    out_for_signature, approvers, django_capture_on_commit_callbacks
):
    from dealdesk.services import deal_cancel

    deal = out_for_signature()
    with django_capture_on_commit_callbacks(execute=True):
        deal_cancel(deal_id=deal.pk, actor=approvers["Deal Desk"], reason="customer withdrew")
    request = SignatureRequest.objects.get(deal=deal)
    assert request.state == "voided"
    assert "customer withdrew" in request.state_reason


def test_parallel_routing_asks_everyone_at_once(won_deal, approve, countersigner, settings):
    settings.ESIGN_ROUTING_ORDER = "parallel"
    deal = approve(won_deal())
    _, signers = signers_of(deal)
    assert {s.state for s in signers} == {"notified"}


def test_a_draft_blocked_on_an_older_version_gives_way_to_the_new_one(
    won_deal, approve, countersigner, approvers, django_capture_on_commit_callbacks
):
    from contracts.selectors import current_version
    from dealdesk.models import DealContact
    from dealdesk.services import deal_redraft, deal_request_changes
    from tests.dealdesk.factories import ContactFactory

    deal = won_deal()
    deal.contact_roles.all().delete()  # no customer signer: the request is blocked
    deal = approve(deal)
    blocked = SignatureRequest.objects.get(deal=deal)
    desk = approvers["Deal Desk"]
    DealContact.objects.create(
        deal=deal, contact=ContactFactory(account=deal.account), role="Signer", is_primary=True
    )
    with django_capture_on_commit_callbacks(execute=True):
        deal_request_changes(deal_id=deal.pk, actor=desk, reason="add the signer, redraft")
        deal_redraft(deal_id=deal.pk, actor=desk, reason="signer added")
    deal.refresh_from_db()
    if deal.state == "in_review":  # Legal reads v2 again
        deal = approve(deal)
    blocked.refresh_from_db()
    assert blocked.state == "voided"
    assert "replaced v1" in blocked.state_reason
    fresh = SignatureRequest.objects.get(deal=deal, state="sent")
    assert fresh.version == current_version(deal)


def test_a_deal_needing_no_legal_review_is_signed_on_its_draft(
    won_deal, sign, countersigner, django_capture_on_commit_callbacks
):
    """Standard paper: no legal review, so the deal's approval approves the draft as it is;
    that draft is what goes out and what is executed."""
    deal = won_deal(notes="Standard paper, Net 30", payment_terms=30)
    request = SignatureRequest.objects.get(deal=deal)
    assert request.version.state == "draft"
    assert not request.version.review_reasons
    for signer in request.signers.order_by("routing_order"):
        sign(signer)
    deal.refresh_from_db()
    assert deal.state == "signed"
    assert ContractVersion.objects.get(pk=request.version_id).state == "executed"
