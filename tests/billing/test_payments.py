"""Payments received and reconciled: exact, partial, over, short by bank fees, paid twice,
wrong currency, unmatched — each either applied to its invoice or in front of Finance with an
AR item; and received once, however often it arrives."""

from datetime import timedelta
from decimal import Decimal
from functools import partial

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from audit.models import AuditEvent
from billing.models import ARItem, BillingRecord, Invoice, Payment, PaymentAllocation
from billing.reconciliation.payments import (
    PaymentRefused,
    manual_entry_token,
    payment_receive,
    payment_record_manual,
)
from dealdesk.services import pipeline_user
from tests.billing.cash import issued_copy
from tests.concurrency import at_once, raised

pytestmark = pytest.mark.django_db


def receive(invoice_or_none, amount, *, external_id="pay-1", currency=None, reference=None,
            **fields):  # fmt: skip
    currency = currency or (invoice_or_none.currency if invoice_or_none else "USD")
    if reference is None:
        reference = f"Payment for {invoice_or_none.number}" if invoice_or_none else ""
    return payment_receive(
        source="bank",
        external_id=external_id,
        amount=Decimal(amount),
        currency=currency,
        received_on=timezone.localdate(),
        actor=pipeline_user(),
        reference=reference,
        **fields,
    )


def ar_reasons(payment: Payment) -> list[tuple[str, Decimal]]:
    return sorted(ARItem.objects.filter(payment=payment).values_list("reason", "amount"))


def test_exact_payment_pays_the_invoice_and_the_first_one_the_deal(issued_invoice):
    invoice = issued_invoice()
    payment, created = receive(invoice, invoice.total)
    assert created
    invoice.refresh_from_db()
    assert invoice.state == "paid"
    assert invoice.amount_due == 0
    payment.refresh_from_db()
    assert payment.state == "applied"
    assert payment.account_id == invoice.deal.account_id
    assert list(payment.allocations.values_list("invoice_id", "amount")) == [
        (invoice.pk, invoice.total)
    ]
    invoice.deal.refresh_from_db()
    assert invoice.deal.state == "paid"
    record = BillingRecord.objects.get(pk=invoice.record_id)
    assert record.first_paid_on == timezone.localdate()
    assert record.days_to_first_payment is not None
    assert ARItem.objects.count() == 0
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert {"payment.received", "invoice.paid", "deal.paid"} <= set(actions)
    # Born applied: one history row and one event, naming the invoice it paid; no transition
    # from received a moment later.
    assert "payment.allocated" not in actions
    received = AuditEvent.objects.get(action="payment.received")
    assert received.after == {"state": "applied"}
    (applied_to,) = received.data["applied_to"]
    assert (applied_to["invoice"], Decimal(applied_to["amount"])) == (invoice.number, invoice.total)
    assert list(payment.history.values_list("history_type", "state")) == [("+", "applied")]


def test_partial_payment_is_applied_and_the_rest_is_an_ar_item(issued_invoice):
    invoice = issued_invoice()
    half = (invoice.total / 2).quantize(Decimal("0.01"))
    payment, _ = receive(invoice, half)
    invoice.refresh_from_db()
    assert invoice.state == "issued"
    assert invoice.amount_paid == half
    assert ar_reasons(payment) == [("partial", invoice.total - half)]
    assert ARItem.objects.get().invoice == invoice
    invoice.deal.refresh_from_db()
    assert invoice.deal.state == "invoiced"


def test_short_by_bank_fees_is_its_own_reason(issued_invoice, settings):
    settings.BILLING_BANK_FEE_TOLERANCE_PERCENT = "1"
    invoice = issued_invoice()
    fee = (invoice.total / 200).quantize(Decimal("0.01"))  # 0.5 %
    payment, _ = receive(invoice, invoice.total - fee)
    assert ar_reasons(payment) == [("bank_fees", fee)]


