"""Signature rounds that ended without a signed contract and wait for Deal Desk: a signer
declined (the deal is back with changes requested), the request expired or was voided (the
deal is approved again, waiting for Resend), or a draft could not go out (blocked).

A round that ended is final (a new round is a new request), so it waits only while it is
still the deal's latest round and the deal has not moved on since.
"""

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.urls import reverse

from contracts.esign.models import R, SignatureRequest
from contracts.models import ContractVersion
from dealdesk.models import DealState
from dealdesk.roles import Role
from inbox.sources.base import Described, Source

_LATEST_ROUND = ~Exists(
    SignatureRequest.objects.filter(deal=OuterRef("deal"), pk__gt=OuterRef("pk"))
)
# Redrafted since the decline: the new version is the deal's business now, not the decline.
_NOT_REDRAFTED = ~Exists(
    ContractVersion.objects.filter(deal=OuterRef("deal"), number__gt=OuterRef("version__number"))
)
DECLINED = Q(state=R.DECLINED, deal__state=DealState.CHANGES_REQUESTED) & _NOT_REDRAFTED
ENDED = Q(state__in=[R.EXPIRED, R.VOIDED], deal__state=DealState.APPROVED)
BLOCKED = Q(state=R.DRAFT) & ~Q(blocked_reason="")


def declined_and_waiting(*, deal: str) -> Exists:
    """Whether the deal (`deal`: the outer query's deal id column) waits because a signer
    declined: that deal is this source's row, not "changes requested"."""
    return Exists(SignatureRequest.objects.filter(DECLINED, _LATEST_ROUND, deal=OuterRef(deal)))


class Signatures(Source):
    kind = "signature"
    label = "Signature declined, expired or blocked"
    group = Role.DEAL_DESK
    model = SignatureRequest
    perm = "esign.manage_signaturerequest"
    related = ("deal__account",)

    def since(self):
        return Coalesce(F("finished_at"), F("updated_at"))

    def waiting(self) -> QuerySet:
        return SignatureRequest.objects.filter((DECLINED | ENDED) & _LATEST_ROUND | BLOCKED)

    def describe(self, obj: SignatureRequest) -> Described:
        reason = obj.blocked_reason if obj.state == R.DRAFT else obj.state_reason
        state = "Blocked" if obj.state == R.DRAFT else obj.get_state_display()
        return Described(
            title=obj.deal.name,
            subtitle=f"{obj.deal.account.name} · {state}",
            reason=reason or state,
            url=reverse("deal-detail", args=[obj.deal_id]),
            act="Deal page, signature panel",
        )
