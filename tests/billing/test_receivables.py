"""billing/receivables.py: Finance's actions on AR items — allocate, write off (with a second
approver above tolerance, never the requester nor whoever typed the payment in), credit notes
in their own gapless series, refunds within what is unapplied, chasing with its throttle — and
every action refused on an item in the wrong state or by someone outside Finance."""

from datetime import timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from billing.models import ARReason, CreditNote, Payment, PaymentAllocation, Refund
from billing.receivables import (
    ReceivableError,
    ar_allocate,
    ar_chase,
    ar_credit_note,
    ar_refund,
    ar_write_off,
    ar_write_off_approve,
    ar_write_off_reject,
    write_off_tolerance_set,
)
from billing.settlement import SettlementError, ar_open, payment_allocate
from dealdesk.roles import SegregationOfDutiesError
from dealdesk.services import pipeline_user

_keys = count(1)


def _payment(amount, currency, *, source="bank", recorded_by=None):
    return Payment.objects.create(
        source=source,
        external_id=f"entry-{next(_keys)}",
        received_on=timezone.localdate(),
        amount=amount,
        currency=currency,
        payer_name="Customer",
        recorded_by=recorded_by,
    )


def _item(reason, *, amount, currency, invoice=None, payment=None):
    with transaction.atomic():
        item, _ = ar_open(
            key=f"test:{next(_keys)}",
            reason=reason,
            amount=amount,
            currency=currency,
            detail=f"{reason} in a test",
            actor=pipeline_user(),
            invoice=invoice,
            payment=payment,
        )
    return item


def partial_item(invoice, paid, **payment_fields):
    """`paid` of `invoice` came in and was applied; the rest is an AR item on the invoice."""
    payment = _payment(paid, invoice.currency, **payment_fields)
    with transaction.atomic():
        payment_allocate(payment.pk, invoice.pk, paid, actor=pipeline_user(), how="matched")
    invoice.refresh_from_db()
    return _item(
        ARReason.PARTIAL,
        amount=invoice.amount_due,
        currency=invoice.currency,
        invoice=invoice,
        payment=payment,
    )


def held_item(amount, currency, reason=ARReason.UNMATCHED, **payment_fields):
    """A payment nothing matched: all of it held with an AR item."""
    payment = _payment(amount, currency, **payment_fields)
    return _item(reason, amount=amount, currency=currency, payment=payment)


def _refreshed(*objects):
    for obj in objects:
        obj.refresh_from_db()


def _actions():
    return list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))


@pytest.fixture
def finance(make_user):
    return make_user("Finance", username="fin_a"), make_user("Finance", username="fin_b")


# --- allocate -----------------------------------------------------------------------------


def test_finance_allocates_a_held_payment_to_an_invoice_which_is_paid(issued_invoice, finance):
    invoice = issued_invoice()
    fin_a, _ = finance
    item = held_item(invoice.total + 100, invoice.currency)
    item = ar_allocate(item_id=item.pk, invoice_id=invoice.pk, amount=invoice.total, actor=fin_a)
    _refreshed(invoice, item.payment, invoice.deal)
    assert (invoice.state, invoice.deal.state) == ("paid", "paid")
    assert item.state == "open"  # 100 of the payment is still not applied
    assert item.payment.state == "held"
    allocation = PaymentAllocation.objects.get(payment=item.payment)
    assert (allocation.how, allocation.allocated_by) == ("allocated", fin_a)

    second = issued_invoice(legal_name="Second Customer Ltd")
    item = ar_allocate(item_id=item.pk, invoice_id=second.pk, amount="100", actor=fin_a)
    _refreshed(second, item.payment)
    assert (item.state, item.resolution) == ("resolved", "allocated")
    assert (second.state, second.amount_due) == ("issued", second.total - 100)
    assert item.payment.state == "applied"


