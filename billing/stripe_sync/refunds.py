"""Money sent back through Stripe from the AR queue (`billing.receivables.ar_refund` on a
Stripe payment): Stripe moves it, and its refund id is what the AR queue books.

The refund carries the AR item's id in its metadata, so its `charge.refunded` webhook is
recognised as booked already (billing/stripe_sync/charges.py) whichever arrives first.
"""

from decimal import Decimal

from billing.diff import minor_units
from billing.ledger.stripe_client import idempotency_key
from billing.ledger.stripe_objects import invoice_payment_get, refund_create
from billing.models import Payment, PaymentSource

# The refund's metadata key naming the AR item that sent it (its webhook is then booked already).
AR_ITEM_METADATA = "ar_item"


class NotRefundableInStripe(ValueError):
    """The payment did not move through Stripe (paid out of band, or not a Stripe payment)."""


def stripe_refund_send(*, payment: Payment, amount: Decimal, ar_item_id: int) -> str:
    """Send `amount` of a Stripe payment back to the customer; the Stripe refund's id. Once
    per AR item and amount: a retry (a lost answer, a double click) replays the first."""
    if payment.source != PaymentSource.STRIPE:
        raise NotRefundableInStripe(f"payment {payment.pk} did not come through Stripe")
    paid_with = invoice_payment_get(payment.external_id)["payment"]
    if paid_with.get("type") != "payment_intent":
        raise NotRefundableInStripe(
            f"payment {payment.pk} was paid outside Stripe: send the money from the bank"
        )
    units = minor_units(amount, payment.currency)
    refund = refund_create(
        payment_intent=paid_with["payment_intent"],
        amount=units,
        key=idempotency_key("ar-item", ar_item_id, "refund", units),
        metadata={AR_ITEM_METADATA: str(ar_item_id)},
    )
    return refund["id"]
