"""Deals a person must move on: manual review and changes requested (Deal Desk's, on the
deal page). A deal sent back by a signer's decline is the signature source's row instead."""

from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce
from django.urls import reverse

from dealdesk.models import Deal, DealState
from dealdesk.roles import Role
from inbox.sources.base import Described, Source
from inbox.sources.signatures import declined_and_waiting


class _DealState(Source):
    model = Deal
    group = Role.DEAL_DESK
    perm = "dealdesk.manage_deal"
    related = ("account",)
    state: DealState

    def since(self):
        return Coalesce(F("state_changed_at"), F("updated_at"))

    def waiting(self) -> QuerySet:
        return Deal.objects.filter(state=self.state)

    def describe(self, obj: Deal) -> Described:
        return Described(
            title=obj.name,
            subtitle=obj.account.name,
            reason=obj.state_reason or obj.get_state_display(),
            url=reverse("deal-detail", args=[obj.pk]),
            act="Deal page",
        )


class ManualReview(_DealState):
    kind = "manual_review"
    label = "Manual review"
    state = DealState.MANUAL_REVIEW


class ChangesRequested(_DealState):
    kind = "changes_requested"
    label = "Changes requested"
    state = DealState.CHANGES_REQUESTED

    def waiting(self) -> QuerySet:
        return super().waiting().exclude(declined_and_waiting(deal="pk"))
