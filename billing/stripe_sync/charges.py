"""Money Stripe took back from a payment: refunds and disputes of the charge that paid an
invoice. Each refund or dispute (by its Stripe id) takes its amount back from the invoice
the payment paid (`settlement.allocation_take_back`: the invoice owes again, the allocation
notes it, the deal's KPI stays as it was) and opens an AR item, once, whatever repeats.
"""

import logging
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from billing.diff import from_minor_units
from billing.ledger.stripe_objects import charge_get, dispute_get, invoice_payments, refunds_of
from billing.models import ARItem, ARReason, Payment
from billing.receivables import payment_refund_record
from billing.settlement import allocation_take_back, ar_open
from billing.stripe_sync.invoices import invoice_converge
from billing.stripe_sync.refunds import AR_ITEM_METADATA

log = logging.getLogger(__name__)


def charge_refunds_sync(*, charge_id: str, actor: AbstractBaseUser) -> int:
    """Every succeeded refund of the charge booked on its payment; how many were new. A
    refund Finance sent from the AR queue (`AR_ITEM_METADATA`) is booked there, not here."""
    payment = _payment_of(charge_get(charge_id), actor)
    if payment is None:
        return 0
    new = 0
    for refund in refunds_of(charge_id):
        if refund["status"] == "succeeded" and AR_ITEM_METADATA not in refund["metadata"]:
            new += _take_back(
                payment,
                key=f"stripe:refund:{refund['id']}",
                reason=ARReason.REFUNDED,
                units=refund["amount"],
                detail=f"Stripe refund {refund['id']} of charge {charge_id}",
                refund_id=refund["id"],
                actor=actor,
            )
    return new


def dispute_sync(*, dispute_id: str, actor: AbstractBaseUser) -> int:
    """A disputed charge: its amount is taken back (the bank holds it) until Finance resolves
    the AR item with the dispute's outcome."""
    dispute = dispute_get(dispute_id)
    payment = _payment_of(charge_get(dispute["charge"]), actor)
    if payment is None:
        return 0
    return _take_back(
        payment,
        key=f"stripe:dispute:{dispute_id}",
        reason=ARReason.DISPUTED,
        units=dispute["amount"],
        detail=f"Stripe dispute {dispute_id} ({dispute['reason']}) of charge {dispute['charge']}",
        refund_id="",
        actor=actor,
    )


def _payment_of(charge: dict, actor: AbstractBaseUser) -> Payment | None:
    """Our payment for the charge's invoice payment, received first if it was not yet (the
    refund's event may be handled before the invoice's)."""
    paid = invoice_payments(payment_intent=charge.get("payment_intent") or "")
    if not paid:
        log.info("Stripe charge %s paid no invoice of ours", charge["id"])
        return None
    # One charge pays one invoice here (send_invoice collection): its first payment.
    invoice = invoice_converge(stripe_invoice_id=paid[0]["invoice"], actor=actor)
    if invoice is None:
        return None
    return Payment.objects.filter(source="stripe", external_id=paid[0]["id"]).first()


def _take_back(
    payment: Payment,
    *,
    key: str,
    reason: str,
    units: int,
    detail: str,
    refund_id: str,
    actor: AbstractBaseUser,
) -> int:
    """Take the amount back from the invoice the payment paid and open the AR item, once per
    key; a refund (`refund_id`) is booked as the payment's refund, a dispute holds the
    payment (the bank has the money) until Finance resolves it."""
    with transaction.atomic():
        # The payment's lock makes "is this taken back already?" a question only one worker
        # asks at a time.
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if ARItem.objects.filter(key=key).exists():
            return 0
        amount = from_minor_units(units, payment.currency)
        allocation = payment.allocations.order_by("pk").first()
        taken = min(amount, allocation.amount_applied) if allocation else Decimal(0)
        if taken:
            allocation_take_back(allocation, taken, actor=actor, reason=detail)
            payment.amount_applied -= taken
            payment._history_user, payment._change_reason = actor, detail[:100]
            payment.save()
        if refund_id:
            payment_refund_record(
                payment_id=payment.pk,
                amount=amount,
                reason=detail,
                actor=actor,
                external_id=refund_id,
            )
        ar_open(
            key=key,
            reason=reason,
            amount=amount,
            currency=payment.currency,
            detail=detail,
            actor=actor,
            invoice=allocation.invoice if allocation else None,
            payment=payment,
        )
    return 1
