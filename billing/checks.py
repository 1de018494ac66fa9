"""`manage.py check`: the billing backend named in the settings is one this version bills
with, and Stripe has what it needs to be called and to be heard from."""

from django.conf import settings
from django.core.checks import Error, register

from billing.ledger.base import LEDGERS


@register()
def check_billing_backend(app_configs, **kwargs):
    backend = settings.BILLING_BACKEND
    if backend not in LEDGERS:
        return [
            Error(
                f"BILLING_BACKEND={backend!r}: this version bills with "
                f"{', '.join(sorted(LEDGERS))} only.",
                hint="Leave BILLING_BACKEND unset for the local ledger, or set it to stripe.",
                id="billing.E001",
            )
        ]
    if backend != "stripe":
        return []
    errors = []
    if not settings.STRIPE_API_KEY:
        errors.append(
            Error(
                "BILLING_BACKEND=stripe without STRIPE_API_KEY: nothing can be billed.",
                hint="Set STRIPE_API_KEY to the account's secret (or restricted) key.",
                id="billing.E002",
            )
        )
    if not any(secret.strip() for secret in settings.STRIPE_WEBHOOK_SECRET):
        # Without a signing secret every webhook is refused: invoices and payments in Stripe
        # would never reach us.
        errors.append(
            Error(
                "BILLING_BACKEND=stripe without STRIPE_WEBHOOK_SECRET: Stripe's events "
                "cannot be verified, so none would be accepted.",
                hint="Set STRIPE_WEBHOOK_SECRET to the endpoint's signing secret (whsec_...); "
                "several, comma-separated, during a rotation.",
                id="billing.E003",
            )
        )
    return errors
