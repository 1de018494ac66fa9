"""billing/settlement.py: money applied to invoices settles them, the first one pays the deal,
nothing is applied beyond what is due or across currencies, AR items are raised once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from billing.models import ARReason, BillingRecord, Payment
from billing.settlement import Applied, SettlementError, ar_open, invoice_apply, payment_allocate
from dealdesk.services import pipeline_user


def _payment(invoice, amount, *, currency=None, key="p1"):
    return Payment.objects.create(
        source="bank",
        external_id=key,
        received_on=timezone.localdate(),
        amount=amount,
        currency=currency or invoice.currency,
        payer_name="Customer",
    )


def test_a_payment_of_the_whole_first_invoice_pays_it_and_the_deal(issued_invoice):
    invoice = issued_invoice()
    payment = _payment(invoice, invoice.total)
    with transaction.atomic():
        payment_allocate(
            payment.pk, invoice.pk, invoice.total, actor=pipeline_user(), how="matched"
        )
    invoice.refresh_from_db()
    payment.refresh_from_db()
    invoice.deal.refresh_from_db()
    record = BillingRecord.objects.get(pk=invoice.record_id)
    assert (invoice.state, invoice.amount_due) == ("paid", 0)
    assert payment.state == "applied"
    assert invoice.deal.state == "paid"
    assert record.first_paid_on == timezone.localdate()
    assert record.days_to_first_payment == (timezone.localdate() - record.signed_on).days
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert {"payment.allocated", "invoice.paid", "deal.paid"} <= set(actions)


def test_part_of_an_invoice_leaves_it_issued_and_taking_money_back_reopens_a_paid_one(
    issued_invoice,
):
    invoice = issued_invoice()
    actor = pipeline_user()
    with transaction.atomic():
        invoice_apply(invoice.pk, Applied(paid=Decimal("10")), actor=actor, reason="part")
    invoice.refresh_from_db()
    assert (invoice.state, invoice.amount_due) == ("issued", invoice.total - 10)
    with transaction.atomic():
        invoice_apply(invoice.pk, Applied(credited=invoice.amount_due), actor=actor, reason="rest")
    invoice.refresh_from_db()
    assert invoice.state == "paid"
    with transaction.atomic():
        invoice_apply(invoice.pk, Applied(paid=Decimal("-10")), actor=actor, reason="returned")
    invoice.refresh_from_db()
    assert (invoice.state, invoice.amount_due) == ("issued", Decimal("10"))
    assert AuditEvent.objects.filter(action="invoice.reopened").count() == 1


def test_money_beyond_what_is_due_or_in_another_currency_is_refused(issued_invoice):
    invoice = issued_invoice()
    actor = pipeline_user()
    with pytest.raises(SettlementError, match="more than invoice"), transaction.atomic():
        invoice_apply(invoice.pk, Applied(paid=invoice.total + 1), actor=actor, reason="x")
    other = "EUR" if invoice.currency != "EUR" else "USD"
    payment = _payment(invoice, invoice.total, currency=other)
    with pytest.raises(SettlementError, match="cannot pay"), transaction.atomic():
        payment_allocate(payment.pk, invoice.pk, invoice.total, actor=actor, how="matched")
    small = _payment(invoice, Decimal("5"), key="p2")
    with pytest.raises(SettlementError, match="left to apply"), transaction.atomic():
        payment_allocate(small.pk, invoice.pk, Decimal("6"), actor=actor, how="matched")
    invoice.refresh_from_db()
    assert invoice.amount_paid == 0


def test_an_ar_item_is_raised_once_and_holds_the_payment_with_money_left(issued_invoice):
    invoice = issued_invoice()
    payment = _payment(invoice, invoice.total + 100)
    actor = pipeline_user()
    with transaction.atomic():
        payment_allocate(payment.pk, invoice.pk, invoice.total, actor=actor, how="matched")
        first, created = ar_open(
            key=f"payment:{payment.pk}:overpaid",
            reason=ARReason.OVERPAID,
            amount=Decimal("100"),
            currency=payment.currency,
            detail="paid 100 more than the invoice",
            actor=actor,
            invoice=invoice,
            payment=payment,
        )
        again, created_again = ar_open(
            key=f"payment:{payment.pk}:overpaid",
            reason=ARReason.OVERPAID,
            amount=Decimal("100"),
            currency=payment.currency,
            detail="paid 100 more than the invoice",
            actor=actor,
            payment=payment,
        )
    payment.refresh_from_db()
    assert (created, created_again, again.pk) == (True, False, first.pk)
    assert payment.state == "held"
    assert first.deal_id == invoice.deal_id
    assert first.account_id == invoice.deal.account_id
    assert AuditEvent.objects.filter(action="ar_item.opened").count() == 1


def test_the_days_to_first_payment_count_from_signature(issued_invoice):
    invoice = issued_invoice()
    BillingRecord.objects.filter(pk=invoice.record_id).update(
        signed_on=timezone.localdate() - timedelta(days=12)
    )
    with transaction.atomic():
        invoice_apply(invoice.pk, Applied(paid=invoice.total), actor=pipeline_user(), reason="x")
    assert BillingRecord.objects.get(pk=invoice.record_id).days_to_first_payment == 12


def test_paying_the_rest_of_a_part_paid_invoice_settles_its_shortfall_item(issued_invoice):
    invoice = issued_invoice()
    actor = pipeline_user()
    first = _payment(invoice, Decimal("10"))
    rest = _payment(invoice, invoice.total - 10, key="p2")
    with transaction.atomic():
        payment_allocate(first.pk, invoice.pk, Decimal("10"), actor=actor, how="matched")
        item, _ = ar_open(
            key=f"invoice:{invoice.pk}:partial",
            reason=ARReason.PARTIAL,
            amount=invoice.total - 10,
            currency=invoice.currency,
            detail="paid 10",
            actor=actor,
            invoice=invoice,
            payment=first,
        )
        payment_allocate(rest.pk, invoice.pk, invoice.total - 10, actor=actor, how="matched")
    item.refresh_from_db()
    assert (item.state, item.resolution) == ("resolved", "settled")
