"""Finance's actions on the AR queue: each resolves (or moves on) one AR item with an audited
change — allocate the held money to an invoice, write off (above the currency's tolerance only
with a second Finance approver), issue a credit note, refund, or chase the customer.

Money reaches invoices through billing.settlement only. Every action locks its item first, so
two people acting on the same item at once act one after the other, and the second one is
refused by the item's new state.
"""

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from audit.actions import Action
from audit.services import audit_record, record_change
from billing.bank_statements.entries import checked_money
from billing.credit_note_delivery import DELIVER_STEP
from billing.models import (
    ARItem,
    ARResolution,
    ARState,
    CreditNote,
    Invoice,
    InvoiceState,
    Payment,
    PaymentSource,
    PaymentState,
    Refund,
    WriteOffTolerance,
)
from billing.services import next_document_number, require_finance
from billing.settlement import Applied, invoice_apply, payment_allocate
from billing.stripe_sync.refunds import NotRefundableInStripe, stripe_refund_send
from contracts.selectors import stored_bytes
from dealdesk.integrations.mail import send_notification
from dealdesk.integrations.outbox import outbox_enqueue
from dealdesk.pricing import PricingError, minor_unit, round_money
from dealdesk.roles import SegregationOfDutiesError

ZERO = Decimal(0)


class ReceivableError(ValueError):
    """An action the item's state or amounts do not allow; the message says why."""


# --- shared checks ------------------------------------------------------------------------


def _locked_item(item_id: int, actor: AbstractBaseUser, *states: str) -> ARItem:
    require_finance(actor, "act on the AR queue")
    item = ARItem.objects.select_for_update().get(pk=item_id)
    if item.state not in states:
        raise ReceivableError(f"AR item {item.pk} is {item.get_state_display().lower()}")
    return item


def money_amount(value: Decimal | str, currency: str, *, allow_zero: bool = False) -> Decimal:
    """`value` as an amount of `currency`: finite, positive (or zero where allowed), within
    reason, and no finer than the currency's minor unit (no 0.001 USD, no 0.5 JPY) — that last
    rule is the bank statements' and payments' own (checked_money)."""
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ReceivableError(f"{value!r} is not an amount of {currency}") from exc
    if not amount.is_finite() or amount < 0 or (amount == 0 and not allow_zero):
        raise ReceivableError(f"the amount must be more than zero, not {value}")
    if amount >= Decimal(10) ** 15:
        raise ReceivableError(f"{value} is more than any invoice here")
    try:
        amount, _ = checked_money(amount, currency)
    except ValueError:
        raise ReceivableError(_refused(value, currency)) from None
    return amount


def _refused(value: Decimal | str, currency: str) -> str:
    """Why checked_money refused `value`, in the words of a form Finance typed it into."""
    try:
        places = minor_unit(currency)
    except PricingError:
        return f"{value!r} is not an amount of {currency}"
    return f"{currency} amounts have at most {places} decimals: {value}"


def _item_invoice(item: ARItem) -> Invoice:
    if item.invoice_id is None:
        raise ReceivableError(f"AR item {item.pk} names no invoice")
    return Invoice.objects.get(pk=item.invoice_id)


def _amount_due_on(invoice: Invoice, amount: Decimal | str, what: str) -> Decimal:
    """`amount` checked as money in the invoice's currency and at most what it still asks for;
    `what` ends the refusal ("not 5.00 to credit")."""
    amount = money_amount(amount, invoice.currency)
    if amount > invoice.amount_due:
        raise ReceivableError(
            f"invoice {invoice} has {invoice.currency} {invoice.amount_due} due, "
            f"not {amount} {what}"
        )
    return amount


def _item_payment(item: ARItem) -> Payment:
    if item.payment_id is None:
        raise ReceivableError(f"AR item {item.pk} holds no payment")
    # Locked: the refund and allocation below change what is left of it.
    return Payment.objects.select_for_update().get(pk=item.payment_id)


def manual_recorder_id(item: ARItem) -> int | None:
    """Who typed in the item's payment by hand: that person must not write its shortfall off
    alone nor approve its write-off (they could enter a payment and excuse the rest)."""
    payment = item.payment
    if payment is None or payment.source != PaymentSource.MANUAL:
        return None
    return payment.recorded_by_id


def _resolve(
    item: ARItem,
    *,
    resolution: str,
    actor: AbstractBaseUser,
    note: str,
    data: dict,
) -> ARItem:
    before = {"state": item.state}
    item.resolve(resolution=resolution, by=actor, at=timezone.now(), note=note)
    record_change(
        item,
        actor=actor,
        action=Action.AR_ITEM_RESOLVED,
        before=before,
        after={"state": item.state, "resolution": resolution},
        data={"currency": item.currency, **data},
        reason=note[:2000],
    )
    return item


