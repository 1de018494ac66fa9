"""Who may do what in billing. Used by the data migration; Auditors get the view permissions
from dealdesk.roles.grant_auditor_view_permissions (post_migrate)."""

from django.apps.registry import Apps

from dealdesk.reference_data import create_app_permissions, grant_role_permissions

_SEE = ["billing.view_billingrecord", "billing.view_invoice", "billing.view_invoiceline"]
# Finance sends billing's dead-lettered steps and Stripe events again from its Dead letters
# page (billing/finance_views.py); the integrations services check these permissions.
_RETRY = ["integrations.retry_outboxmessage", "integrations.retry_webhookevent"]
# Either side may enter the go-live date a deal's billing waits for (billing/go_live.py).
_GO_LIVE = ["billing.set_go_live"]
ROLE_PERMISSIONS = {
    # Finance owns billing: bills a deal again after fixing an exception.
    "Finance": ["billing.manage_billing", *_SEE, *_RETRY, *_GO_LIVE],
    "Deal Desk": [*_SEE, *_GO_LIVE],
}


def install_billing_reference_data(apps: Apps) -> None:
    create_app_permissions(apps, apps.get_app_config("billing"))
    create_app_permissions(apps, apps.get_app_config("integrations"))
    grant_role_permissions(apps, ROLE_PERMISSIONS)
