"""The DEAL argument of the management commands (explain_approvals, verify_executed,
esign_status): a deal's id or CRM id."""

from django.core.management.base import CommandError
from django.db.models import Q

from dealdesk.models import Deal


def deal_from_argument(value: str) -> Deal:
    lookup = Q(crm_id=value) | Q(pk=int(value)) if value.isdigit() else Q(crm_id=value)
    deal = Deal.objects.filter(lookup).select_related("account").first()
    if deal is None:
        raise CommandError(f"no deal with id or CRM id {value!r}")
    return deal
