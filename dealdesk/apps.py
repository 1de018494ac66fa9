from importlib import import_module

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DealdeskConfig(AppConfig):
    name = "dealdesk"
    verbose_name = "Deals"

    def import_models(self) -> None:
        super().import_models()
        # The CRM package's models (dealdesk/crm/models.py) are dealdesk models too: same app
        # label, same tables. Imported here, while the registry collects models.
        import_module(f"{self.name}.crm.models")

    def ready(self) -> None:
        # Connects the pipeline's post_transition listener.
        from dealdesk import pipeline, segments  # noqa: F401 - segments registers its check
        from dealdesk.roles import grant_auditor_view_permissions

        # Auditors read everything, including models that later apps add.
        post_migrate.connect(grant_auditor_view_permissions, dispatch_uid="dealdesk.auditor")
