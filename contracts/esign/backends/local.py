"""The local backend: our own signing page, each signer mailed a one-time link.

The executed PDF is the approved PDF, a certificate page of who signed when and from where,
and our PAdES seal over both (contracts/esign/executed.py).
"""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from contracts.esign.certificate_page import SignerRecord, SigningRecord
from contracts.esign.copies import copy_token
from contracts.esign.executed import executed_pdf
from contracts.esign.models import PENDING_SIGNER_STATES, Backend, R, SignatureRequest, Signer
from contracts.esign.seal_certificate import seal_identity
from contracts.esign.signers import signers_notify
from contracts.esign.tokens import signing_path
from contracts.esign.wording import words_for
from contracts.selectors import verified_document
from dealdesk.integrations.mail import send_notification
from dealdesk.integrations.outbox import outbox_enqueue

EMAIL_TASK = "contracts.esign.tasks.signer_email"


class LocalBackend:
    def deliver(self, request: SignatureRequest, *, actor: AbstractBaseUser) -> None:
        with transaction.atomic():
            request = SignatureRequest.objects.select_for_update().get(pk=request.pk)
            if request.state == R.SENT:
                signers_notify(request=request, actor=actor)

    def remind(self, signer: Signer) -> None:
        outbox_enqueue(
            task=EMAIL_TASK,
            args=[signer.pk, f"reminder-{signer.reminded_at.isoformat()}"],
            obj=signer,
        )

    def executed_document(
        self, request: SignatureRequest, *, actor: AbstractBaseUser
    ) -> tuple[bytes, bytes]:
        approved = verified_document(version=request.version, kind="pdf", actor=actor)
        signed = sorted((s for s in request.signers.all() if s.has_signed), key=_signed_at)
        record = SigningRecord(
            request_id=str(request.public_id),
            document_sha256=request.document_sha256,
            signers=tuple(
                SignerRecord(
                    name=s.name,
                    email=s.email,
                    role=s.get_role_display(),
                    signed_at=s.signed_at,
                    ip=s.ip or "not recorded",
                    user_agent=s.user_agent or "not recorded",
                    consent_text=s.consent_text,
                    typed_name=s.typed_name,
                )
                for s in signed
            ),
            completed_at=signed[-1].signed_at,
            development_seal=seal_identity().is_development,
        )
        return executed_pdf(approved, record), b""

    def void(self, request: SignatureRequest) -> None:
        """Nothing to withdraw elsewhere: the links stop working with the request."""


def _signed_at(signer: Signer):
    return signer.signed_at


def _mail_values(signer: Signer, path: str) -> dict[str, str]:
    request, deal = signer.request, signer.request.deal
    return {
        "signer_name": signer.name,
        "provider_name": settings.CONTRACT_PROVIDER["name"],
        "account_name": deal.account.legal_name,
        "contract_title": f"{deal.name} (v{request.version.number})",
        "link": settings.SITE_URL.rstrip("/") + path,
    }


def _signer(signer_id: int) -> Signer:
    return Signer.objects.select_related("request__deal__account", "request__version").get(
        pk=signer_id
    )


def signer_email_send(*, signer_id: int, kind: str = "invitation") -> int:
    """Mail a signer their link (pipeline, on Signer:notified; a reminder). Once per signer,
    link and kind: a step run twice mails nobody twice. Nothing once they have finished."""
    signer = _signer(signer_id)
    request = signer.request
    if (
        request.backend != Backend.LOCAL
        or request.state != R.SENT
        or signer.state not in PENDING_SIGNER_STATES
    ):
        return 0  # DocuSign mails its own signers; a finished signer gets nothing
    words = words_for(signer.language)
    values = {
        **_mail_values(signer, signing_path(signer)),
        "expires_on": words.date_text(timezone.localdate(request.expires_at)),
    }
    invitation = kind == "invitation"
    subject = (words.email_subject if invitation else words.reminder_subject).format(**values)
    body = (words.email_body if invitation else words.reminder_body).format(**values)
    return send_notification(
        subject=subject,
        body=body,
        recipients=[signer.email],
        key=f"esign-{signer.pk}-{signer.link_nonce}-{kind}",
    )


def signer_copy_email_send(*, signer_id: int) -> int:
    """Every party signed: mail a signer the link to their copy of the executed contract
    (the copy the consent promised). Once per signer."""
    signer = _signer(signer_id)
    if signer.request.state != R.COMPLETED or not signer.has_signed:
        return 0
    words = words_for(signer.language)
    values = _mail_values(signer, reverse("esign:copy", args=[copy_token(signer)]))
    return send_notification(
        subject=words.executed_subject.format(**values),
        body=words.executed_body.format(**values),
        recipients=[signer.email],
        key=f"esign-executed-{signer.pk}",
    )
