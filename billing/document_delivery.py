"""What the invoice and the credit note share on their way out: the PDF drawn once, stored
with its SHA-256 and audited; the mail with it attached sent once and audited."""

import hashlib
from collections.abc import Callable

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import models, transaction

from audit.actions import Action
from audit.services import audit_record
from dealdesk.integrations.mail import send_notification


def pdf_stored_once(
    obj: models.Model,
    *,
    draw: Callable[[], bytes],
    actor: AbstractBaseUser,
    action: Action,
    reason: str,
) -> bytes:
    """The object's PDF (its `pdf` and `pdf_sha256` fields): drawn and stored the first time
    only, else read back, so every mail and download is of the one document issued."""
    if obj.pdf:
        return _read(obj)
    drawn = draw()  # outside the lock: a render takes up to a second
    with transaction.atomic():
        locked = type(obj).objects.select_for_update().get(pk=obj.pk)
        if locked.pdf:  # another run stored its own first: that one goes out
            obj.pdf, obj.pdf_sha256 = locked.pdf, locked.pdf_sha256
            return _read(obj)
        locked.pdf_sha256 = hashlib.sha256(drawn).hexdigest()
        locked.pdf.save(f"{obj.number}.pdf", ContentFile(drawn), save=False)
        locked._history_user, locked._change_reason = actor, reason
        locked.save()
        audit_record(
            actor=actor,
            obj=locked,
            action=action,
            data={"file": locked.pdf.name, "sha256": locked.pdf_sha256},
        )
    obj.pdf, obj.pdf_sha256 = locked.pdf, locked.pdf_sha256
    return drawn


def _read(obj: models.Model) -> bytes:
    with obj.pdf.open("rb") as handle:
        return handle.read()


def document_mail(
    obj: models.Model,
    pdf: bytes,
    *,
    subject: str,
    body: str,
    to: str,
    key: str,
    actor: AbstractBaseUser,
    action: Action,
) -> int:
    """Mail the PDF to the billing contact once per `key` (a second run sends nothing) and
    audit what was sent."""
    sent = send_notification(
        subject=subject,
        body=body,
        recipients=[to],
        key=key,
        attachments=[(f"{obj.number}.pdf", pdf, "application/pdf")],
    )
    if sent:
        with transaction.atomic():
            audit_record(
                actor=actor, obj=obj, action=action, data={"to": to, "sha256": obj.pdf_sha256}
            )
    return sent
