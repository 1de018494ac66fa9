"""Who may do what with the signing authority table. Used by the data migration; Auditors get
the view permissions from dealdesk.roles.grant_auditor_view_permissions (post_migrate)."""

from django.apps.registry import Apps

from dealdesk.reference_data import create_app_permissions, grant_role_permissions

MANAGE_REQUESTS_PERM = "esign.manage_signaturerequest"
_SEE_REQUESTS = ["esign.view_signaturerequest", "esign.view_signer"]
ROLE_PERMISSIONS = {
    "Finance": [
        *(f"esign.{action}_signingauthority" for action in ("add", "change", "view")),
        *_SEE_REQUESTS,
    ],
    # Deal Desk sends, reminds, voids and resends; uploads contracts signed on paper.
    "Deal Desk": [MANAGE_REQUESTS_PERM, *_SEE_REQUESTS],
    # Legal confirms (or sends back) a contract signed on paper.
    "Legal": _SEE_REQUESTS,
}


def install_esign_reference_data(apps: Apps) -> None:
    create_app_permissions(apps, apps.get_app_config("esign"))
    grant_role_permissions(apps, ROLE_PERMISSIONS)
