from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "dealdesk.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from dealdesk.ops import checks  # noqa: F401 - registers the system checks