def test_allocating_the_last_of_the_payment_resolves_the_item(issued_invoice, finance):
    invoice = issued_invoice()
    item = held_item(Decimal("250.00"), invoice.currency)
    item = ar_allocate(
        item_id=item.pk, invoice_id=invoice.pk, amount="250.00", actor=finance[0], note="ours"
    )
    _refreshed(invoice, item.payment)
    assert (item.state, item.resolution, item.resolution_note) == ("resolved", "allocated", "ours")
    assert item.payment.state == "applied"
    assert invoice.amount_due == invoice.total - 250
    assert _actions()[-2:] == ["payment.allocated", "ar_item.resolved"]


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        ("abc", "not an amount"),
        ("-5", "more than zero"),
        ("0", "more than zero"),
        ("1.001", "at most 2 decimals"),
        ("NaN", "more than zero"),
        ("251", "left to apply"),
    ],
)
def test_allocations_of_a_bad_amount_are_refused(issued_invoice, finance, amount, error):
    invoice = issued_invoice()
    item = held_item(Decimal("250"), invoice.currency)
    with pytest.raises((ReceivableError, SettlementError), match=error):
        ar_allocate(item_id=item.pk, invoice_id=invoice.pk, amount=amount, actor=finance[0])
    assert not PaymentAllocation.objects.filter(payment=item.payment).exists()


def test_a_payment_is_not_allocated_across_currencies_nor_by_anyone_outside_finance(
    issued_invoice, finance, desk_user
):
    invoice = issued_invoice()
    other = "EUR" if invoice.currency != "EUR" else "USD"
    item = held_item(Decimal("250"), other, reason=ARReason.WRONG_CURRENCY)
    with pytest.raises(SettlementError, match="cannot pay"):
        ar_allocate(item_id=item.pk, invoice_id=invoice.pk, amount="250", actor=finance[0])
    same = held_item(Decimal("250"), invoice.currency)
    with pytest.raises(PermissionDenied):
        ar_allocate(item_id=same.pk, invoice_id=invoice.pk, amount="250", actor=desk_user)
    assert not PaymentAllocation.objects.filter(payment__in=[item.payment, same.payment]).exists()


# --- write-off ----------------------------------------------------------------------------


def test_a_write_off_within_tolerance_is_applied_at_once(issued_invoice, finance):
    invoice = issued_invoice()
    fin_a, _ = finance
    write_off_tolerance_set(currency=invoice.currency, amount="50", actor=fin_a)
    item = partial_item(invoice, invoice.total - Decimal("12.50"))
    item = ar_write_off(item_id=item.pk, amount="12.50", actor=fin_a, reason="bank fees")
    _refreshed(invoice)
    assert (item.state, item.resolution, item.resolved_by) == ("resolved", "written_off", fin_a)
    assert (invoice.state, invoice.amount_written_off) == ("paid", Decimal("12.50"))
    assert "ar_item.write_off_requested" not in _actions()


def test_above_tolerance_a_second_finance_user_approves_never_the_requester(
    issued_invoice, finance
):
    invoice = issued_invoice()
    fin_a, fin_b = finance
    write_off_tolerance_set(currency=invoice.currency, amount="50", actor=fin_a)
    item = partial_item(invoice, invoice.total - 80)
    item = ar_write_off(item_id=item.pk, amount="80", actor=fin_a, reason="goodwill")
    _refreshed(invoice)
    assert (item.state, item.write_off_amount, item.write_off_requested_by) == (
        "awaiting_approval",
        Decimal("80"),
        fin_a,
    )
    assert invoice.amount_written_off == 0
    with pytest.raises(SegregationOfDutiesError, match="second Finance user"):
        ar_write_off_approve(item_id=item.pk, actor=fin_a)
    _refreshed(invoice, item)
    assert (invoice.amount_written_off, item.state) == (0, "awaiting_approval")
    assert "ar_item.write_off_approved" not in _actions()

    item = ar_write_off_approve(item_id=item.pk, actor=fin_b)
    _refreshed(invoice)
    assert (item.state, item.resolution, item.resolved_by) == ("resolved", "written_off", fin_b)
    assert (invoice.state, invoice.amount_written_off) == ("paid", Decimal("80"))
    resolved = AuditEvent.objects.get(action="ar_item.resolved")
    assert (resolved.data["requested_by"], resolved.data["approved_by"]) == (fin_a.pk, fin_b.pk)
    # The approval is an event of its own, by the approver, before the item resolves.
    approved = AuditEvent.objects.get(action="ar_item.write_off_approved")
    assert (approved.actor, approved.object_id) == (fin_b, str(item.pk))
    assert approved.data == {
        "amount": "80.00",
        "currency": invoice.currency,
        "invoice": invoice.number,
        "requested_by": fin_a.pk,
        "approved_by": fin_b.pk,
    }
    actions = _actions()
    assert actions.index("ar_item.write_off_approved") < actions.index("ar_item.resolved")


