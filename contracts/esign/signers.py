"""Whose turn it is to sign, and asking them: shared by every backend and the services."""

from django.contrib.auth.models import AbstractBaseUser

from audit.actions import Action
from audit.services import record_change
from contracts.esign.models import PENDING_SIGNER_STATES, Backend, SignatureRequest, Signer
from contracts.esign.models import SignerState as G
from contracts.esign.tokens import new_nonce


def next_signers(request: SignatureRequest) -> list[Signer]:
    """The pending signers of the lowest routing order nobody has finished: in parallel
    routing, everyone; otherwise the customer's signer(s), then us (or the other way)."""
    pending = [s for s in request.signers.all() if s.state in PENDING_SIGNER_STATES]
    if not pending:
        return []
    turn = min(s.routing_order for s in pending)
    return [s for s in pending if s.routing_order == turn]


def signers_notify(*, request: SignatureRequest, actor: AbstractBaseUser | None) -> list[Signer]:
    """Mark the signers whose turn it is as asked to sign, in the caller's transaction. On
    the local backend each gets a link secret, and the pipeline mails them the link
    (Signer:notified); DocuSign mails its own."""
    asked = []
    for signer in next_signers(request):
        if signer.state != G.WAITING:
            continue
        if request.backend == Backend.LOCAL:
            signer.link_nonce = new_nonce()
        signer.notify()
        record_change(
            signer,
            actor=actor,
            action=Action.SIGNER_NOTIFIED,
            after={"state": signer.state},
            data={"request": str(request.public_id), "email": signer.email},
        )
        asked.append(signer)
    return asked
