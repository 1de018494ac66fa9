"""`manage.py esign_status DEAL`: the deal's signature requests, newest first, and their
signers, as JSON, with each pending signer's link on the local backend (the customer lost
the e-mail, a support call)."""

import json

from django.conf import settings
from django.core.management.base import BaseCommand
from django.core.serializers.json import DjangoJSONEncoder

from contracts.esign.models import PENDING_SIGNER_STATES, Backend, R, SignatureRequest, Signer
from contracts.esign.tokens import signing_path
from dealdesk.management.deal_argument import deal_from_argument
from dealdesk.models import Deal


def _link(request: SignatureRequest, signer: Signer) -> str | None:
    """A link that opens the signing page now: a waiting signer has none yet (their nonce
    is made when their turn comes), and a finished one's no longer works."""
    if (
        request.backend != Backend.LOCAL
        or request.state != R.SENT
        or signer.state not in PENDING_SIGNER_STATES
        or not signer.link_nonce
    ):
        return None
    return settings.SITE_URL.rstrip("/") + signing_path(signer)


def _signer(request: SignatureRequest, signer: Signer) -> dict:
    return {
        "role": signer.role,
        "routing_order": signer.routing_order,
        "name": signer.name,
        "email": signer.email,
        "state": signer.state,
        "notified_at": signer.notified_at,
        "reminded_at": signer.reminded_at,
        "viewed_at": signer.viewed_at,
        "signed_at": signer.signed_at,
        "declined_at": signer.declined_at,
        "decline_reason": signer.decline_reason,
        "link": _link(request, signer),
    }


def _request(request: SignatureRequest) -> dict:
    return {
        "id": request.pk,
        "public_id": str(request.public_id),
        "state": request.state,
        "backend": request.backend,
        "reason": request.state_reason,
        "blocked_reason": request.blocked_reason,
        "document_sha256": request.document_sha256,
        "sent_at": request.sent_at,
        "expires_at": request.expires_at,
        "finished_at": request.finished_at,
        "executed_sha256": request.executed_sha256,
        "envelope_id": request.envelope_id,
        "signers": [_signer(request, s) for s in request.signers.all()],
    }


def esign_status(deal: Deal) -> dict:
    requests = SignatureRequest.objects.filter(deal=deal).prefetch_related("signers")
    return {
        "deal": {"id": deal.pk, "crm_id": deal.crm_id, "name": deal.name, "state": deal.state},
        "signature_requests": [_request(r) for r in requests],  # newest first (Meta.ordering)
    }


class Command(BaseCommand):
    help = "Print a deal's signature requests and signers (with local signing links) as JSON."

    def add_arguments(self, parser) -> None:
        parser.add_argument("deal", help="the deal's id or CRM id")

    def handle(self, *args, deal: str, **options) -> None:
        status = esign_status(deal_from_argument(deal))
        self.stdout.write(json.dumps(status, indent=2, cls=DjangoJSONEncoder))