def test_without_a_tolerance_every_write_off_needs_a_second_approver(issued_invoice, finance):
    invoice = issued_invoice()
    item = partial_item(invoice, invoice.total - 1)
    item = ar_write_off(item_id=item.pk, amount="1", actor=finance[0], reason="a cent or so")
    assert item.state == "awaiting_approval"
    # At the currency's minor unit, as the amount is checked (checked_money).
    assert AuditEvent.objects.get(action="ar_item.write_off_requested").data["amount"] == "1.00"


def test_who_typed_in_the_payment_neither_writes_it_off_alone_nor_approves_it(
    issued_invoice, finance, make_user
):
    invoice = issued_invoice()
    fin_a, fin_b = finance
    fin_c = make_user("Finance", username="fin_c")
    write_off_tolerance_set(currency=invoice.currency, amount="50", actor=fin_a)
    item = partial_item(invoice, invoice.total - 80, source="manual", recorded_by=fin_a)
    # Within tolerance, but fin_a entered the payment: it waits for someone else.
    item = ar_write_off(item_id=item.pk, amount="10", actor=fin_a, reason="fees")
    assert item.state == "awaiting_approval"
    ar_write_off_reject(item_id=item.pk, actor=fin_b, reason="ask the customer first")
    # Requested by fin_b this time (above tolerance): fin_a still may not approve it.
    item = ar_write_off(item_id=item.pk, amount="80", actor=fin_b, reason="they will not pay")
    assert item.state == "awaiting_approval"
    with pytest.raises(SegregationOfDutiesError, match="entered this payment"):
        ar_write_off_approve(item_id=item.pk, actor=fin_a)
    _refreshed(invoice)
    assert invoice.amount_written_off == 0
    ar_write_off_approve(item_id=item.pk, actor=fin_c)
    _refreshed(invoice)
    assert (invoice.amount_written_off, invoice.state) == (Decimal("80"), "paid")


def test_a_rejected_write_off_opens_the_item_again_and_needs_a_reason(issued_invoice, finance):
    invoice = issued_invoice()
    fin_a, fin_b = finance
    item = partial_item(invoice, invoice.total - 80)
    ar_write_off(item_id=item.pk, amount="80", actor=fin_a, reason="goodwill")
    with pytest.raises(ReceivableError, match="why"):
        ar_write_off_reject(item_id=item.pk, actor=fin_b, reason="  ")
    item = ar_write_off_reject(item_id=item.pk, actor=fin_b, reason="chase them instead")
    assert (item.state, item.write_off_amount, item.write_off_requested_by) == ("open", None, None)
    event = AuditEvent.objects.get(action="ar_item.write_off_rejected")
    assert (event.reason, event.data["requested_by"]) == ("chase them instead", fin_a.pk)


def test_no_more_is_written_off_than_the_invoice_still_asks_for(issued_invoice, finance):
    invoice = issued_invoice()
    write_off_tolerance_set(currency=invoice.currency, amount="500", actor=finance[0])
    item = partial_item(invoice, invoice.total - 10)
    with pytest.raises(ReceivableError, match=r"due, not 10\.01"):
        ar_write_off(item_id=item.pk, amount="10.01", actor=finance[0], reason="fees")
    with pytest.raises(ReceivableError, match="why"):
        ar_write_off(item_id=item.pk, amount="10", actor=finance[0], reason="")
    item.refresh_from_db()
    assert item.state == "open"
    assert "ar_item.write_off_requested" not in _actions()


# --- credit notes -------------------------------------------------------------------------


def test_credit_notes_are_numbered_gaplessly_in_their_own_series(issued_invoice, finance):
    invoice = issued_invoice()
    fin_a, _ = finance
    year = timezone.localdate().year
    first = partial_item(invoice, invoice.total - 300)
    second = _item(
        ARReason.DISPUTED, amount=Decimal(100), currency=invoice.currency, invoice=invoice
    )
    note = ar_credit_note(item_id=first.pk, amount="200", reason="service outage", actor=fin_a)
    assert note.number == f"{invoice.legal_entity}-CN-{year}-000001"
    with pytest.raises(ReceivableError, match=r"not 100\.01 to credit"):
        ar_credit_note(item_id=second.pk, amount="100.01", reason="too much", actor=fin_a)
    again = ar_credit_note(item_id=second.pk, amount="100", reason="disputed seat", actor=fin_a)
    assert again.number == f"{invoice.legal_entity}-CN-{year}-000002"  # the refusal took none
    _refreshed(invoice, first)
    assert (invoice.state, invoice.amount_credited) == ("paid", Decimal(300))
    assert (first.state, first.resolution) == ("resolved", "credited")
    assert invoice.number.endswith("-000001")  # invoices keep their own series
    assert _actions().count("credit_note.issued") == 2
    assert list(CreditNote.objects.values_list("ar_item_id", flat=True)) == [second.pk, first.pk]


