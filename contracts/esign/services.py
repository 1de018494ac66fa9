"""Every write to signature requests and signers. Each public function is one transaction
(or, where a document or a vendor call is slow, does that first and then opens one).

The flow (dealdesk/pipeline.py names the steps):
    Deal:approved ─▶ signature_send: a request for the approved version, its signers, sent
    SignatureRequest:sent ─▶ signature_deliver: the backend asks the first signers to sign
    Signer:notified ─▶ signer_email (local backend: the one-time link by e-mail)
    Signer:signed ─▶ signature_advance: the next signers are asked, or, all signed, the
        executed document is stored, the version executed and the deal signed
    a signer declines ─▶ the request is declined, the deal goes back with the reason
    Deal Desk voids, the request expires ─▶ the deal is approved again and waits for Resend
"""

import hashlib
import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from audit.actions import Action
from audit.services import audit_record, record_change
from contracts.esign import backends
from contracts.esign.errors import SignatureError
from contracts.esign.models import (
    OPEN_REQUEST_STATES,
    PENDING_SIGNER_STATES,
    Backend,
    R,
    SignatureRequest,
    Signer,
    SignerState,
)
from contracts.esign.reference_data import MANAGE_REQUESTS_PERM
from contracts.esign.selectors import COUNTERSIGNER, SigningRouteError, signing_route
from contracts.esign.signers import signers_notify
from contracts.esign.tokens import signer_for_token, signing_path
from contracts.esign.uploads import checked_pdf
from contracts.esign.wording import consent_text, language_for_country
from contracts.models import ContractVersion
from contracts.selectors import DocumentTampered, current_version, verified_document
from contracts.stored_files import deleted_on_failure
from dealdesk import services as deal_services
from dealdesk.integrations.outbox import outbox_enqueue
from dealdesk.models import Deal, DealState
from dealdesk.roles import SegregationOfDutiesError

log = logging.getLogger(__name__)

REASON_LIMIT = 2000


def _require(actor: AbstractBaseUser, what: str) -> None:
    if not actor.has_perm(MANAGE_REQUESTS_PERM):
        raise PermissionDenied(f"{actor} may not {what}")


def _reason(reason: str, what: str) -> str:
    reason = reason.strip()
    if not reason:
        raise SignatureError(f"say why: a reason is required to {what}")
    return reason[:REASON_LIMIT]


# --- sending ------------------------------------------------------------------------------


def signature_send(
    *, deal_id: int, actor: AbstractBaseUser, resend: bool = False
) -> SignatureRequest | None:
    """Send the deal's approved contract for signature (the pipeline on Deal:approved; Deal
    Desk's Send after fixing what blocked a draft, or Resend after a void or expiry).

    Idempotent: a request already out is returned as it is. The pipeline sends a version
    once; after a void or expiry only a person's Resend sends it again.
    """
    if resend:
        _require(actor, "send contracts for signature")
    deal = Deal.objects.get(pk=deal_id)
    version = current_version(deal)
    if deal.state != DealState.APPROVED or version is None or not version.is_signable:
        if resend:
            raise SignatureError(f"deal {deal} is {deal.get_state_display().lower()}: not sendable")
        return None
    # Read (and audited if altered) before the transaction, which a refusal would roll back.
    try:
        verified_document(version=version, kind="pdf", actor=actor)
        tampered = ""
    except DocumentTampered as exc:
        tampered = str(exc)
    with transaction.atomic():
        deal = Deal.objects.select_for_update().get(pk=deal_id)
        if deal.state != DealState.APPROVED:
            return None
        request = SignatureRequest.objects.filter(deal=deal, state__in=OPEN_REQUEST_STATES).first()
        if request is not None and request.state == R.SENT:
            return request
        if request is not None and request.version_id != version.pk:
            # A draft blocked on an older version (the deal was redrafted since): void it.
            stale = f"contract v{version.number} replaced v{request.version.number}"
            _finish(request, "void", Action.SIGNATURE_REQUEST_VOIDED, stale, actor=actor)
            request = None
        if request is None:
            earlier = SignatureRequest.objects.filter(version=version).exists()
            if earlier and not resend:
                return None  # voided or expired before: it waits for Deal Desk's Resend
            request = _new_request(deal, version, actor)
        if tampered:
            return _blocked(request, actor, tampered)
        try:
            route = signing_route(deal)
        except SigningRouteError as exc:
            return _blocked(request, actor, exc.reason)
        language = language_for_country(deal.account.billing_country)
        for step in route:
            Signer.objects.create(
                request=request,
                role=step.role,
                routing_order=step.routing_order,
                name=step.name,
                email=step.email,
                user_id=step.user_id,
                language="en" if step.role == COUNTERSIGNER else language,
            )
        before = {"state": request.state}
        request.send(expires_at=timezone.now() + timedelta(days=settings.ESIGN_EXPIRE_AFTER_DAYS))
        record_change(
            request,
            actor=actor,
            action=Action.SIGNATURE_REQUEST_SENT,
            before=before,
            after={"state": request.state, "expires_at": request.expires_at.isoformat()},
            data={
                "document_sha256": request.document_sha256,
                "signers": [
                    {"role": s.role, "email": s.email, "routing_order": s.routing_order}
                    for s in route
                ],
            },
            reason="resent by Deal Desk" if resend else "",
        )
        deal_services.deal_send_for_signature(
            deal_id=deal.pk, actor=actor, reason=f"sent to {len(route)} signer(s)"
        )
    return request