def test_bank_fee_tolerance_is_capped(issued_invoice, settings):
    settings.BILLING_BANK_FEE_TOLERANCE_PERCENT = "50"
    invoice = issued_invoice()
    short = (invoice.total * Decimal("0.1")).quantize(Decimal("0.01"))
    payment, _ = receive(invoice, invoice.total - short)
    assert ar_reasons(payment) == [("partial", short)]


def test_overpayment_pays_the_invoice_and_holds_the_rest(issued_invoice):
    invoice = issued_invoice()
    payment, _ = receive(invoice, invoice.total + 100)
    invoice.refresh_from_db()
    assert invoice.state == "paid"
    payment.refresh_from_db()
    assert payment.state == "held"
    assert payment.unapplied == 100
    assert ar_reasons(payment) == [("overpaid", Decimal(100))]
    # Money left over: received, then applied in part and held, each change recorded.
    events = AuditEvent.objects.filter(object_type="billing.payment").order_by("seq")
    assert list(events.values_list("action", flat=True)) == [
        "payment.received", "payment.allocated", "payment.held",
    ]  # fmt: skip
    assert "applied_to" not in events[0].data
    assert [h.history_type for h in payment.history.order_by("history_id")] == ["+", "~", "~"]


def test_paying_a_paid_invoice_again_is_paid_twice(issued_invoice):
    invoice = issued_invoice()
    receive(invoice, invoice.total, external_id="first")
    second, created = receive(invoice, invoice.total, external_id="second")
    assert created
    assert ar_reasons(second) == [("paid_twice", invoice.total)]
    assert not second.allocations.exists()
    invoice.refresh_from_db()
    assert invoice.amount_paid == invoice.total


def test_other_currency_is_wrong_currency_and_applies_nothing(issued_invoice):
    invoice = issued_invoice()
    other = "EUR" if invoice.currency != "EUR" else "USD"
    payment, _ = receive(invoice, invoice.total, currency=other)
    assert ar_reasons(payment) == [("wrong_currency", invoice.total)]
    invoice.refresh_from_db()
    assert invoice.amount_paid == 0
    payment.refresh_from_db()
    assert payment.state == "held"


def test_payment_for_an_unknown_invoice_is_an_unmatched_ar_item(issued_invoice):
    invoice = issued_invoice()
    payment, created = receive(None, "123.45", reference="Invoice DD-2026-999999")
    assert created
    assert ar_reasons(payment) == [("unmatched", Decimal("123.45"))]
    payment.refresh_from_db()
    assert payment.state == "held"
    assert "DD-2026-999999" in ARItem.objects.get().detail
    invoice.refresh_from_db()
    assert invoice.amount_paid == 0


def test_payer_name_and_exact_amount_match_without_a_reference(issued_invoice):
    invoice = issued_invoice()
    account = invoice.deal.account
    payment, _ = receive(
        None, invoice.total, currency=invoice.currency, payer_name=account.name.upper() + " LTD"
    )
    payment.refresh_from_db()
    assert payment.state == "applied"
    assert payment.account_id == account.pk


def test_given_invoice_is_paid_whatever_the_reference(issued_invoice):
    invoice = issued_invoice()
    receive(None, invoice.total, currency=invoice.currency, invoice_id=invoice.pk)
    invoice.refresh_from_db()
    assert invoice.state == "paid"


def test_one_payment_for_two_invoices_pays_the_oldest_first(issued_invoice):
    first = issued_invoice()
    later = issued_copy(first, serial=2, total=Decimal("50000.00"), days_later=30)
    reference = f"{later.number} + {first.number}"
    payment, _ = receive(first, first.total + 200, reference=reference)
    first.refresh_from_db()
    later.refresh_from_db()
    assert first.state == "paid"
    assert later.amount_paid == 200
    assert ar_reasons(payment) == [("partial", Decimal("49800.00"))]


def test_the_same_payment_twice_adds_nothing(issued_invoice):
    invoice = issued_invoice()
    payment, created = receive(invoice, invoice.total)
    events = AuditEvent.objects.count()
    again, created_again = receive(invoice, invoice.total)
    assert (again.pk, created, created_again) == (payment.pk, True, False)
    assert Payment.objects.count() == 1
    assert PaymentAllocation.objects.count() == 1
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("amount", ["0", "-5", "1.001"])
def test_payment_amount_is_refused_unless_positive_in_minor_units(issued_invoice, amount):
    invoice = issued_invoice()
    with pytest.raises(PaymentRefused):
        receive(invoice, amount)
    assert not Payment.objects.exists()


