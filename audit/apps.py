from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self):
        from audit import checks  # noqa: F401 - registers the deploy check
        from audit.access import connect_access_audit

        connect_access_audit()
