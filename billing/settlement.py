"""Money applied to invoices: the one place where an invoice's paid, credited and written-off
amounts change, so that "nothing left to pay" settles it — and the deal's first invoice moves
the deal to paid with the days from signature to first payment — whichever way the money came
(reconciliation, Finance from the AR queue, the billing system's webhooks).

Every function here runs inside the caller's transaction and locks the rows it changes.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from audit.actions import Action
from audit.services import record_change
from billing.models import (
    ARItem,
    BillingRecord,
    Invoice,
    InvoiceState,
    Payment,
    PaymentAllocation,
    PaymentState,
)
from dealdesk import services as deal_services
from dealdesk.models import Deal, DealState

ZERO = Decimal(0)


class SettlementError(ValueError):
    """Money that cannot be applied as asked (more than is due, another currency, ...)."""


@dataclass(frozen=True)
class Applied:
    paid: Decimal = ZERO
    credited: Decimal = ZERO
    written_off: Decimal = ZERO


def _require_transaction() -> None:
    # The row locks below hold only until the caller's transaction ends.
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("call inside the service's transaction")


def invoice_apply(
    invoice_id: int, applied: Applied, *, actor: AbstractBaseUser, reason: str
) -> Invoice:
    """Add (or, with negative amounts, take back) money on an invoice; settle it when nothing
    is left to pay, reopen it when a settled invoice owes again."""
    _require_transaction()
    invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
    if invoice.state not in (InvoiceState.ISSUED, InvoiceState.PAID):
        raise SettlementError(f"invoice {invoice} is {invoice.get_state_display().lower()}")
    invoice.amount_paid += applied.paid
    invoice.amount_credited += applied.credited
    invoice.amount_written_off += applied.written_off
    if invoice.amount_due < 0:
        raise SettlementError(
            f"{invoice.currency} {-invoice.amount_due} more than invoice {invoice} asks for"
        )
    if min(invoice.amount_paid, invoice.amount_credited, invoice.amount_written_off) < 0:
        raise SettlementError(f"more taken back from invoice {invoice} than it was given")
    before = {"state": invoice.state, "amount_due": str(invoice.amount_due)}
    if invoice.state == InvoiceState.ISSUED and invoice.amount_due == 0:
        invoice.settle(at=timezone.now())
        record_change(
            invoice, actor=actor, action=Action.INVOICE_PAID, before=before,
            after={"state": invoice.state}, data=_amounts(invoice), reason=reason,
        )  # fmt: skip
        _first_invoice_paid(invoice, actor)
    elif invoice.state == InvoiceState.PAID and invoice.amount_due > 0:
        invoice.reopen()
        record_change(
            invoice, actor=actor, action=Action.INVOICE_REOPENED, before=before,
            after={"state": invoice.state}, data=_amounts(invoice), reason=reason,
        )  # fmt: skip
    else:
        invoice._history_user, invoice._change_reason = actor, reason
        invoice.save()
    return invoice


def _amounts(invoice: Invoice) -> dict:
    return {
        "total": str(invoice.total),
        "paid": str(invoice.amount_paid),
        "credited": str(invoice.amount_credited),
        "written_off": str(invoice.amount_written_off),
        "currency": invoice.currency,
    }


def _first_invoice_paid(invoice: Invoice, actor: AbstractBaseUser) -> None:
    if invoice.plan_index != 1:
        return
    deal = Deal.objects.select_for_update().get(pk=invoice.deal_id)
    record = BillingRecord.objects.select_for_update().get(pk=invoice.record_id)
    if record.first_paid_on is None:
        paid_on = timezone.localdate(invoice.paid_at)
        record.first_paid_on = paid_on
        record.days_to_first_payment = max((paid_on - record.signed_on).days, 0)
        record._history_user = actor
        record._change_reason = "first invoice paid"
        record.save(update_fields=["first_paid_on", "days_to_first_payment", "updated_at"])
    if deal.state == DealState.INVOICED:
        deal_services.deal_mark_paid(
            deal_id=deal.pk,
            actor=actor,
            reason=f"first invoice {invoice.number} paid, "
            f"{record.days_to_first_payment} days after signature",
        )


def payment_allocate(
    payment_id: int, invoice_id: int, amount: Decimal, *, actor: AbstractBaseUser, how: str
) -> PaymentAllocation:
    """Apply part of a payment to an invoice (same currency, no more than either has left)."""
    _require_transaction()
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    invoice = Invoice.objects.only("currency", "number").get(pk=invoice_id)
    if amount <= 0:
        raise SettlementError("an allocation must be more than zero")
    if payment.currency != invoice.currency:
        raise SettlementError(
            f"a {payment.currency} payment cannot pay {invoice.currency} invoice {invoice}"
        )
    if amount > payment.unapplied:
        raise SettlementError(
            f"payment has {payment.currency} {payment.unapplied} left to apply, not {amount}"
        )
    allocation = PaymentAllocation(
        payment=payment, invoice_id=invoice_id, amount=amount, how=how, allocated_by=actor
    )
    allocation._history_user = actor
    allocation.save()
    invoice_apply(
        invoice_id, Applied(paid=amount), actor=actor, reason=f"payment {payment.pk} applied"
    )
    payment.amount_applied += amount
    before = {"state": payment.state}
    if payment.unapplied == 0 and payment.state != PaymentState.APPLIED:
        payment.applied()
    record_change(
        payment,
        actor=actor,
        action=Action.PAYMENT_ALLOCATED,
        before=before,
        after={"state": payment.state},
        data={
            "invoice": invoice.number,
            "amount": str(amount),
            "currency": payment.currency,
            "how": how,
        },
    )
    return allocation


def ar_open(
    *,
    key: str,
    reason: str,
    amount: Decimal,
    currency: str,
    detail: str,
    actor: AbstractBaseUser,
    invoice: Invoice | None = None,
    payment: Payment | None = None,
) -> tuple[ARItem, bool]:
    """Put something in front of Finance (once per key: raising it again finds it). A payment
    with money not applied is held until the item is resolved; one fully applied (a partial
    payment of an invoice) is only named for context."""
    _require_transaction()
    existing = ARItem.objects.select_for_update().filter(key=key).first()
    if existing is not None:
        return existing, False
    item = ARItem(
        key=key,
        reason=reason,
        amount=amount,
        currency=currency,
        detail=detail,
        invoice=invoice,
        payment=payment,
        deal_id=invoice.deal_id if invoice else None,
        account_id=(payment.account_id if payment else None)
        or (_invoice_account(invoice) if invoice else None),
    )
    record_change(
        item,
        actor=actor,
        action=Action.AR_ITEM_OPENED,
        after={"state": item.state, "reason": reason},
        data={"amount": str(amount), "currency": currency, "key": key},
        reason=detail[:2000],
    )
    if payment is not None:
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.unapplied > 0 and payment.state in (PaymentState.RECEIVED, PaymentState.APPLIED):
            before = {"state": payment.state}
            payment.held()
            record_change(
                payment,
                actor=actor,
                action=Action.PAYMENT_HELD,
                before=before,
                after={"state": payment.state},
                reason=detail[:2000],
            )
    return item, True


def _invoice_account(invoice: Invoice) -> int | None:
    return Deal.objects.filter(pk=invoice.deal_id).values_list("account_id", flat=True).first()
