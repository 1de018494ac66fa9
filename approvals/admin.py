"""Admin: Finance edits the policy, rates and delegations; gate runs and requests are the
system's (read-only), decided from the admin only through the service's actions."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from simple_history.admin import SimpleHistoryAdmin

from approvals.models import (
    ApprovalDelegation,
    ApprovalRequest,
    ApprovalRule,
    GateRun,
    PolicyExchangeRate,
)
from approvals.services import (
    ApprovalError,
    approval_delegation_check,
    approval_delegation_create,
    approval_delegation_revoke,
    approval_request_decide,
)
from dealdesk.admin import ReadOnlyAdmin
from dealdesk.forms import ReasonForm


@admin.register(ApprovalRule)
class ApprovalRuleAdmin(SimpleHistoryAdmin):
    list_display = ["name", "step", "group", "active", "discount_pct_above", "tcv_above"]
    list_filter = ["active", "step", "group"]
    filter_horizontal = ["patterns", "clause_types"]
    search_fields = ["name"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deactivate instead: decided requests name their rules


@admin.register(PolicyExchangeRate)
class PolicyExchangeRateAdmin(SimpleHistoryAdmin):
    list_display = ["currency", "usd_per_unit", "updated_at"]


class ApprovalDelegationForm(forms.ModelForm):
    """The admin's add form: the service's rules, shown on the form before anything saves."""

    actor = None  # the admin sets the person adding it (get_form)

    class Meta:
        model = ApprovalDelegation
        fields = ["delegator", "delegate", "group", "starts_at", "ends_at", "reason"]

    def clean(self) -> dict:
        data = super().clean()
        if not self.errors:
            try:
                approval_delegation_check(**data, actor=self.actor)
            except (ApprovalError, PermissionDenied) as exc:
                raise forms.ValidationError(str(exc)) from exc
        return data


@admin.register(ApprovalDelegation)
class ApprovalDelegationAdmin(SimpleHistoryAdmin):
    """Added through approval_delegation_create, revoked through its action; never edited
    in place (a changed delegation would be one nobody agreed to)."""

    list_display = ["delegate", "delegator", "group", "starts_at", "ends_at", "revoked_at"]
    list_filter = ["group"]
    list_select_related = ["delegate", "delegator", "group"]
    actions = ["revoke_selected"]
    form = ApprovalDelegationForm

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        if obj is None:
            return []
        return [f.name for f in self.model._meta.fields]

    def save_form(self, request, form, change):
        # The service saves and audits; the admin then logs and redirects with its result.
        if change:
            raise PermissionDenied("a delegation is revoked, not edited")
        return approval_delegation_create(**form.cleaned_data, actor=request.user)

    def save_model(self, request, obj, form, change) -> None:
        pass  # saved by approval_delegation_create in save_form

    def save_related(self, request, form, formsets, change) -> None:
        pass  # a delegation has no relations of its own to save

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: decisions name the delegation's delegator

    @admin.action(description="Revoke the selected delegations", permissions=["change"])
    def revoke_selected(self, request, queryset) -> None:
        for delegation in queryset:
            try:
                approval_delegation_revoke(delegation_id=delegation.pk, actor=request.user)
                self.message_user(request, f"revoked: {delegation}")
            except (ApprovalError, PermissionDenied) as exc:
                self.message_user(request, f"{delegation}: {exc}", messages.ERROR)


@admin.register(GateRun)
class GateRunAdmin(ReadOnlyAdmin):
    list_display = ["contract_version", "passed", "created_at"]
    list_filter = ["passed"]


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    list_display = ["deal", "step", "group", "state", "decided_by", "created_at"]
    list_filter = ["state", "group"]
    list_select_related = ["deal", "group", "decided_by"]
    search_fields = ["deal__name", "deal__crm_id"]
    actions = ["approve_selected", "reject_selected"]

    def has_approve_permission(self, request) -> bool:
        return request.user.has_perm("approvals.change_approvalrequest")

    @admin.action(description="Approve the selected requests", permissions=["approve"])
    def approve_selected(self, request, queryset) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description="Reject the selected requests…", permissions=["approve"])
    def reject_selected(self, request, queryset) -> TemplateResponse | None:
        # A rejection needs its reason: Django's intermediate-page pattern. The first POST
        # (from the changelist) shows the form; its own POST ("apply") carries the reason.
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            self._decide(request, queryset, approve=False, reason=form.cleaned_data["reason"])
            return None  # back to the changelist, with a message per request
        return TemplateResponse(
            request,
            "admin/approvals/approvalrequest/reject_selected.html",
            {
                **self.admin_site.each_context(request),
                "title": "Reject the selected requests",
                "opts": self.model._meta,
                "requests": queryset.select_related("deal", "group"),
                "form": form,
                "action": "reject_selected",
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    def _decide(self, request, queryset, *, approve: bool, reason: str = "") -> None:
        # The same service as the pages: state, group, delegation and SoD checked per request.
        for approval_request in queryset:
            try:
                decided = approval_request_decide(
                    request_id=approval_request.pk,
                    actor=request.user,
                    approve=approve,
                    reason=reason,
                )
                self.message_user(request, f"{decided.state}: {approval_request}")
            except (ApprovalError, PermissionDenied) as exc:
                self.message_user(request, f"{approval_request}: {exc}", messages.ERROR)
