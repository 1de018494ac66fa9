from django.apps import AppConfig


class EsignConfig(AppConfig):
    name = "contracts.esign"
    label = "esign"
    verbose_name = "E-signature"
