"""Admin: Finance keeps the signing authority table; every change is saved and audited by
contracts.esign.authority_changes, so the admin cannot bypass its checks."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from simple_history.admin import SimpleHistoryAdmin

from contracts.esign.authority_changes import signing_authority_check, signing_authority_save
from contracts.esign.models import SigningAuthority
from dealdesk.templatetags.dealdesk import money


class SigningAuthorityForm(forms.ModelForm):
    """The service's checks, shown on the form before anything saves."""

    actor = None  # the admin sets the person editing (get_form)

    class Meta:
        model = SigningAuthority
        fields = ["user", "title", "max_tcv", "active", "valid_from", "valid_to"]

    def clean(self) -> dict:
        data = super().clean()
        holders = {
            self.instance.user_id if self.instance.pk else None,
            getattr(data.get("user"), "pk", None),
        }
        try:
            for holder_id in holders:
                signing_authority_check(
                    holder_id=holder_id, actor=self.actor, adding=self.instance.pk is None
                )
        except PermissionDenied as exc:
            raise forms.ValidationError(str(exc)) from exc
        return data


@admin.register(SigningAuthority)
class SigningAuthorityAdmin(SimpleHistoryAdmin):
    form = SigningAuthorityForm
    list_display = ["holder", "title", "limit", "active", "valid_from", "valid_to"]
    list_filter = ["active", "title"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "title"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form

    @admin.display(description="signer", ordering="user__last_name")
    def holder(self, obj: SigningAuthority) -> str:
        name = obj.user.get_full_name()
        return f"{name} ({obj.user.get_username()})" if name else obj.user.get_username()

    @admin.display(description="max TCV", ordering="max_tcv")
    def limit(self, obj: SigningAuthority) -> str:
        return "no limit" if obj.max_tcv is None else money(obj.max_tcv, obj.currency)

    def save_model(self, request, obj, form, change) -> None:
        signing_authority_save(authority=obj, actor=request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deactivate instead: signed contracts name their countersigner's row