def _new_request(deal: Deal, version: ContractVersion, actor: AbstractBaseUser) -> SignatureRequest:
    request = SignatureRequest(
        deal=deal,
        version=version,
        backend=settings.ESIGN_BACKEND,
        routing_order=settings.ESIGN_ROUTING_ORDER,
        document_sha256=version.pdf_sha256,
        created_by=actor,
    )
    record_change(
        request,
        actor=actor,
        action=Action.SIGNATURE_REQUEST_CREATED,
        after={"state": request.state, "version": version.number, "backend": request.backend},
        data={"document_sha256": version.pdf_sha256},
    )
    return request


def _blocked(request: SignatureRequest, actor: AbstractBaseUser, reason: str) -> SignatureRequest:
    """The draft cannot go out: say why once per new reason, and tell Deal Desk."""
    if request.blocked_reason == reason:
        return request
    request.blocked_reason = reason
    record_change(request, actor=actor, action=Action.SIGNATURE_REQUEST_BLOCKED, reason=reason)
    outbox_enqueue(
        task="contracts.esign.tasks.signature_blocked_notify", args=[request.pk], obj=request
    )
    return request


def signature_deliver(*, request_id: int, actor: AbstractBaseUser) -> SignatureRequest:
    """The backend asks the request's first signers to sign (pipeline, on Request:sent)."""
    request = SignatureRequest.objects.get(pk=request_id)
    if request.state != R.SENT:
        return request
    backends.backend_for(request).deliver(request, actor=actor)
    return request


# --- the signer's side (local backend) ----------------------------------------------------


def signer_viewed(*, token: str, ip: str | None, user_agent: str) -> Signer:
    """The signer opened their link: the first opening is recorded. LinkRefused otherwise."""
    with transaction.atomic():
        signer = signer_for_token(token, now=timezone.now(), lock=True)
        if signer.state == SignerState.NOTIFIED:
            signer.view()
            record_change(
                signer,
                actor=None,
                action=Action.SIGNER_VIEWED,
                after={"state": signer.state},
                data=_evidence(signer, ip, user_agent),
            )
    return signer


def signer_sign(
    *,
    token: str,
    typed_name: str,
    consented: bool,
    drawn_signature: bytes | None,
    ip: str | None,
    user_agent: str,
) -> Signer:
    """The signer signs through their link. One signature however often the form is sent:
    the second finds the signer signed and is refused (LinkRefused "signed")."""
    typed_name = " ".join(typed_name.split())[:255]
    if not consented:
        raise SignatureError("consent")
    if not typed_name:
        raise SignatureError("typed_name")
    with transaction.atomic():
        signer = signer_for_token(token, now=timezone.now(), lock=True)
        before = {"state": signer.state}
        signer.sign(
            at=timezone.now(),
            ip=ip,
            user_agent=user_agent,
            consent_text=consent_text(signer.language),
            typed_name=typed_name,
        )
        signer.drawn_signature = drawn_signature
        record_change(
            signer,
            actor=signer.user,
            action=Action.SIGNER_SIGNED,
            before=before,
            after={"state": signer.state},
            data={
                **_evidence(signer, ip, user_agent),
                "typed_name": typed_name,
                "consent_sha256": hashlib.sha256(signer.consent_text.encode()).hexdigest(),
                "drawn_signature_sha256": (
                    hashlib.sha256(drawn_signature).hexdigest() if drawn_signature else None
                ),
                "document_sha256": signer.request.document_sha256,
            },
        )
    return signer


