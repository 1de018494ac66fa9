"""The CRM sync's stops, Deal Desk's: records quarantined (fixed in the CRM, taken in by
the next sync) and CRM changes to deals past drafting (accepted or dismissed on the deal)."""

from urllib.parse import urlencode

from django.db.models import F, QuerySet
from django.urls import reverse

from dealdesk.crm.models import CrmDrift, QuarantinedRecord
from dealdesk.roles import Role
from inbox.sources.base import Described, Source


class CrmQuarantine(Source):
    kind = "crm_quarantine"
    label = "CRM record quarantined"
    group = Role.DEAL_DESK
    model = QuarantinedRecord
    perm = "dealdesk.run_crm_sync"

    def since(self):
        return F("first_seen_at")

    def waiting(self) -> QuerySet:
        return QuarantinedRecord.objects.filter(resolved_at__isnull=True)

    def describe(self, obj: QuarantinedRecord) -> Described:
        query = urlencode({"tab": "quarantine", "q": obj.crm_id})
        return Described(
            title=f"{obj.object_name} {obj.crm_id}",
            reason=obj.reason,
            url=f"{reverse('crm-sync')}?{query}",
            act="CRM sync",
        )


class CrmDriftSource(Source):
    kind = "crm_drift"
    label = "CRM change to decide"
    group = Role.DEAL_DESK
    model = CrmDrift
    perm = "dealdesk.decide_crm_drift"
    related = ("deal__account",)

    def since(self):
        return F("detected_at")

    def waiting(self) -> QuerySet:
        return CrmDrift.objects.filter(status=CrmDrift.Status.OPEN)

    def describe(self, obj: CrmDrift) -> Described:
        changed = ", ".join(str(change.get("what", "")) for change in obj.changes[:5])
        return Described(
            title=obj.deal.name,
            subtitle=obj.deal.account.name,
            reason=f"The CRM changed {changed or 'the deal'} after drafting",
            url=reverse("deal-detail", args=[obj.deal_id]),
            act="Deal page",
        )
