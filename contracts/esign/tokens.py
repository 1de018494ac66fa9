"""One-time signing links of the local backend.

A link carries the signer's id and a random nonce, signed with SECRET_KEY (django.core.signing)
under a salt of its own. The link works while its signer has not signed or declined, the
request is out for signature and not past its expiry, and the nonce is still the signer's:
giving the signer a new nonce revokes every link sent before. Nothing about a link is
trusted beyond what the signature covers; the database decides the rest.
"""

import secrets

from django.core import signing
from django.urls import reverse

from contracts.esign.models import PENDING_SIGNER_STATES, R, Signer, SignerState

SALT = "contracts.esign.signing-link"


class LinkRefused(Exception):
    """The link does not open a signing page; `why` picks the words the signer reads."""

    def __init__(self, why: str, signer: Signer | None = None) -> None:
        super().__init__(why)
        self.why = why  # invalid | signed | declined | voided | expired | not_yet
        self.signer = signer


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def _signer() -> signing.Signer:
    # No timestamp: the link is the same each time it is made (the mail, Deal Desk's copy);
    # its life is the request's expiry and the nonce, both checked in the database.
    return signing.Signer(salt=SALT)


def signing_token(signer: Signer) -> str:
    return _signer().sign_object({"s": signer.pk, "n": signer.link_nonce})


def signing_path(signer: Signer) -> str:
    return reverse("esign:sign", args=[signing_token(signer)])


def signer_for_token(token: str, *, now, lock: bool = False) -> Signer:
    """The signer a token opens a signing page for, or LinkRefused saying why not."""
    try:
        data = _signer().unsign_object(token)
        signer_id, nonce = int(data["s"]), str(data["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise LinkRefused("invalid") from None
    signers = Signer.objects.select_related("request", "request__deal__account")
    if lock:
        signers = signers.select_for_update(of=("self",))
    signer = signers.filter(pk=signer_id).first()
    if signer is None or not nonce or not secrets.compare_digest(nonce, signer.link_nonce):
        raise LinkRefused("invalid")
    if signer.state == SignerState.SIGNED:
        raise LinkRefused("signed", signer)
    if signer.state == SignerState.DECLINED:
        raise LinkRefused("declined", signer)
    request = signer.request
    if request.state == R.EXPIRED or (
        request.state == R.SENT and request.expires_at and request.expires_at <= now
    ):
        raise LinkRefused("expired", signer)
    if request.state != R.SENT:
        raise LinkRefused("voided", signer)
    if signer.state not in PENDING_SIGNER_STATES or signer.state == SignerState.WAITING:
        raise LinkRefused("not_yet", signer)
    return signer