def test_a_credit_note_needs_an_invoice_and_a_reason(issued_invoice, finance):
    invoice = issued_invoice()
    item = held_item(Decimal("10"), invoice.currency)
    with pytest.raises(ReceivableError, match="names no invoice"):
        ar_credit_note(item_id=item.pk, amount="10", reason="x", actor=finance[0])
    credited = partial_item(invoice, invoice.total - 10)
    with pytest.raises(ReceivableError, match="why"):
        ar_credit_note(item_id=credited.pk, amount="10", reason="", actor=finance[0])
    assert not CreditNote.objects.exists()


# --- refunds ------------------------------------------------------------------------------


def test_an_overpayment_is_refunded_within_what_was_not_applied(issued_invoice, finance):
    invoice = issued_invoice()
    fin_a, _ = finance
    payment = _payment(invoice.total + 40, invoice.currency)
    with transaction.atomic():
        payment_allocate(payment.pk, invoice.pk, invoice.total, actor=fin_a, how="matched")
    item = _item(ARReason.OVERPAID, amount=Decimal(40), currency=invoice.currency, payment=payment)
    with pytest.raises(ReceivableError, match=r"left to refund, not 40\.01"):
        ar_refund(item_id=item.pk, amount="40.01", reason="overpaid", actor=fin_a, reference="R1")
    with pytest.raises(ReceivableError, match="bank reference"):
        ar_refund(item_id=item.pk, amount="40", reason="overpaid", actor=fin_a)
    assert not Refund.objects.exists()
    refund = ar_refund(
        item_id=item.pk, amount="40", reason="overpaid", actor=fin_a, reference="BANK-REF-9"
    )
    _refreshed(payment, item)
    assert (refund.amount, refund.external_id, refund.ar_item) == (Decimal(40), "BANK-REF-9", item)
    assert (payment.amount_refunded, payment.unapplied, payment.state) == (40, 0, "applied")
    assert (item.state, item.resolution) == ("resolved", "refunded")
    assert _actions()[-3:] == ["refund.issued", "payment.refunded", "ar_item.resolved"]


def test_a_payment_refunded_whole_is_refunded(issued_invoice, finance):
    invoice = issued_invoice()
    item = held_item(Decimal("99.99"), invoice.currency, reason=ARReason.PAID_TWICE)
    ar_refund(
        item_id=item.pk, amount="99.99", reason="paid twice", actor=finance[0], reference="R2"
    )
    item.payment.refresh_from_db()
    assert (item.payment.state, item.payment.amount_refunded) == ("refunded", Decimal("99.99"))
    assert Refund.objects.count() == 1


# --- chasing ------------------------------------------------------------------------------


def test_chasing_mails_the_billing_contact_and_waits_before_the_next_reminder(
    issued_invoice, finance, settings
):
    settings.BILLING_CHASE_MIN_DAYS = 7
    invoice = issued_invoice()
    item = partial_item(invoice, Decimal("1000"))
    mail.outbox.clear()
    item = ar_chase(item_id=item.pk, actor=finance[0])
    assert (item.chase_count, item.last_chased_at is not None) == (1, True)
    [message] = mail.outbox
    email = invoice.record.order["billing_entity"]["billing_email"]
    assert message.to == [email]
    assert invoice.number in message.subject
    due = f"{invoice.currency} {invoice.total - 1000:.2f}"
    assert due in message.subject
    assert due in message.body
    assert message.attachments[0][0] == f"{invoice.number}.pdf"
    assert message.attachments[0][1] == invoice.pdf.open("rb").read()

    with pytest.raises(ReceivableError, match="next reminder from"):
        ar_chase(item_id=item.pk, actor=finance[1])
    assert len(mail.outbox) == 1
    item.last_chased_at -= timedelta(days=7)
    item.save()
    item = ar_chase(item_id=item.pk, actor=finance[1])
    assert (item.chase_count, len(mail.outbox)) == (2, 2)
    assert _actions().count("ar_item.chased") == 2


