from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DealdeskConfig(AppConfig):
    name = "dealdesk"
    verbose_name = "Deals"

    def ready(self) -> None:
        # Connects the pipeline's post_transition listener.
        from dealdesk import pipeline  # noqa: F401
        from dealdesk.roles import grant_auditor_view_permissions

        # Auditors read everything, including models that later apps add.
        post_migrate.connect(grant_auditor_view_permissions, dispatch_uid="dealdesk.auditor")