def signer_decline(*, token: str, reason: str, ip: str | None, user_agent: str) -> Signer:
    """The signer declines, saying why: the request ends and the deal goes back to Deal Desk."""
    reason = " ".join(reason.split())[:REASON_LIMIT]
    if not reason:
        raise SignatureError("decline_reason")
    with transaction.atomic():
        signer = signer_for_token(token, now=timezone.now(), lock=True)
        signer_declined(signer=signer, reason=reason, ip=ip, user_agent=user_agent)
    return signer


def signer_declined(
    *, signer: Signer, reason: str, ip: str | None, user_agent: str, at=None
) -> None:
    """Record a decline (any backend) in the caller's transaction, with its consequences."""
    before = {"state": signer.state}
    signer.decline(at=at or timezone.now(), reason=reason, ip=ip, user_agent=user_agent)
    record_change(
        signer,
        actor=signer.user,
        action=Action.SIGNER_DECLINED,
        before=before,
        after={"state": signer.state},
        data=_evidence(signer, ip, user_agent),
        reason=reason,
    )
    request = SignatureRequest.objects.select_for_update().get(pk=signer.request_id)
    why = f"{signer.name} ({signer.email}) declined to sign: {reason}"
    _finish(request, "decline", Action.SIGNATURE_REQUEST_DECLINED, why, actor=None)
    deal_services.deal_signature_declined(
        deal_id=request.deal_id, actor=deal_services.pipeline_user(), reason=why
    )


def _evidence(signer: Signer, ip: str | None, user_agent: str) -> dict:
    return {
        "request": str(signer.request.public_id),
        "signer": signer.email,
        "name": signer.name,
        "role": signer.role,
        "ip": ip,
        "user_agent": user_agent[:500],
    }


def _finish(
    request: SignatureRequest,
    name: str,
    action: Action,
    reason: str,
    *,
    actor: AbstractBaseUser | None,
    data: dict | None = None,
) -> None:
    before = {"state": request.state}
    getattr(request, name)(reason=reason)
    record_change(
        request,
        actor=actor,
        action=action,
        before=before,
        after={"state": request.state},
        data=data,
        reason=reason,
    )


# --- completing ---------------------------------------------------------------------------


def signature_advance(*, request_id: int, actor: AbstractBaseUser) -> SignatureRequest:
    """After a signature (pipeline, on Signer:signed): ask the next signers, or, everyone
    having signed, complete the request. Idempotent."""
    request = SignatureRequest.objects.get(pk=request_id)
    if request.state != R.SENT:
        return request
    signers = list(request.signers.all())
    if all(s.has_signed for s in signers):
        document, certificate = backends.backend_for(request).executed_document(
            request, actor=actor
        )
        return signature_complete(
            request_id=request.pk, actor=actor, document=document, certificate=certificate
        )
    with transaction.atomic():
        request = SignatureRequest.objects.select_for_update().get(pk=request_id)
        if request.state == R.SENT and request.backend == Backend.LOCAL:
            signers_notify(request=request, actor=actor)
    return request


