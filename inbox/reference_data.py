"""Who may open the exception inbox: the roles that own a kind of stopped work (the kinds
each sees follow their other permissions, docs/inbox.md). Used by the data migration."""

from django.apps.registry import Apps

from dealdesk.reference_data import create_app_permissions, grant_role_permissions
from inbox.models import USE_INBOX_PERM

ROLE_PERMISSIONS = {"Deal Desk": [USE_INBOX_PERM], "Finance": [USE_INBOX_PERM]}


def install_inbox_reference_data(apps: Apps) -> None:
    create_app_permissions(apps, apps.get_app_config("inbox"))
    grant_role_permissions(apps, ROLE_PERMISSIONS)
