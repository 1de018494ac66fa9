from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "dealdesk.integrations"
    label = "integrations"
    verbose_name = "Integrations (outbox, vendor calls, webhooks)"