def test_unknown_currency_is_refused(db):
    with pytest.raises(PaymentRefused):
        receive(None, "10", currency="XYZ")
    assert not Payment.objects.exists()


def test_payment_receive_needs_finance_or_the_pipeline(make_user):
    with pytest.raises(PermissionDenied):
        payment_receive(
            source="bank", external_id="x", amount=Decimal(1), currency="USD",
            received_on=timezone.localdate(), actor=make_user("Deal Desk"),
        )  # fmt: skip
    assert not Payment.objects.exists()


# --- manual entry ---------------------------------------------------------------------------


def record_manual(actor, invoice, *, token=None, **fields):
    values = {
        "actor": actor,
        "entry_token": token or manual_entry_token(),
        "amount": invoice.total,
        "currency": invoice.currency,
        "received_on": timezone.localdate(),
        "payer_name": "Customer",
        "reference": invoice.number,
    }
    return payment_record_manual(**(values | fields))


def test_finance_records_a_payment_and_a_double_submit_adds_nothing(issued_invoice, make_user):
    invoice = issued_invoice()
    finance = make_user("Finance")
    token = manual_entry_token()
    payment = record_manual(finance, invoice, token=token)
    again = record_manual(finance, invoice, token=token)
    assert again.pk == payment.pk
    assert Payment.objects.count() == 1
    assert payment.source == "manual"
    assert payment.recorded_by == finance
    invoice.refresh_from_db()
    assert invoice.state == "paid"
    assert AuditEvent.objects.filter(action="payment.recorded").count() == 1


def test_manual_entry_is_for_finance_only(issued_invoice, make_user):
    invoice = issued_invoice()
    with pytest.raises(PermissionDenied):
        record_manual(make_user("Deal Desk"), invoice)
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"amount": Decimal(0)},
        {"amount": Decimal(-1)},
        {"currency": "ABC"},
        {"received_on": timezone.localdate() + timedelta(days=1)},
        {"token": "short"},
    ],
)
def test_manual_entry_refuses_bad_values(issued_invoice, make_user, fields):
    invoice = issued_invoice()
    with pytest.raises(PaymentRefused):
        record_manual(make_user("Finance"), invoice, **fields)
    assert not Payment.objects.exists()


# --- concurrency ------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_payment_from_ten_threads_is_received_once(issued_invoice):
    invoice = issued_invoice()
    deliver = partial(receive, invoice, invoice.total, external_id="stripe-like-1")
    outcomes = at_once(*[deliver] * 10)
    assert raised(outcomes) == []
    assert sorted(created for _, created in outcomes) == [False] * 9 + [True]
    assert Payment.objects.count() == 1
    assert PaymentAllocation.objects.count() == 1
    invoice = Invoice.objects.get(pk=invoice.pk)
    assert invoice.amount_paid == invoice.total
    assert AuditEvent.objects.filter(action="payment.received").count() == 1


def test_explain_billing_shows_payments_allocations_and_ar_items(issued_invoice):
    import json
    from io import StringIO

    from django.core.management import call_command

    invoice = issued_invoice()
    receive(invoice, invoice.total + 5)
    out = StringIO()
    call_command("explain_billing", invoice.deal.crm_id, stdout=out)
    explained = json.loads(out.getvalue())
    (payment,) = explained["payments"]
    assert (payment["source"], payment["state"], payment["currency"]) == (
        "bank",
        "held",
        invoice.currency,
    )
    assert payment["allocations"] == [
        {
            "invoice": invoice.number,
            "amount": str(invoice.total),
            "taken_back": "0.000",
            "how": "matched",
        }
    ]
    assert [(i["reason"], i["amount"]) for i in explained["ar_items"]] == [("overpaid", "5.000")]
