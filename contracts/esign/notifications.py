"""Telling people about signatures: Deal Desk when a request cannot go out, Legal when a
contract signed on paper waits for their confirmation, the deal's owner and every signer
when it is signed (the bell and one e-mail each)."""

import hashlib

from contracts.esign.backends.local import signer_copy_email_send
from contracts.esign.models import Backend, R, SignatureRequest
from dealdesk.models import Notification
from dealdesk.notifications import notify
from dealdesk.roles import Role, role_members


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def signature_blocked_notify(*, request_id: int) -> int:
    request = SignatureRequest.objects.select_related("deal").get(pk=request_id)
    if not request.blocked_reason:
        return 0
    return notify(
        recipients=role_members(Role.DEAL_DESK),
        deal=request.deal,
        kind=Notification.Kind.DEAL_WAITS_FOR_DESK,
        key=f"esign-blocked-{request.pk}-{_short_hash(request.blocked_reason)}",
        subject=f"Cannot go for signature: {request.deal.name}",
        headline=f"{request.deal.name} cannot go for signature",
        details=[request.blocked_reason],
    )


def paper_notify_legal(*, request_id: int) -> int:
    request = SignatureRequest.objects.select_related("deal", "uploaded_by").get(pk=request_id)
    uploader = request.uploaded_by.get_full_name() or request.uploaded_by.get_username()
    return notify(
        recipients=[p for p in role_members(Role.LEGAL) if p.pk != request.uploaded_by_id],
        deal=request.deal,
        kind=Notification.Kind.PAPER_TO_CONFIRM,
        key=f"esign-paper-{request.pk}",
        subject=f"Signed contract to confirm: {request.deal.name}",
        headline=f"{request.deal.name}: a contract signed on paper waits for Legal",
        details=[f"Uploaded by {uploader}. What changed: {request.change_statement}"],
    )


def signature_completed_notify(*, request_id: int) -> int:
    """Every party signed: each signer gets their copy (DocuSign mails its own), the deal's
    owner hears it under the bell."""
    request = SignatureRequest.objects.select_related("deal__owner").get(pk=request_id)
    if request.state != R.COMPLETED:
        return 0
    sent = 0
    if request.backend == Backend.LOCAL:
        for signer_id in request.signers.values_list("pk", flat=True):
            sent += signer_copy_email_send(signer_id=signer_id)
    deal = request.deal
    return sent + notify(
        recipients=[deal.owner] if deal.owner.is_active else [],
        deal=deal,
        kind=Notification.Kind.SIGNATURE,
        key=f"esign-completed-{request.pk}",
        subject=f"Signed: {deal.name}",
        headline=f"{deal.name} is signed by every party",
        details=[f"Executed contract v{request.version.number}, SHA-256 {request.executed_sha256}"],
    )