# --- allocate -----------------------------------------------------------------------------


@transaction.atomic
def ar_allocate(
    *, item_id: int, invoice_id: int, amount: Decimal | str, actor: AbstractBaseUser, note: str = ""
) -> ARItem:
    """Apply the held payment's unapplied money to an invoice of its currency; the item is
    resolved once nothing of the payment is left unapplied."""
    item = _locked_item(item_id, actor, ARState.OPEN)
    payment = _item_payment(item)
    amount = money_amount(amount, payment.currency)
    invoice = Invoice.objects.filter(pk=invoice_id).only("state", "number").first()
    if invoice is None or invoice.state not in (InvoiceState.ISSUED, InvoiceState.PAID):
        raise ReceivableError("allocate to an issued invoice")
    payment_allocate(payment.pk, invoice_id, amount, actor=actor, how="allocated")
    payment.refresh_from_db()
    if payment.unapplied == 0:
        _resolve(
            item,
            resolution=ARResolution.ALLOCATED,
            actor=actor,
            note=note or f"allocated to invoice {invoice.number}",
            data={"invoice": invoice.number, "amount": str(amount)},
        )
    return item


# --- write-off ----------------------------------------------------------------------------


def write_off_tolerance(currency: str) -> Decimal:
    """The most one Finance user may write off alone in `currency`; none set → 0, so every
    write-off in it needs a second approver."""
    amount = (
        WriteOffTolerance.objects.filter(currency=currency).values_list("amount", flat=True).first()
    )
    return ZERO if amount is None else amount


@transaction.atomic
def write_off_tolerance_set(
    *, currency: str, amount: Decimal | str, actor: AbstractBaseUser
) -> WriteOffTolerance:
    require_finance(actor, "set write-off tolerances")
    currency = str(currency).strip().upper()
    amount = money_amount(amount, currency, allow_zero=True)
    tolerance = WriteOffTolerance.objects.select_for_update().filter(currency=currency).first()
    before = {"amount": str(round_money(tolerance.amount, currency))} if tolerance else {}
    if tolerance is None:
        tolerance = WriteOffTolerance(currency=currency)
    tolerance.amount, tolerance.updated_by = amount, actor
    record_change(
        tolerance,
        actor=actor,
        action=Action.WRITE_OFF_TOLERANCE_SET,
        before=before,
        after={"amount": str(round_money(amount, currency))},
        data={"currency": currency},
    )
    return tolerance


@transaction.atomic
def ar_write_off(
    *, item_id: int, amount: Decimal | str, actor: AbstractBaseUser, reason: str
) -> ARItem:
    """Write off what the item's invoice still asks for (bank fees, a small shortfall): at once
    within the currency's tolerance, else (or when the actor typed in the item's payment) it
    waits for a second Finance user's approval."""
    item = _locked_item(item_id, actor, ARState.OPEN)
    reason = _required(reason, "Say why it is written off")
    invoice = _item_invoice(item)
    amount = _amount_due_on(invoice, amount, "to write off")
    alone = amount <= write_off_tolerance(invoice.currency)
    if alone and manual_recorder_id(item) != actor.pk:
        _write_off(item, invoice, amount, actor=actor, note=reason, data={})
        return item
    before = {"state": item.state}
    item.request_write_off(amount=amount, by=actor)
    record_change(
        item,
        actor=actor,
        action=Action.AR_ITEM_WRITE_OFF_REQUESTED,
        before=before,
        after={"state": item.state},
        data={
            "amount": str(amount),
            "currency": invoice.currency,
            "invoice": invoice.number,
            "why_approval": "above tolerance" if not alone else "recorded the payment",
        },
        reason=reason,
    )
    return item


def _write_off(
    item: ARItem,
    invoice: Invoice,
    amount: Decimal,
    *,
    actor: AbstractBaseUser,
    note: str,
    data: dict,
) -> None:
    invoice_apply(
        invoice.pk, Applied(written_off=amount), actor=actor, reason=f"written off: {note}"[:2000]
    )
    _resolve(
        item,
        resolution=ARResolution.WRITTEN_OFF,
        actor=actor,
        note=note,
        data={"invoice": invoice.number, "written_off": str(amount), **data},
    )


