"""Finance's stops: billing exceptions (a signed deal nothing is invoiced for) and AR items
(a payment or invoice that did not reconcile by itself)."""

from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce
from django.urls import reverse

from billing.models import ARItem, ARState, BillingRecord, RecordState
from dealdesk.roles import Role
from dealdesk.templatetags.dealdesk import money
from inbox.sources.base import Described, Source

MANAGE_BILLING_PERM = "billing.manage_billing"


class BillingExceptions(Source):
    kind = "billing_exception"
    label = "Billing exception"
    group = Role.FINANCE
    model = BillingRecord
    perm = MANAGE_BILLING_PERM
    related = ("deal__account",)

    def since(self):
        # Stamped when the record stopped (billing/services.py, stripe_sync/records.py).
        return Coalesce(F("checked_at"), F("updated_at"))

    def waiting(self) -> QuerySet:
        return BillingRecord.objects.filter(state=RecordState.EXCEPTION)

    def describe(self, obj: BillingRecord) -> Described:
        problems = "; ".join(obj.problems) or f"{len(obj.diff)} difference(s) with the contract"
        return Described(
            title=obj.deal.name,
            subtitle=obj.deal.account.name,
            reason=problems,
            url=reverse("billing:exception", args=[obj.pk]),
            act="Billing exception",
        )


class ARItems(Source):
    kind = "ar_item"
    label = "AR item"
    group = Role.FINANCE
    model = ARItem
    perm = MANAGE_BILLING_PERM
    related = ("account",)

    def since(self):
        return F("created_at")

    def waiting(self) -> QuerySet:
        return ARItem.objects.filter(state__in=[ARState.OPEN, ARState.AWAITING_APPROVAL])

    def describe(self, obj: ARItem) -> Described:
        state = " · write-off awaiting approval" if obj.state == ARState.AWAITING_APPROVAL else ""
        return Described(
            title=f"{obj.get_reason_display()}: {money(obj.amount, obj.currency)}",
            subtitle=(obj.account.name if obj.account else "no account") + state,
            reason=obj.detail,
            url=reverse("billing:ar-item", args=[obj.pk]),
            act="AR item",
        )
