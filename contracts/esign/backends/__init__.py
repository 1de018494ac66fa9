"""E-signature backends: how a request reaches its signers and comes back executed.

`local` is our signing page with one-time links (works offline); `docusign` sends an envelope
through DocuSign; `paper` is a contract signed outside the product, uploaded by Deal Desk. A
request keeps the backend it was sent with, whatever ESIGN_BACKEND says later.
"""

from typing import Protocol

from django.contrib.auth.models import AbstractBaseUser
from django.utils.module_loading import import_string

from contracts.esign.models import SignatureRequest, Signer

BACKENDS = {
    "local": "contracts.esign.backends.local.LocalBackend",
    "docusign": "contracts.esign.backends.docusign.DocusignBackend",
    "paper": "contracts.esign.backends.paper.PaperBackend",
}


class EsignBackend(Protocol):
    def deliver(self, request: SignatureRequest, *, actor: AbstractBaseUser) -> None:
        """Ask the request's first signers to sign. Idempotent (the step may run twice)."""
        ...

    def remind(self, signer: Signer) -> None:
        """Ask `signer` again; called in the caller's transaction, so it only enqueues."""
        ...

    def executed_document(
        self, request: SignatureRequest, *, actor: AbstractBaseUser
    ) -> tuple[bytes, bytes]:
        """Every party signed: the executed PDF, and a vendor's certificate (or b"")."""
        ...

    def void(self, request: SignatureRequest) -> None:
        """The request was voided here: withdraw it at the vendor too. Idempotent."""
        ...


def backend_for(request: SignatureRequest) -> EsignBackend:
    return import_string(BACKENDS[request.backend])()


def poll_stale(*, now) -> int:
    """Requests a vendor may have finished without telling us: enqueue a poll for each."""
    from contracts.esign.backends.docusign import poll_stale_envelopes

    return poll_stale_envelopes(now=now)
