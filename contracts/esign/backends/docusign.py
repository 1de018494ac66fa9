"""The DocuSign backend: the approved PDF goes out as an envelope; DocuSign mails the signers,
places the sign-here and date tabs on the anchors our contract prints invisibly, and tells us
what happens through Connect (contracts/esign/docusign/connect.py) or, when an event is lost,
through the poll the hourly sweep starts.

We never act on an event's body: every event and poll re-reads the envelope
(`DocusignClient.get_envelope`) and applies its current state, so events that repeat or
arrive out of order change nothing twice.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from audit.actions import Action
from audit.services import record_change
from contracts.esign.docusign.client import (
    DocusignClient,
    EnvelopeRequest,
    EnvelopeSigner,
    EnvelopeState,
    ensure_envelope,
)
from contracts.esign.errors import SignatureError
from contracts.esign.models import R, SignatureRequest, Signer, SignerState
from contracts.esign.signers import signers_notify
from contracts.selectors import verified_document
from dealdesk.integrations.models import WebhookEvent
from dealdesk.integrations.outbox import outbox_enqueue

log = logging.getLogger(__name__)

# Printed in white, 1 pt, in the signature block of our order form (order_form.html).
ANCHORS = {"customer": "/dd-sign-customer/", "countersigner": "/dd-sign-us/"}
# What a DocuSign signer agreed to: DocuSign's own disclosure, accepted in its signing flow.
DOCUSIGN_CONSENT = "Accepted DocuSign's Electronic Record and Signature Disclosure"
POLL_TASK = "contracts.esign.tasks.docusign_poll"


class DocusignBackend:
    def deliver(self, request: SignatureRequest, *, actor: AbstractBaseUser) -> None:
        signers = list(request.signers.order_by("routing_order", "pk"))
        deal = request.deal
        pdf = verified_document(version=request.version, kind="pdf", actor=actor)
        envelope_id = ensure_envelope(
            DocusignClient.from_settings(),
            EnvelopeRequest(
                request_id=str(request.public_id),
                document_name=f"{deal.crm_id}-v{request.version.number}.pdf",
                pdf=pdf,
                email_subject=f"Please sign: {deal.account.legal_name} order form"[:100],
                email_blurb=f"{settings.CONTRACT_PROVIDER['name']} sends you {deal.name} to sign.",
                signers=[
                    EnvelopeSigner(
                        recipient_id=str(index),
                        name=signer.name,
                        email=signer.email,
                        routing_order=signer.routing_order,
                        anchor=ANCHORS[signer.role],
                    )
                    for index, signer in enumerate(signers, start=1)
                ],
                remind_after_days=settings.ESIGN_REMIND_AFTER_DAYS,
                expire_after_days=settings.ESIGN_EXPIRE_AFTER_DAYS,
            ),
        )
        with transaction.atomic():
            request = SignatureRequest.objects.select_for_update().get(pk=request.pk)
            if request.state != R.SENT or request.envelope_id:
                return
            for index, signer in enumerate(signers, start=1):
                Signer.objects.filter(pk=signer.pk).update(recipient_id=str(index))
            request.envelope_id = envelope_id
            request.last_vendor_event_at = timezone.now()
            request._history_user, request._change_reason = actor, "DocuSign envelope created"
            request.save()
            signers_notify(request=request, actor=actor)

    def remind(self, signer: Signer) -> None:
        raise SignatureError(
            "DocuSign reminds its signers itself "
            f"(every {settings.ESIGN_REMIND_AFTER_DAYS} days until the envelope expires)"
        )

    def executed_document(
        self, request: SignatureRequest, *, actor: AbstractBaseUser
    ) -> tuple[bytes, bytes]:
        client = DocusignClient.from_settings()
        return (
            client.download_combined(request.envelope_id),
            client.download_certificate(request.envelope_id),
        )

    def void(self, request: SignatureRequest) -> None:
        if request.envelope_id:
            DocusignClient.from_settings().void_envelope(request.envelope_id, request.state_reason)


def docusign_sync(*, request_id: int, actor: AbstractBaseUser) -> SignatureRequest:
    """Re-read the request's envelope and apply what DocuSign says now (webhook, poll)."""
    request = SignatureRequest.objects.get(pk=request_id)
    if request.state != R.SENT or not request.envelope_id:
        return request
    envelope = DocusignClient.from_settings().get_envelope(request.envelope_id)
    with transaction.atomic():
        request = SignatureRequest.objects.select_for_update().get(pk=request_id)
        if request.state == R.SENT:
            _apply(request, envelope, actor)
    return request


