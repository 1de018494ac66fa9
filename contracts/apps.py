from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "contracts"

    def ready(self) -> None:
        from contracts import checks  # noqa: F401 - registers the system checks
