"""Who may do what in billing. Used by the data migration; Auditors get the view permissions
from dealdesk.roles.grant_auditor_view_permissions (post_migrate)."""

from django.apps.registry import Apps

from dealdesk.reference_data import create_app_permissions, grant_role_permissions

_SEE = ["billing.view_billingrecord", "billing.view_invoice", "billing.view_invoiceline"]
ROLE_PERMISSIONS = {
    # Finance owns billing: bills a deal again after fixing an exception.
    "Finance": ["billing.manage_billing", *_SEE],
    "Deal Desk": _SEE,
}


def install_billing_reference_data(apps: Apps) -> None:
    create_app_permissions(apps, apps.get_app_config("billing"))
    grant_role_permissions(apps, ROLE_PERMISSIONS)
