"""`manage.py check`: the billing backend named in the settings is one this version bills with
(`BILLING_BACKEND=stripe` is refused until its ledger is wired into the billing step)."""

from django.conf import settings
from django.core.checks import Error, register

from billing.ledger.base import LEDGERS


@register()
def check_billing_backend(app_configs, **kwargs):
    if settings.BILLING_BACKEND in LEDGERS:
        return []
    return [
        Error(
            f"BILLING_BACKEND={settings.BILLING_BACKEND!r}: this version bills with "
            f"{', '.join(sorted(LEDGERS))} only.",
            hint="Leave BILLING_BACKEND unset (the local ledger) for now.",
            id="billing.E001",
        )
    ]
