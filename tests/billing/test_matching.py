"""The matching decision for one payment (pure: no database)."""

from datetime import date
from decimal import Decimal

import pytest

from billing.reconciliation.matching import (
    IncomingPayment,
    OpenInvoice,
    decide,
    invoice_numbers_in,
)

D = Decimal
TOLERANCE = D("0.5")


def invoice(pk=1, number="DD-2026-000001", *, due="1000.00", currency="EUR", state="issued",
            issued=date(2026, 1, 1), account=7):  # fmt: skip
    return OpenInvoice(pk, number, 100 + pk, account, currency, state, issued, D(due))


def decide_for(amount, *, found=(), named=None, customer=None, currency="EUR"):
    payment = IncomingPayment(D(amount), currency, "", "")
    if named is None:
        named = [i.number for i in found]
    return decide(
        payment,
        named=named,
        found=list(found),
        customer_invoices=customer,
        fee_tolerance_percent=TOLERANCE,
    )


@pytest.mark.parametrize(
    ("reference", "numbers"),
    [
        ("Invoice DD-2026-000042", ["DD-2026-000042"]),
        ("inv dd 2026 000042 thanks", ["DD-2026-000042"]),
        ("DD2026000042", ["DD-2026-000042"]),
        ("RE DD-2026-00 0042/ORDER 7", ["DD-2026-000042"]),
        ("DD-2026-000042, DD-2025-000007 and dd-2026-000042", ["DD-2026-000042", "DD-2025-000007"]),
        ("ADD-2026-000042", []),  # part of a longer word
        ("DD-2026-0000421", []),  # part of a longer number
        ("INV-2024-0042", []),
        ("", []),
    ],
)
def test_invoice_numbers_are_found_in_references(reference, numbers):
    assert invoice_numbers_in(reference, legal_entity="DD") == numbers


def test_exact_payment_pays_the_invoice():
    decision = decide_for("1000.00", found=[invoice()])
    assert decision.outcome == "paid"
    assert [(a.invoice.id, a.amount) for a in decision.allocations] == [(1, D("1000.00"))]
    assert decision.findings == ()


def test_partial_payment_pays_what_it_can_and_reports_the_rest():
    decision = decide_for("600.00", found=[invoice()])
    assert decision.outcome == "partial"
    assert decision.allocations[0].amount == D("600.00")
    assert decision.findings[0].amount == D("400.00")


def test_short_by_bank_fees_within_the_tolerance():
    decision = decide_for("995.00", found=[invoice()])  # 0.5 % of 1,000
    assert decision.outcome == "bank_fees"
    assert decision.findings[0].amount == D("5.00")
    assert decide_for("994.99", found=[invoice()]).outcome == "partial"


def test_overpayment_allocates_what_is_due_and_reports_the_rest():
    decision = decide_for("1250.00", found=[invoice()])
    assert decision.outcome == "overpaid"
    assert decision.allocations[0].amount == D("1000.00")
    assert decision.findings[0].amount == D("250.00")


def test_invoice_already_paid_is_paid_twice():
    decision = decide_for("1000.00", found=[invoice(state="paid", due="0.00")])
    assert decision.outcome == "paid_twice"
    assert decision.allocations == ()
    assert decision.findings[0].amount == D("1000.00")


def test_other_currency_is_wrong_currency_and_allocates_nothing():
    decision = decide_for("1000.00", found=[invoice()], currency="USD")
    assert decision.outcome == "wrong_currency"
    assert decision.allocations == ()


def test_unknown_invoice_number_is_unmatched():
    decision = decide_for("1000.00", named=["DD-2026-999999"])
    assert decision.outcome == "unmatched"
    assert decision.findings[0].amount == D("1000.00")


def test_several_invoices_are_paid_oldest_first():
    newer = invoice(2, "DD-2026-000002", due="300.00", issued=date(2026, 3, 1))
    older = invoice(1, "DD-2026-000001", due="500.00", issued=date(2026, 2, 1))
    decision = decide_for("600.00", found=[newer, older])
    assert [(a.invoice.id, a.amount) for a in decision.allocations] == [
        (1, D("500.00")),
        (2, D("100.00")),
    ]
    assert decision.outcome == "partial"
    assert decision.findings[0].invoice.id == 2
    assert decision.findings[0].amount == D("200.00")


def test_customer_and_exact_amount_when_the_reference_names_nothing():
    one, other = invoice(1, due="1000.00"), invoice(2, "DD-2026-000002", due="700.00")
    decision = decide_for("700.00", named=[], customer=[one, other])
    assert [a.invoice.id for a in decision.allocations] == [2]


def test_customer_with_two_invoices_of_the_amount_is_unmatched():
    twins = [invoice(1), invoice(2, "DD-2026-000002")]
    assert decide_for("1000.00", named=[], customer=twins).outcome == "unmatched"


def test_customer_without_an_invoice_of_the_amount_is_unmatched():
    assert decide_for("10.00", named=[], customer=[invoice()]).outcome == "unmatched"


def test_unknown_payer_without_a_number_is_unmatched():
    assert decide_for("1000.00", named=[], customer=None).outcome == "unmatched"


def test_customer_paying_in_another_currency_is_wrong_currency():
    decision = decide_for("1000.00", named=[], customer=[invoice()], currency="GBP")
    assert decision.outcome == "wrong_currency"


def test_void_invoice_is_not_paid():
    decision = decide_for("1000.00", found=[invoice(state="void")])
    assert decision.outcome == "unmatched"
    assert decision.allocations == ()
