"""Admin: legal edits the clause library and publishes template versions; versions are read-only."""

from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from contracts.models import ClauseDecision, ClauseType, ContractTemplate, ContractVersion
from contracts.services import contract_template_publish
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


@admin.register(ContractTemplate)
class ContractTemplateAdmin(SimpleHistoryAdmin):
    """Adding publishes the pattern's next version; old versions stay for their contracts."""

    list_display = ["pattern", "version", "title", "docx_filename", "created_by", "created_at"]
    list_filter = ["pattern"]
    form = TemplateUploadForm

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_changeform_initial_data(self, request):
        latest = ContractTemplate.objects.order_by("-created_at").first()
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
