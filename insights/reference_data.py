"""Who sees the process dashboard: Deal Desk, Finance, Executive and Auditors (Sales, Legal and
the CFO group do not). Used by the data migration."""

from django.apps.registry import Apps

from dealdesk.reference_data import create_app_permissions, grant_role_permissions

VIEW = "insights.view_dashboard"
ROLE_PERMISSIONS = {role: [VIEW] for role in ("Deal Desk", "Finance", "Executive", "Auditor")}


def install_insights_reference_data(apps: Apps) -> None:
    create_app_permissions(apps, apps.get_app_config("insights"))
    grant_role_permissions(apps, ROLE_PERMISSIONS)