def _apply(request: SignatureRequest, envelope: EnvelopeState, actor: AbstractBaseUser) -> None:
    from contracts.esign.services import signature_vendor_voided, signer_declined

    signers = {s.recipient_id: s for s in request.signers.select_for_update()}
    for recipient in envelope.recipients:
        signer = signers.get(recipient.recipient_id)
        if signer is None:
            log.warning("envelope %s: unknown recipient %s", envelope.envelope_id, recipient)
            continue
        ip = recipient.ip or None
        if recipient.status == "declined" and signer.state != SignerState.DECLINED:
            signer_declined(
                signer=signer,
                reason=recipient.decline_reason or "declined in DocuSign (no reason given)",
                ip=ip,
                user_agent="DocuSign",
                at=recipient.declined_at,
            )
            return  # the request is over
        if recipient.status in ("sent", "delivered", "completed") and signer.state == "waiting":
            signer.notify()
            _record(signer, Action.SIGNER_NOTIFIED, actor)
        if recipient.delivered_at and signer.state == SignerState.NOTIFIED:
            signer.view()
            _record(signer, Action.SIGNER_VIEWED, actor, ip=ip)
        if recipient.status == "completed" and signer.state != SignerState.SIGNED:
            signer.sign(
                at=recipient.signed_at or timezone.now(),
                ip=ip,
                user_agent="DocuSign",
                consent_text=DOCUSIGN_CONSENT,
                typed_name=recipient.name,
            )
            _record(signer, Action.SIGNER_SIGNED, actor, ip=ip)
    if envelope.status == "voided":
        signature_vendor_voided(
            request=request, actor=actor, reason=envelope.voided_reason or "voided in DocuSign"
        )
        return
    request.last_vendor_event_at = timezone.now()
    request.save(update_fields=["last_vendor_event_at", "updated_at"])


def _record(signer: Signer, action: Action, actor, *, ip: str | None = None) -> None:
    record_change(
        signer,
        actor=actor,
        action=action,
        after={"state": signer.state},
        data={
            "request": str(signer.request.public_id),
            "email": signer.email,
            "ip": ip,
            "via": "DocuSign",
        },
    )


def docusign_event_handle(*, event_pk: int, actor: AbstractBaseUser) -> SignatureRequest | None:
    """A stored Connect event: find its request and sync it (the body is never trusted)."""
    event = WebhookEvent.objects.get(pk=event_pk)
    envelope_id = str((event.payload.get("data") or {}).get("envelopeId", ""))
    request = SignatureRequest.objects.filter(envelope_id=envelope_id).first()
    if request is None:
        log.warning(
            "DocuSign event %s names envelope %r we never sent", event.event_id, envelope_id
        )
        return None
    return docusign_sync(request_id=request.pk, actor=actor)


def poll_stale_envelopes(*, now) -> int:
    """Envelopes out with no news for DOCUSIGN_POLL_AFTER_HOURS are polled (a lost webhook
    never strands a deal); a poll marks the envelope heard from, so hourly sweeps poll each
    quiet envelope once per period, far inside DocuSign's polling limits."""
    quiet = SignatureRequest.objects.filter(
        state=R.SENT,
        backend="docusign",
        last_vendor_event_at__lte=now - timedelta(hours=settings.DOCUSIGN_POLL_AFTER_HOURS),
    )
    polled = 0
    with transaction.atomic():
        for request in quiet.select_for_update(skip_locked=True):
            outbox_enqueue(task=POLL_TASK, args=[request.pk], obj=request)
            SignatureRequest.objects.filter(pk=request.pk).update(last_vendor_event_at=now)
            polled += 1
    return polled
