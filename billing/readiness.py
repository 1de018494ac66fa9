"""Is an executed contract ready to invoice? Checked before anything reaches the billing
system: each problem is one sentence for Finance, who fixes it and bills the deal again."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from billing.canonical_order import CanonicalOrder
from dealdesk.models import Product


def readiness_problems(order: CanonicalOrder) -> list[str]:
    entity = order.billing_entity
    problems = []
    try:
        validate_email(entity.billing_email)
    except ValidationError:
        problems.append(
            f"{entity.legal_name} has no valid billing e-mail ({entity.billing_email or 'none'}): "
            "invoices would go nowhere. Add it to the account."
        )
    # Street, city and postal code, and a country: what an invoice must carry to be valid.
    parts = [part.strip() for part in entity.address.split(",") if part.strip()]
    if len(parts) < 3 or not any(ch.isdigit() for ch in entity.address):
        problems.append(
            f"{entity.legal_name}'s billing address is incomplete ({entity.address or 'none'}): "
            "street, city, postal code and country are needed on an invoice."
        )
    if order.currency in settings.BILLING_TAX_ID_CURRENCIES and not entity.tax_id.strip():
        problems.append(
            f"{entity.legal_name} has no tax id: invoices in {order.currency} must carry the "
            "customer's VAT id."
        )
    skus = {line.sku for line in order.lines}
    known = {p.sku: p for p in Product.objects.filter(sku__in=skus)}
    for sku in sorted(skus):
        product = known.get(sku)
        if product is None or not product.is_billing_complete:
            problems.append(
                f"SKU {sku} is not set up for billing in the catalog: Finance completes it."
            )
    if order.payment_terms > settings.BILLING_MAX_PAYMENT_TERMS:
        problems.append(
            f"Payment terms of net {order.payment_terms} days are beyond the "
            f"{settings.BILLING_MAX_PAYMENT_TERMS} days Finance bills without a decision."
        )
    if order.purchase_order_required and not order.po_number:
        problems.append(
            "The contract requires a purchase order number on invoices and none is on file: "
            "ask the customer for it."
        )
    return problems
