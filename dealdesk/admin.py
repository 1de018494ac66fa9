"""Admin for configuration (catalog, accounts, patterns) and power users.

Deals and their lines are read-only here: they change only through services (the CRM sync,
the pipeline, the deal page), so the admin can never bypass pricing, history or audit.
Admin actions call the same service functions as the pages.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django_fsm import TransitionNotAllowed
from simple_history.admin import SimpleHistoryAdmin

from dealdesk import services
from dealdesk.crm.models import CrmDrift, CrmOwner, CrmWatermark, QuarantinedRecord, SyncRun
from dealdesk.models import Account, Contact, Deal, DealContact, DealLine, DealPattern, Product


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ["name", "email", "title", "crm_id"]


@admin.register(Account)
class AccountAdmin(SimpleHistoryAdmin):
    list_display = ["name", "legal_name", "crm_id", "currency", "billing_country", "msa_reference"]
    list_filter = ["currency", "billing_country"]
    search_fields = ["name", "legal_name", "crm_id", "tax_id"]
    inlines = [ContactInline]


@admin.register(Contact)
class ContactAdmin(SimpleHistoryAdmin):
    list_display = ["name", "email", "account", "title"]
    search_fields = ["name", "email", "account__name"]
    list_select_related = ["account"]
    autocomplete_fields = ["account"]


@admin.register(Product)
class ProductAdmin(SimpleHistoryAdmin):
    list_display = [
        "sku",
        "name",
        "kind",
        "billing_interval",
        "list_price",
        "floor_price",
        "currency",
        "active",
    ]
    list_filter = ["kind", "active", "currency"]
    search_fields = ["sku", "name"]


@admin.register(DealPattern)
class DealPatternAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "requires_legal_review"]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class DealLineInline(ReadOnlyInline):
    model = DealLine
    fields = [
        "product",
        "segment_index",
        "quantity",
        "list_unit_price",
        "discount_pct",
        "net_unit_price",
    ]


class DealContactInline(ReadOnlyInline):
    model = DealContact
    fields = ["contact", "role", "is_primary"]


class ReadOnlyAdmin(SimpleHistoryAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Deal)
class DealAdmin(ReadOnlyAdmin):
    list_display = ["name", "crm_id", "account", "owner", "state", "pattern", "tcv", "currency"]
    list_filter = ["state", "pattern", "currency", "billing_frequency"]
    search_fields = ["name", "crm_id", "account__name"]
    list_select_related = ["account", "owner", "pattern"]
    inlines = [DealLineInline, DealContactInline]
    actions = ["reclassify_new_deals"]

    @admin.action(description="Classify and price selected new deals", permissions=["pipeline"])
    def reclassify_new_deals(self, request, queryset) -> None:
        done = 0
        for deal in queryset.filter(state="new"):
            try:
                services.deal_classify_and_price(deal_id=deal.pk, actor=request.user)
                done += 1
            except (PermissionDenied, TransitionNotAllowed) as exc:
                self.message_user(request, f"{deal}: {exc}", messages.ERROR)
        self.message_user(request, f"{done} deal(s) classified and priced.", messages.SUCCESS)

    def has_pipeline_permission(self, request) -> bool:
        return request.user.has_perm("dealdesk.run_pipeline")


# -- CRM sync: the system's records are read-only; owners are mapped here by people. --------


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = ["pk", "started_at", "finished_at", "status", "full", "triggered_by"]
    list_filter = ["status", "full"]
    list_select_related = ["triggered_by"]


@admin.register(CrmWatermark)
class CrmWatermarkAdmin(ReadOnlyAdmin):
    list_display = ["object_name", "modstamp"]


@admin.register(QuarantinedRecord)
class QuarantinedRecordAdmin(ReadOnlyAdmin):
    list_display = ["object_name", "crm_id", "reason", "last_seen_at", "resolved_at"]
    list_filter = ["object_name", ("resolved_at", admin.EmptyFieldListFilter)]
    search_fields = ["crm_id", "reason"]


@admin.register(CrmDrift)
class CrmDriftAdmin(ReadOnlyAdmin):
    """Decided on the deal page or the CRM sync page (dealdesk/crm/services.py), never here."""

    list_display = ["deal", "status", "updated_at", "decided_by"]
    list_filter = ["status"]
    search_fields = ["deal__name", "deal__crm_id"]
    list_select_related = ["deal", "decided_by"]


@admin.register(CrmOwner)
class CrmOwnerAdmin(SimpleHistoryAdmin):
    list_display = ["salesforce_user_id", "user", "created_at"]
    list_filter = [("user", admin.EmptyFieldListFilter)]
    search_fields = ["salesforce_user_id", "user__username"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    readonly_fields = ["salesforce_user_id"]

    def has_add_permission(self, request) -> bool:
        return False  # the sync adds every owner it meets