@transaction.atomic
def ar_write_off_approve(*, item_id: int, actor: AbstractBaseUser) -> ARItem:
    item = _locked_item(item_id, actor, ARState.AWAITING_APPROVAL)
    requester_id = item.write_off_requested_by_id
    if requester_id == actor.pk:
        raise SegregationOfDutiesError("a second Finance user approves the write-off you asked for")
    if manual_recorder_id(item) == actor.pk:
        raise SegregationOfDutiesError(
            "you entered this payment by hand, so you cannot approve its write-off"
        )
    invoice = _item_invoice(item)
    amount = item.write_off_amount
    # The approval is its own event (who asked, who approved, how much), so a report of
    # second-approver write-offs need not read every resolution.
    audit_record(
        actor=actor,
        obj=item,
        action=Action.AR_ITEM_WRITE_OFF_APPROVED,
        data={
            "amount": str(round_money(amount, invoice.currency)),
            "currency": invoice.currency,
            "invoice": invoice.number,
            "requested_by": requester_id,
            "approved_by": actor.pk,
        },
    )
    _write_off(
        item,
        invoice,
        amount,
        actor=actor,
        note=f"write-off asked by {item.write_off_requested_by} approved",
        data={"requested_by": requester_id, "approved_by": actor.pk},
    )
    return item


@transaction.atomic
def ar_write_off_reject(*, item_id: int, actor: AbstractBaseUser, reason: str) -> ARItem:
    """Refuse a write-off (or, by its requester, withdraw it): the item is open again."""
    item = _locked_item(item_id, actor, ARState.AWAITING_APPROVAL)
    reason = _required(reason, "Say why the write-off is refused")
    before = {"state": item.state, "write_off_amount": str(item.write_off_amount)}
    requester_id = item.write_off_requested_by_id
    item.reject_write_off()
    record_change(
        item,
        actor=actor,
        action=Action.AR_ITEM_WRITE_OFF_REJECTED,
        before=before,
        after={"state": item.state},
        data={"requested_by": requester_id},
        reason=reason,
    )
    return item


