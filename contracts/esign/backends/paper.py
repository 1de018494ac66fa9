"""A contract signed outside the product (customer paper, wet ink): Deal Desk uploaded the
executed PDF; Legal confirms or sends it back (contracts/esign/services.py). Nothing is sent
to anyone but Legal."""

from django.contrib.auth.models import AbstractBaseUser

from contracts.esign.errors import SignatureError
from contracts.esign.models import SignatureRequest, Signer
from dealdesk.integrations.outbox import outbox_enqueue


class PaperBackend:
    def deliver(self, request: SignatureRequest, *, actor: AbstractBaseUser) -> None:
        outbox_enqueue(
            task="contracts.esign.tasks.paper_notify_legal", args=[request.pk], obj=request
        )

    def remind(self, signer: Signer) -> None:
        raise SignatureError("a contract signed on paper has no signer to remind")

    def executed_document(
        self, request: SignatureRequest, *, actor: AbstractBaseUser
    ) -> tuple[bytes, bytes]:
        raise SignatureError("a contract signed on paper is completed by Legal's confirmation")

    def void(self, request: SignatureRequest) -> None:
        """Nothing was sent anywhere."""
