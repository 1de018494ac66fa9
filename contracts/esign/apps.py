from django.apps import AppConfig


class EsignConfig(AppConfig):
    name = "contracts.esign"
    label = "esign"
    verbose_name = "E-signature"

    def ready(self) -> None:
        from contracts.esign import checks  # noqa: F401 - registers the deploy checks