def _required(text: str, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ReceivableError(message)
    return text[:2000]


# --- credit note --------------------------------------------------------------------------


@transaction.atomic
def ar_credit_note(
    *, item_id: int, amount: Decimal | str, reason: str, actor: AbstractBaseUser
) -> CreditNote:
    """Reduce what the item's invoice asks for with a credit note, numbered gaplessly in its
    own series per legal entity and year (DD-CN-2026-000001); once committed, its PDF is drawn
    and mailed to the billing contact (billing/credit_note_delivery.py)."""
    item = _locked_item(item_id, actor, ARState.OPEN)
    reason = _required(reason, "Say why the credit note is issued")
    invoice = _item_invoice(item)
    amount = _amount_due_on(invoice, amount, "to credit")
    invoice_apply(invoice.pk, Applied(credited=amount), actor=actor, reason=f"credited: {reason}")
    number = next_document_number(f"{invoice.legal_entity}-CN", timezone.localdate().year)
    note = CreditNote(
        number=number,
        invoice=invoice,
        amount=amount,
        currency=invoice.currency,
        reason=reason,
        ar_item=item,
        created_by=actor,
    )
    record_change(
        note,
        actor=actor,
        action=Action.CREDIT_NOTE_ISSUED,
        data={"invoice": invoice.number, "amount": str(amount), "currency": invoice.currency},
        reason=reason,
    )
    # Drawn and mailed as its own step: a mail server that is down delays the PDF, never the
    # credit, and the step is lost only if the credit note is.
    outbox_enqueue(task=DELIVER_STEP, args=[note.pk], obj=note, state="issued")
    _resolve(
        item,
        resolution=ARResolution.CREDITED,
        actor=actor,
        note=reason,
        data={"credit_note": number, "amount": str(amount)},
    )
    return note


# --- refund -------------------------------------------------------------------------------


def payment_refund_record(
    *,
    payment_id: int,
    amount: Decimal,
    reason: str,
    actor: AbstractBaseUser,
    external_id: str,
    ar_item: ARItem | None = None,
) -> Refund:
    """Book money sent back from a payment's unapplied part: the refund row, the payment's
    amount_refunded and state, their audit. The billing system has sent it already (Stripe:
    its refund id in `external_id`; local ledger: Finance's bank reference). Call inside the
    caller's transaction."""
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    if amount <= 0 or amount > payment.unapplied:
        raise ReceivableError(
            f"payment has {payment.currency} {payment.unapplied} left to refund, not {amount}"
        )
    refund = Refund(
        payment=payment,
        amount=amount,
        currency=payment.currency,
        reason=reason,
        ar_item=ar_item,
        created_by=actor,
        external_id=external_id,
    )
    record_change(
        refund,
        actor=actor,
        action=Action.REFUND_ISSUED,
        data={"amount": str(amount), "currency": payment.currency, "reference": external_id},
        reason=reason,
    )
    before = {"state": payment.state, "amount_refunded": str(payment.amount_refunded)}
    payment.amount_refunded += amount
    if payment.amount_refunded == payment.amount:
        payment.refunded()
    elif payment.unapplied == 0 and payment.state == PaymentState.HELD:
        payment.applied()  # the rest went to invoices: nothing of it waits any more
    record_change(
        payment,
        actor=actor,
        action=Action.PAYMENT_REFUNDED,
        before=before,
        after={"state": payment.state, "amount_refunded": str(payment.amount_refunded)},
        data={"refund": refund.pk, "amount": str(amount), "currency": payment.currency},
        reason=reason,
    )
    return refund


@transaction.atomic
def ar_refund(
    *,
    item_id: int,
    amount: Decimal | str,
    reason: str,
    actor: AbstractBaseUser,
    reference: str = "",
) -> Refund:
    """Send back what of the item's payment was not applied (overpaid, paid twice, wrong
    currency). A Stripe payment is refunded through Stripe; any other, Finance sends the money
    from the bank and types its reference."""
    item = _locked_item(item_id, actor, ARState.OPEN)
    reason = _required(reason, "Say why the money goes back")
    payment = _item_payment(item)
    amount = money_amount(amount, payment.currency)
    if payment.source == PaymentSource.STRIPE:
        # Stripe sends the money itself, once per item and amount (a retry replays it).
        try:
            reference = stripe_refund_send(payment=payment, amount=amount, ar_item_id=item.pk)
        except NotRefundableInStripe as exc:
            raise ReceivableError(str(exc)) from exc
    else:
        reference = _required(reference, "Type the bank reference of the refund you sent")[:100]
    refund = payment_refund_record(
        payment_id=payment.pk,
        amount=amount,
        reason=reason,
        actor=actor,
        external_id=reference,
        ar_item=item,
    )
    _resolve(
        item,
        resolution=ARResolution.REFUNDED,
        actor=actor,
        note=reason,
        data={"refund": refund.pk, "amount": str(amount), "reference": reference},
    )
    return refund


# --- chase --------------------------------------------------------------------------------


@transaction.atomic
def ar_chase(*, item_id: int, actor: AbstractBaseUser) -> ARItem:
    """Remind the billing contact what the invoice still asks for (its PDF attached), at most
    once every BILLING_CHASE_MIN_DAYS days per item."""
    item = _locked_item(item_id, actor, ARState.OPEN)
    invoice = Invoice.objects.select_related("record").get(pk=_item_invoice(item).pk)
    if invoice.state != InvoiceState.ISSUED or invoice.amount_due <= 0:
        raise ReceivableError(f"invoice {invoice} asks for nothing more")
    now = timezone.now()
    next_chase = item.last_chased_at and item.last_chased_at + timedelta(
        days=settings.BILLING_CHASE_MIN_DAYS
    )
    if next_chase and now < next_chase:
        raise ReceivableError(
            f"the customer was reminded on {timezone.localdate(item.last_chased_at)}: "
            f"next reminder from {timezone.localdate(next_chase)}"
        )
    email = invoice.record.order["billing_entity"]["billing_email"]
    attachments = []
    if invoice.pdf:
        content, digest = stored_bytes(invoice.pdf)
        if digest != invoice.pdf_sha256:  # never send a file other than the one issued
            raise ReceivableError(f"the stored PDF of invoice {invoice} is not the one issued")
        attachments.append((f"{invoice.number}.pdf", content, "application/pdf"))
    # Inside the transaction, under the item's lock: two clicks send one reminder; a failed
    # send records no chase. The key makes a retried transaction send it once.
    send_notification(
        subject=f"Reminder: invoice {invoice.number}, {_due(invoice)} due",
        body=_chase_text(invoice),
        recipients=[email],
        key=f"ar-item-{item.pk}-chase-{item.chase_count + 1}",
        attachments=attachments,
    )
    item.chase_count += 1
    item.last_chased_at = now
    record_change(
        item,
        actor=actor,
        action=Action.AR_ITEM_CHASED,
        data={
            "to": email,
            "invoice": invoice.number,
            "amount_due": str(invoice.amount_due),
            "currency": invoice.currency,
            "chase": item.chase_count,
        },
    )
    return item


def _due(invoice: Invoice) -> str:
    # Amounts are stored with 3 decimals; the customer reads them at the currency's minor unit.
    return f"{invoice.currency} {round_money(invoice.amount_due, invoice.currency)}"


def _chase_text(invoice: Invoice) -> str:
    due_on = f", due on {invoice.due_on.isoformat()}" if invoice.due_on else ""
    total = round_money(invoice.total, invoice.currency)
    return (
        f"Hello,\n\nOur records show {_due(invoice)} still due on invoice {invoice.number} "
        f"(total {invoice.currency} {total}{due_on}).\n"
        f"Please quote the invoice number {invoice.number} with your payment.\n\n"
        f"{settings.INVOICE_PAYMENT_INSTRUCTIONS}\n\n"
        "If you have paid already, thank you, and please disregard this reminder.\n\n"
        f"{settings.CONTRACT_PROVIDER['name']}\n"
    )
