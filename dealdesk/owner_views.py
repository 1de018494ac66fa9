"""Deal Desk names a deal's owner (the deal page's approvals card offers it when the CRM
owner maps to no Dealdesk user)."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from dealdesk.forms import first_error, reason_field
from dealdesk.models import MANAGE_PERM
from dealdesk.services import ReasonRequired, deal_assign_owner


class OwnerForm(forms.Form):
    owner = forms.ModelChoiceField(
        queryset=get_user_model()
        .objects.filter(is_active=True)
        .exclude(username__in=[settings.CRM_SYNC_USERNAME, settings.PIPELINE_USERNAME])
        .order_by("username"),
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    reason = reason_field()


@require_POST
@permission_required(MANAGE_PERM, raise_exception=True)
def deal_owner_assign(request: HttpRequest, pk: int) -> HttpResponse:
    form = OwnerForm(request.POST)
    if not form.is_valid():
        messages.error(request, first_error(form))
        return redirect("deal-detail", pk)
    try:
        deal_assign_owner(deal_id=pk, actor=request.user, **form.cleaned_data)
        messages.success(request, f"{form.cleaned_data['owner']} now owns the deal.")
    except (PermissionDenied, ReasonRequired, ValueError) as exc:
        messages.error(request, str(exc))
    return redirect("deal-detail", pk)