def signature_complete(
    *, request_id: int, actor: AbstractBaseUser, document: bytes, certificate: bytes = b""
) -> SignatureRequest:
    """Store the executed document (and a vendor's certificate), hashed; the request is
    completed, the contract version executed and the deal signed, in one transaction."""
    with deleted_on_failure() as stored, transaction.atomic():
        request = (
            SignatureRequest.objects.select_for_update()
            .select_related("deal", "version")
            .get(pk=request_id)
        )
        if request.state != R.SENT:
            return request
        stem = f"{request.deal.crm_id}-v{request.version.number}-{request.public_id.hex[:12]}"
        request.executed_sha256 = hashlib.sha256(document).hexdigest()
        request.executed_pdf.save(f"{stem}-executed.pdf", ContentFile(document), save=False)
        stored.append(request.executed_pdf.name)
        if certificate:
            request.certificate_sha256 = hashlib.sha256(certificate).hexdigest()
            request.certificate_pdf.save(
                f"{stem}-certificate.pdf", ContentFile(certificate), save=False
            )
            stored.append(request.certificate_pdf.name)
        _finish(
            request,
            "complete",
            Action.SIGNATURE_REQUEST_COMPLETED,
            "every party signed",
            actor=actor,
            data={
                "file": request.executed_pdf.name,
                "sha256": request.executed_sha256,
                "document_sha256": request.document_sha256,
                "certificate_sha256": request.certificate_sha256 or None,
            },
        )
        _execute(request, actor)
    return request


def _execute(request: SignatureRequest, actor: AbstractBaseUser) -> None:
    version = ContractVersion.objects.select_for_update().get(pk=request.version_id)
    if not version.is_signable:
        raise TransitionNotAllowed(
            f"contract v{version.number} is {version.get_state_display().lower()}: "
            "only the approved version can be executed"
        )
    before = {"state": version.state}
    version.execute(reason=f"signed: request {request.public_id}")
    record_change(
        version,
        actor=actor,
        action=Action.CONTRACT_VERSION_EXECUTED,
        before=before,
        after={"state": version.state},
        data={"request": str(request.public_id), "executed_sha256": request.executed_sha256},
    )
    deal_services.deal_mark_signed(
        deal_id=request.deal_id, actor=actor, reason=f"executed contract v{version.number}"
    )


# --- Deal Desk's actions ------------------------------------------------------------------


def signature_void(
    *, request_id: int, actor: AbstractBaseUser, reason: str, action_check: bool = True
) -> SignatureRequest:
    """Deal Desk withdraws a request, saying why: the deal is approved again (Resend sends a
    new one); DocuSign's envelope is voided by the next step."""
    if action_check:
        _require(actor, "void signature requests")
    reason = _reason(reason, "void a signature request")
    with transaction.atomic():
        request = SignatureRequest.objects.select_for_update().get(pk=request_id)
        if request.state not in OPEN_REQUEST_STATES:
            raise SignatureError(f"the request is {request.get_state_display().lower()} already")
        _finish(request, "void", Action.SIGNATURE_REQUEST_VOIDED, reason, actor=actor)
        _back_to_approved(request, actor, f"signature request voided: {reason}")
    return request


def signature_vendor_voided(
    *, request: SignatureRequest, actor: AbstractBaseUser, reason: str
) -> None:
    """The vendor says the request was voided there (someone voided the envelope in
    DocuSign): the same as Deal Desk voiding it here, in the caller's transaction."""
    _finish(request, "void", Action.SIGNATURE_REQUEST_VOIDED, reason[:REASON_LIMIT], actor=actor)
    _back_to_approved(request, actor, f"signature request voided: {reason}")


def _back_to_approved(request: SignatureRequest, actor: AbstractBaseUser, reason: str) -> None:
    deal = Deal.objects.select_for_update().get(pk=request.deal_id)
    if deal.state == DealState.OUT_FOR_SIGNATURE:
        deal_services.deal_return_from_signature(deal_id=deal.pk, actor=actor, reason=reason)


@transaction.atomic
def signature_void_for_cancelled_deal(
    *, deal_id: int, actor: AbstractBaseUser
) -> SignatureRequest | None:
    """Pipeline step for a cancelled deal: its open request is voided. Idempotent."""
    deal = Deal.objects.select_for_update().get(pk=deal_id)
    request = SignatureRequest.objects.filter(deal=deal, state__in=OPEN_REQUEST_STATES).first()
    if deal.state != DealState.CANCELLED or request is None:
        return None
    request = SignatureRequest.objects.select_for_update().get(pk=request.pk)
    _finish(
        request,
        "void",
        Action.SIGNATURE_REQUEST_VOIDED,
        f"deal cancelled: {deal.state_reason}",
        actor=actor,
    )
    return request


