"""Admin: legal edits the clause library and publishes template versions; versions are read-only."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import PermissionDenied
from django_fsm import TransitionNotAllowed
from simple_history.admin import SimpleHistoryAdmin

from contracts.models import (
    APPROVE_TEMPLATE_PERM,
    ClauseDecision,
    ClauseType,
    ContractTemplate,
    ContractVersion,
    TemplateState,
)
from contracts.services import (
    ContractTemplateError,
    contract_template_approve,
    contract_template_check,
    contract_template_publish,
    contract_template_reject,
)
from dealdesk.admin import ReadOnlyAdmin


@admin.register(ClauseType)
class ClauseTypeAdmin(SimpleHistoryAdmin):
    list_display = ["code", "title", "banned", "needs_legal_review", "approval_group"]
    list_filter = ["banned", "needs_legal_review", "approval_group"]
    readonly_fields = ["code"]
    filter_horizontal = ["required_by_patterns"]

    def has_add_permission(self, request) -> bool:
        return False  # the taxonomy is fixed (docs/design.md); its wording is legal's

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class TemplateUploadForm(forms.ModelForm):
    docx_file = forms.FileField(label="DOCX template", help_text="A docxtpl template (.docx)")

    class Meta:
        model = ContractTemplate
        fields = ["pattern", "title", "html", "note"]

    def clean(self) -> dict:
        # Shown on the form; contract_template_publish checks the same again before it saves.
        cleaned = super().clean()
        upload = cleaned.get("docx_file")
        if upload and cleaned.get("html") is not None:
            try:
                contract_template_check(
                    title=cleaned.get("title", ""), html=cleaned["html"], docx=upload.read()
                )
            except ContractTemplateError as exc:
                raise forms.ValidationError(str(exc)) from exc
            finally:
                upload.seek(0)
        return cleaned


class TemplateDecisionForm(ActionForm):
    note = forms.CharField(
        required=False,
        label="Note (a reason to reject)",
        widget=forms.TextInput(attrs={"size": 50}),
    )


@admin.register(ContractTemplate)
class ContractTemplateAdmin(SimpleHistoryAdmin):
    """Adding publishes the pattern's next version, pending approval by a second person (Deal
    Desk, or Legal's lead, who is given "Can approve or reject a contract template version"
    on their user); old versions stay for their contracts."""

    list_display = [
        "pattern",
        "version",
        "title",
        "state",
        "created_by",
        "created_at",
        "decided_by",
        "decided_at",
    ]
    list_filter = ["state", "pattern"]
    list_select_related = ["pattern", "created_by", "decided_by"]
    form = TemplateUploadForm
    action_form = TemplateDecisionForm
    actions = ["approve_versions", "reject_versions"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_approve_permission(self, request) -> bool:
        return request.user.has_perm(APPROVE_TEMPLATE_PERM)

    def get_changeform_initial_data(self, request):
        latest = (
            ContractTemplate.objects.filter(state=TemplateState.APPROVED)
            .order_by("-created_at")
            .first()
        )
        return {"html": latest.html, "title": latest.title} if latest else {}

    def save_model(self, request, obj, form, change) -> None:
        upload = form.cleaned_data["docx_file"]
        published = contract_template_publish(
            pattern=obj.pattern,
            title=obj.title,
            html=obj.html,
            docx=upload.read(),
            docx_filename=upload.name,
            note=obj.note,
            actor=request.user,
        )
        # The admin goes on with `obj` (its log entry, its redirect): make it the saved row.
        obj.pk, obj.version, obj.created_by = published.pk, published.version, request.user

    @admin.action(description="Approve selected versions", permissions=["approve"])
    def approve_versions(self, request, queryset) -> None:
        note = request.POST.get("note", "")
        self._decide(
            request,
            queryset,
            lambda pk: contract_template_approve(template_id=pk, actor=request.user, note=note),
        )

    @admin.action(
        description="Reject selected versions (say why in the note)", permissions=["approve"]
    )
    def reject_versions(self, request, queryset) -> None:
        reason = request.POST.get("note", "")
        self._decide(
            request,
            queryset,
            lambda pk: contract_template_reject(template_id=pk, actor=request.user, reason=reason),
        )

    def _decide(self, request, queryset, decide) -> None:
        for template in queryset:
            try:
                decided = decide(template.pk)
            except (PermissionDenied, TransitionNotAllowed, ContractTemplateError) as exc:
                self.message_user(request, f"{template}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{decided}: {decided.get_state_display().lower()}")


@admin.register(ContractVersion)
class ContractVersionAdmin(ReadOnlyAdmin):
    list_display = ["deal", "number", "state", "made_by", "created_by", "created_at"]
    list_filter = ["state"]
    list_select_related = ["deal", "created_by"]
    search_fields = ["deal__name", "deal__crm_id"]


@admin.register(ClauseDecision)
class ClauseDecisionAdmin(ReadOnlyAdmin):
    list_display = ["version", "clause_index", "decided_by", "created_at"]
    list_select_related = ["version__deal", "decided_by"]
