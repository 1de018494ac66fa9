"""No tables: the dashboard reads the audit log and the other apps' rows. This model only
carries the permission to see it (a permission needs a content type, a content type a model)."""

from django.db import models


class Dashboard(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        # "view_" on purpose: Auditors get every view permission of every app
        # (dealdesk.roles.grant_auditor_view_permissions), this one included.
        permissions = [("view_dashboard", "Can see the process dashboard")]

    def __str__(self) -> str:
        return "Process dashboard"