def test_an_invoice_paid_meanwhile_is_not_chased(issued_invoice, finance):
    invoice = issued_invoice()
    item = partial_item(invoice, invoice.total - 5)
    second = _item(
        ARReason.BANK_FEES, amount=Decimal(5), currency=invoice.currency, invoice=invoice
    )
    ar_credit_note(item_id=second.pk, amount="5", reason="fees on us", actor=finance[0])
    mail.outbox.clear()
    with pytest.raises(ReceivableError, match="asks for nothing more"):
        ar_chase(item_id=item.pk, actor=finance[0])
    assert mail.outbox == []


# --- states and permissions ---------------------------------------------------------------


def test_a_resolved_item_takes_no_further_action(issued_invoice, finance):
    invoice = issued_invoice()
    fin_a, fin_b = finance
    item = partial_item(invoice, invoice.total - 10)
    ar_credit_note(item_id=item.pk, amount="10", reason="settled", actor=fin_a)
    before = AuditEvent.objects.count()
    for act in (
        lambda: ar_allocate(item_id=item.pk, invoice_id=invoice.pk, amount="1", actor=fin_a),
        lambda: ar_write_off(item_id=item.pk, amount="1", actor=fin_a, reason="x"),
        lambda: ar_write_off_approve(item_id=item.pk, actor=fin_b),
        lambda: ar_write_off_reject(item_id=item.pk, actor=fin_b, reason="x"),
        lambda: ar_credit_note(item_id=item.pk, amount="1", reason="x", actor=fin_a),
        lambda: ar_refund(item_id=item.pk, amount="1", reason="x", actor=fin_a, reference="r"),
        lambda: ar_chase(item_id=item.pk, actor=fin_a),
    ):
        with pytest.raises(ReceivableError, match="is resolved"):
            act()
    assert AuditEvent.objects.count() == before


def test_an_item_awaiting_approval_is_only_approved_or_rejected(issued_invoice, finance):
    invoice = issued_invoice()
    fin_a, _ = finance
    item = partial_item(invoice, invoice.total - 80)
    ar_write_off(item_id=item.pk, amount="80", actor=fin_a, reason="goodwill")
    with pytest.raises(ReceivableError, match="awaiting approval"):
        ar_credit_note(item_id=item.pk, amount="80", reason="x", actor=fin_a)
    with pytest.raises(ReceivableError, match="awaiting approval"):
        ar_chase(item_id=item.pk, actor=fin_a)
    open_item = partial_item(issued_invoice(legal_name="Other Co"), Decimal(1))
    with pytest.raises(ReceivableError, match="is open"):
        ar_write_off_approve(item_id=open_item.pk, actor=fin_a)


def test_only_finance_acts_and_sets_tolerances(issued_invoice, finance, desk_user):
    invoice = issued_invoice()
    item = partial_item(invoice, invoice.total - 10)
    for act in (
        lambda: ar_write_off(item_id=item.pk, amount="10", actor=desk_user, reason="x"),
        lambda: ar_credit_note(item_id=item.pk, amount="10", reason="x", actor=desk_user),
        lambda: ar_chase(item_id=item.pk, actor=desk_user),
        lambda: write_off_tolerance_set(currency="USD", amount="5", actor=desk_user),
    ):
        with pytest.raises(PermissionDenied, match=r"may not .*: that is Finance's"):
            act()
    _refreshed(invoice)
    assert invoice.amount_due == 10


def test_tolerances_are_set_per_currency_with_history_and_audit(db, finance):
    fin_a, fin_b = finance
    tolerance = write_off_tolerance_set(currency="usd", amount="25", actor=fin_a)
    tolerance = write_off_tolerance_set(currency="USD", amount="30.50", actor=fin_b)
    assert (tolerance.currency, tolerance.amount, tolerance.updated_by) == ("USD", 30.50, fin_b)
    assert tolerance.history.count() == 2
    events = AuditEvent.objects.filter(action="write_off_tolerance.set").order_by("seq")
    assert [(e.before, e.after) for e in events] == [
        ({}, {"amount": "25.00"}),
        ({"amount": "25.00"}, {"amount": "30.50"}),
    ]
    assert write_off_tolerance_set(currency="JPY", amount="0", actor=fin_a).amount == 0
    for currency, amount, error in [
        ("USD", "-1", "more than zero"),
        ("JPY", "0.5", "at most 0 decimals"),
        ("XXX", "1", "not an amount"),
    ]:
        with pytest.raises(ReceivableError, match=error):
            write_off_tolerance_set(currency=currency, amount=amount, actor=fin_a)
