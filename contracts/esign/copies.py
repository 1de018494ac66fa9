"""A signer's copy of what they signed (ESIGN Act / eIDAS: the signer keeps a copy).

After signing, the page offers it at once; once every party signed, each signer is mailed a
link to the executed PDF. The link is signed with SECRET_KEY, read-only and lasts
COPY_LINK_DAYS; it opens only a signer who signed, and only bytes whose hash still matches.
"""

from datetime import timedelta

from django.core import signing

from contracts.esign.models import R, Signer, SignerState
from contracts.esign.selectors_desk import StoredFileTampered, executed_file
from contracts.selectors import DocumentTampered, verified_document

SALT = "contracts.esign.signed-copy"
COPY_LINK_DAYS = 90


def copy_token(signer: Signer) -> str:
    return signing.dumps({"s": signer.pk}, salt=SALT, compress=False)


def document_for_copy(token: str) -> tuple[bytes, str] | None:
    """(PDF bytes, file name) the token opens, or None."""
    try:
        data = signing.loads(token, salt=SALT, max_age=timedelta(days=COPY_LINK_DAYS))
        signer_id = int(data["s"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    signer = (
        Signer.objects.select_related("request__deal", "request__version")
        .filter(pk=signer_id, state=SignerState.SIGNED)
        .first()
    )
    if signer is None:
        return None
    request = signer.request
    stem = f"{request.deal.crm_id}-v{request.version.number}"
    if request.state == R.COMPLETED and request.executed_pdf:
        try:
            return executed_file(request=request, kind="executed"), f"{stem}-executed.pdf"
        except StoredFileTampered:
            return None
    try:
        return verified_document(version=request.version, kind="pdf", actor=None), f"{stem}.pdf"
    except DocumentTampered:
        return None