@transaction.atomic
def signature_expire(*, request_id: int, actor: AbstractBaseUser) -> SignatureRequest | None:
    """A request past its expiry with signatures missing ends; the deal waits for Resend."""
    request = SignatureRequest.objects.select_for_update().get(pk=request_id)
    if request.state != R.SENT or request.expires_at is None or request.expires_at > timezone.now():
        return None
    missing = ", ".join(s.name for s in request.signers.all() if not s.has_signed)
    reason = f"expired on {request.expires_at:%Y-%m-%d} with no signature from {missing}"
    _finish(request, "expire", Action.SIGNATURE_REQUEST_EXPIRED, reason, actor=actor)
    _back_to_approved(request, actor, f"signature request {reason}")
    return request


def signer_remind(
    *, signer_id: int, actor: AbstractBaseUser | None, check: bool = True, at=None
) -> Signer:
    """Ask a signer again (Deal Desk's Remind, or the daily beat), by the backend's means."""
    if check:
        _require(actor, "remind signers")
    with transaction.atomic():
        signer = Signer.objects.select_for_update().select_related("request").get(pk=signer_id)
        request = signer.request
        if request.state != R.SENT or signer.state not in (
            SignerState.NOTIFIED,
            SignerState.VIEWED,
        ):
            raise SignatureError(f"{signer.name} has nothing to sign now")
        signer.reminded_at = at or timezone.now()
        record_change(
            signer,
            actor=actor,
            action=Action.SIGNER_REMINDED,
            data={"request": str(request.public_id), "email": signer.email},
            history_reason="reminded",
        )
        backends.backend_for(request).remind(signer)
    return signer


def signer_link_for_desk(*, signer_id: int, actor: AbstractBaseUser) -> str:
    """A signer's link for Deal Desk to pass on (the customer lost the e-mail); audited."""
    _require(actor, "copy signing links")
    with transaction.atomic():
        signer = Signer.objects.select_related("request").get(pk=signer_id)
        if signer.request.backend != Backend.LOCAL or not signer.link_nonce:
            raise SignatureError("this signer has no Dealdesk signing link")
        if signer.request.state != R.SENT or signer.state not in PENDING_SIGNER_STATES:
            raise SignatureError(f"{signer.name} has nothing to sign now")
        audit_record(
            actor=actor,
            obj=signer,
            action=Action.SIGNER_LINK_COPIED,
            data={"request": str(signer.request.public_id), "email": signer.email},
        )
    return settings.SITE_URL.rstrip("/") + signing_path(signer)


def signatures_sweep(*, now=None) -> dict[str, int]:
    """Beat, hourly: expire what is past its expiry, remind who has waited REMIND_AFTER days,
    poll DocuSign envelopes no event mentioned for a while."""
    now = now or timezone.now()
    counts = {"expired": 0, "reminded": 0, "polled": 0}
    actor = deal_services.pipeline_user()
    for pk in SignatureRequest.objects.filter(state=R.SENT, expires_at__lte=now).values_list(
        "pk", flat=True
    ):
        counts["expired"] += signature_expire(request_id=pk, actor=actor) is not None
    due = now - timedelta(days=settings.ESIGN_REMIND_AFTER_DAYS)
    waiting = Signer.objects.filter(
        request__state=R.SENT,
        request__backend=Backend.LOCAL,
        state__in=[SignerState.NOTIFIED, SignerState.VIEWED],
        notified_at__lte=due,
    ).exclude(reminded_at__gt=due)
    for pk in waiting.values_list("pk", flat=True):
        try:
            signer_remind(signer_id=pk, actor=actor, check=False, at=now)
        except SignatureError:
            continue  # moved on since the query
        counts["reminded"] += 1
    counts["polled"] = backends.poll_stale(now=now)
    return counts


# --- the paper path -----------------------------------------------------------------------


