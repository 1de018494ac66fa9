"""Reference data every database needs: deal patterns and the six roles with their permissions.

Written once here and used by the data migration (with the migration's historical models) and
by `seed_demo` (with the live ones), so a flushed database can be put right the same way.
"""

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions

from dealdesk.patterns import PATTERNS

READ_MODELS = ["account", "contact", "product", "dealpattern", "deal", "dealline", "dealcontact"]


def _perms(model_names: list[str], actions: list[str]) -> list[str]:
    return [f"dealdesk.{action}_{model}" for model in model_names for action in actions]


VIEW_ALL = [*_perms(READ_MODELS, ["view"]), "dealdesk.view_all_deals"]
# The deal desk runs the CRM sync, decides drift and maps CRM owners to people.
CRM_SYNC_PERMISSIONS = [
    *_perms(["syncrun", "quarantinedrecord", "crmdrift", "crmowner", "crmwatermark"], ["view"]),
    "dealdesk.change_crmowner",
    "dealdesk.run_crm_sync",
    "dealdesk.decide_crm_drift",
]
ROLE_PERMISSIONS = {
    "Deal Desk": [
        *VIEW_ALL,
        *_perms(["account", "contact"], ["add", "change"]),
        "dealdesk.manage_deal",
        "dealdesk.request_deal_changes",
        "audit.view_auditevent",
        *CRM_SYNC_PERMISSIONS,
    ],
    "Legal": [*VIEW_ALL, "dealdesk.change_dealpattern", "dealdesk.request_deal_changes"],
    "Finance": [
        *VIEW_ALL,
        *_perms(["product"], ["add", "change"]),
        "dealdesk.change_account",
        "dealdesk.request_deal_changes",
        "audit.view_auditevent",
    ],
    "Executive": [*VIEW_ALL, "dealdesk.request_deal_changes"],
    # The policy's top tier: distinct from Executive so one person cannot pass both steps.
    "CFO": [*VIEW_ALL, "dealdesk.request_deal_changes"],
    "Sales": _perms(["account", "contact", "product", "deal", "dealline", "dealcontact"], ["view"]),
    # Every view permission of every app and nothing else; apps migrated later are added by
    # dealdesk.roles.grant_auditor_view_permissions.
    "Auditor": ["dealdesk.view_all_deals"],
}


def create_app_permissions(apps: Apps, app_config) -> None:
    """Permissions normally appear after migrations (post_migrate); a data migration that
    grants them on a fresh database needs them now."""
    # create_permissions skips app configs without a models module, as the migration
    # state's stand-ins are.
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = models_module or True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = models_module


def grant_role_permissions(apps: Apps, role_permissions: dict[str, list[str]]) -> None:
    """Give each role's group ("Deal Desk", ...) its "app_label.codename" permissions.

    A permission of a model that a later migration adds does not exist yet in an earlier
    migration's state; that migration runs this again (dealdesk 0003). tests/dealdesk/
    test_roles.py checks that every permission any app's roles name exists and is granted.
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in role_permissions.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(
            *[
                permission
                for label, codename in (perm.split(".") for perm in perms)
                for permission in Permission.objects.filter(
                    content_type__app_label=label, codename=codename
                )
            ]
        )


def install_reference_data(apps: Apps) -> None:
    """Create or correct the patterns, roles and role permissions (idempotent)."""
    for app_config in apps.get_app_configs():
        create_app_permissions(apps, app_config)

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    DealPattern = apps.get_model("dealdesk", "DealPattern")

    for code, name, legal, description in PATTERNS:
        DealPattern.objects.get_or_create(
            code=code,
            defaults={"name": name, "requires_legal_review": legal, "description": description},
        )

    grant_role_permissions(apps, ROLE_PERMISSIONS)
    # The Auditor reads everything there is.
    auditor = Group.objects.get(name="Auditor")
    auditor.permissions.add(*Permission.objects.filter(codename__startswith="view_"))