def signature_paper_upload(
    *, deal_id: int, actor: AbstractBaseUser, pdf: bytes, change_statement: str
) -> SignatureRequest:
    """Deal Desk uploads a contract signed outside the product (customer paper, wet ink),
    saying what differs from the approved text; Legal (not the uploader) confirms it."""
    _require(actor, "upload signed contracts")
    statement = _reason(change_statement, "upload a contract signed on paper")
    checked_pdf(pdf)
    with deleted_on_failure() as stored, transaction.atomic():
        deal = Deal.objects.select_for_update().get(pk=deal_id)
        version = current_version(deal)
        if version is None or not version.is_signable:
            raise SignatureError("only an approved contract can come back signed")
        if deal.state not in (DealState.APPROVED, DealState.OUT_FOR_SIGNATURE):
            raise SignatureError(f"deal {deal} is {deal.get_state_display().lower()}")
        for open_request in SignatureRequest.objects.select_for_update().filter(
            deal=deal, state__in=OPEN_REQUEST_STATES
        ):
            if open_request.backend == Backend.PAPER:
                raise SignatureError("a contract signed on paper already waits for Legal")
            _finish(
                open_request,
                "void",
                Action.SIGNATURE_REQUEST_VOIDED,
                "replaced by a contract signed on paper",
                actor=actor,
            )
        request = SignatureRequest(
            deal=deal,
            version=version,
            backend=Backend.PAPER,
            document_sha256=version.pdf_sha256,
            created_by=actor,
            uploaded_by=actor,
            change_statement=statement,
            executed_sha256=hashlib.sha256(pdf).hexdigest(),
        )
        stem = f"{deal.crm_id}-v{version.number}-{request.public_id.hex[:12]}"
        request.executed_pdf.save(f"{stem}-paper.pdf", ContentFile(pdf), save=False)
        stored.append(request.executed_pdf.name)
        request.send(expires_at=None)
        record_change(
            request,
            actor=actor,
            action=Action.SIGNATURE_REQUEST_PAPER_UPLOADED,
            after={"state": request.state},
            data={"file": request.executed_pdf.name, "sha256": request.executed_sha256},
            reason=statement,
        )
        if deal.state == DealState.APPROVED:
            deal_services.deal_send_for_signature(
                deal_id=deal.pk, actor=actor, reason="signed on paper: waits for Legal"
            )
    return request


def _paper_for_legal(request_id: int, actor: AbstractBaseUser) -> SignatureRequest:
    request = SignatureRequest.objects.select_for_update().select_related("deal").get(pk=request_id)
    if not actor.has_perm("contracts.review_contract"):
        raise PermissionDenied(f"{actor} may not confirm contracts signed on paper")
    if request.backend != Backend.PAPER or request.state != R.SENT:
        raise SignatureError("nothing signed on paper waits for Legal here")
    if request.uploaded_by_id == actor.pk:
        raise SegregationOfDutiesError(f"{actor} uploaded this contract and cannot confirm it")
    if request.deal.owner_id == actor.pk:
        raise SegregationOfDutiesError(f"{actor} owns deal {request.deal_id}")
    return request


def signature_paper_confirm(
    *, request_id: int, actor: AbstractBaseUser, note: str = ""
) -> SignatureRequest:
    """Legal confirms the uploaded contract matches the approved terms: the deal is signed."""
    with transaction.atomic():
        request = _paper_for_legal(request_id, actor)
        request.confirmed_by = actor
        _finish(
            request,
            "complete",
            Action.SIGNATURE_REQUEST_COMPLETED,
            note.strip()[:REASON_LIMIT] or "signed on paper; matches the approved terms",
            actor=actor,
            data={
                "file": request.executed_pdf.name,
                "sha256": request.executed_sha256,
                "document_sha256": request.document_sha256,
                "paper": True,
            },
        )
        _execute(request, actor)
    return request


def signature_paper_send_back(
    *, request_id: int, actor: AbstractBaseUser, reason: str
) -> SignatureRequest:
    """Legal finds the uploaded contract does not match: Deal Desk gets it back with why."""
    reason = _reason(reason, "send a contract signed on paper back")
    with transaction.atomic():
        request = _paper_for_legal(request_id, actor)
        _finish(request, "void", Action.SIGNATURE_REQUEST_VOIDED, reason, actor=actor)
        _back_to_approved(request, actor, f"Legal sent the signed paper back: {reason}")
    return request
