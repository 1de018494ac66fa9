"""The matching decision for one payment: which invoices it pays and what goes to Finance.

Pure: no database. The caller hands in the invoices the payment's reference names (found by
`invoice_numbers_in`) or, failing that, the customer's open invoices (billing/reconciliation/
open_invoices.py fetches both in bulk), and applies the decision through billing.settlement.

The rules, in order:
1. The reference names our invoice numbers → those invoices, oldest first. Another currency
   → `wrong_currency`; all of them already paid → `paid_twice`; the money runs out before
   they are paid → `partial`, or `bank_fees` when short by no more than the tolerance; money
   left over → `overpaid` (or `paid_twice` when a named invoice was already paid).
2. No number → the customer (given, or by the payer's name) and an open invoice of exactly
   this amount, the only one of that customer in this currency.
3. Nothing found → `unmatched`. Every outcome but "paid" is an AR item: nothing is guessed.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from billing.models import ARReason, InvoiceState

ZERO = Decimal(0)
PAID = "paid"


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    """What matching needs to know of an invoice (issued, paid or void)."""

    id: int
    number: str
    deal_id: int
    account_id: int
    currency: str
    state: str
    issue_on: date
    amount_due: Decimal


@dataclass(frozen=True, slots=True)
class IncomingPayment:
    amount: Decimal
    currency: str
    reference: str = ""
    payer_name: str = ""


@dataclass(frozen=True, slots=True)
class Allocation:
    invoice: OpenInvoice
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Finding:
    """One AR item to open: its reason, the amount in question and the invoice concerned."""

    reason: str
    amount: Decimal
    detail: str
    invoice: OpenInvoice | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    allocations: tuple[Allocation, ...] = ()
    findings: tuple[Finding, ...] = ()

    @property
    def outcome(self) -> str:
        """ "paid", or the first AR reason (what the preview and the summary count)."""
        return self.findings[0].reason if self.findings else PAID

    @property
    def invoices(self) -> list[OpenInvoice]:
        """The invoices it concerns, allocated ones first, each once."""
        found = [a.invoice for a in self.allocations] + [f.invoice for f in self.findings]
        return list({i.id: i for i in found if i is not None}.values())


@lru_cache(maxsize=8)
def _number_pattern(legal_entity: str) -> re.Pattern[str]:
    # Customers and banks write "DD-2026-000042" as "dd 2026 000042", "DD2026000042" or split
    # over two remittance lines ("DD-2026-00 0042"): spaces may fall anywhere, separators are
    # optional, and the number must not be part of a longer word or number.
    space = r"\s*"
    entity = space.join(re.escape(c) for c in legal_entity.upper())
    digits = lambda n: space.join([r"\d"] * n)  # noqa: E731
    return re.compile(
        rf"(?<![A-Z0-9]){entity}{space}[-_/.]?{space}(?P<year>{digits(4)}){space}[-_/.]?"
        rf"{space}(?P<serial>{digits(6)})(?![0-9])"
    )


def invoice_numbers_in(reference: str, *, legal_entity: str) -> list[str]:
    """Our invoice numbers written in a payment's reference, in canonical form, in order."""
    found = []
    for match in _number_pattern(legal_entity).finditer(reference.upper()):
        year, serial = (re.sub(r"\s", "", match[g]) for g in ("year", "serial"))
        found.append(f"{legal_entity.upper()}-{year}-{serial}")
    return list(dict.fromkeys(found))


def decide(
    payment: IncomingPayment,
    *,
    named: Sequence[str],
    found: Sequence[OpenInvoice],
    customer_invoices: Sequence[OpenInvoice] | None,
    fee_tolerance_percent: Decimal,
) -> Decision:
    """Decide for one payment. `named`: the invoice numbers its reference (or the caller)
    names; `found`: those that exist; `customer_invoices`: the open invoices of its customer
    (None: the customer is unknown), used only when nothing is named."""
    if named:
        if not found:
            return _unmatched(payment, f"invoice {', '.join(named)} is not one of ours")
        return _pay_named(payment, found, fee_tolerance_percent)
    if customer_invoices is None:
        return _unmatched(payment, "no invoice number in the reference and the payer is unknown")
    same_amount = [
        invoice
        for invoice in customer_invoices
        if invoice.state == InvoiceState.ISSUED
        and invoice.currency == payment.currency
        and invoice.amount_due == payment.amount
    ]
    if len(same_amount) == 1:
        return Decision(allocations=(Allocation(same_amount[0], payment.amount),))
    if customer_invoices and all(i.currency != payment.currency for i in customer_invoices):
        currencies = ", ".join(sorted({i.currency for i in customer_invoices}))
        return Decision(
            findings=(
                Finding(
                    ARReason.WRONG_CURRENCY,
                    payment.amount,
                    f"paid in {payment.currency}; the customer's open invoices are in {currencies}",
                    customer_invoices[0],
                ),
            )
        )
    why = "several open invoices" if same_amount else "no open invoice"
    return _unmatched(
        payment,
        f"no invoice number in the reference; the customer has {why} of "
        f"{payment.currency} {payment.amount}",
    )


def _unmatched(payment: IncomingPayment, why: str) -> Decision:
    return Decision(findings=(Finding(ARReason.UNMATCHED, payment.amount, why),))


def _pay_named(
    payment: IncomingPayment, found: Sequence[OpenInvoice], fee_tolerance_percent: Decimal
) -> Decision:
    invoices = sorted(found, key=lambda i: (i.issue_on, i.number))
    payable = [i for i in invoices if i.currency == payment.currency]
    if not payable:
        return Decision(
            findings=(
                Finding(
                    ARReason.WRONG_CURRENCY,
                    payment.amount,
                    f"paid in {payment.currency}; invoice {invoices[0].number} is in "
                    f"{invoices[0].currency}",
                    invoices[0],
                ),
            )
        )
    if all(i.state == InvoiceState.VOID for i in payable):
        return _unmatched(payment, f"invoice {payable[0].number} is void")
    open_ = [i for i in payable if i.state == InvoiceState.ISSUED and i.amount_due > 0]
    settled = [i for i in payable if i not in open_ and i.state != InvoiceState.VOID]
    allocations, left = [], payment.amount
    for invoice in open_:
        if left == 0:
            break
        share = min(left, invoice.amount_due)
        allocations.append(Allocation(invoice, share))
        left -= share
    findings = []
    if left > 0:
        if settled:
            numbers = ", ".join(i.number for i in settled)
            findings.append(
                Finding(
                    ARReason.PAID_TWICE,
                    left,
                    f"invoice {numbers} was already {settled[0].state}",
                    settled[0],
                )
            )
        else:
            findings.append(
                Finding(
                    ARReason.OVERPAID,
                    left,
                    f"{payment.currency} {left} more than invoice "
                    f"{', '.join(i.number for i in open_)} asked for",
                    open_[-1],
                )
            )
    due = sum((i.amount_due for i in open_), ZERO)
    short = due - (payment.amount - left)
    if short > 0:
        first_unpaid = next(i for i, paid in _paid_by(open_, allocations) if paid < i.amount_due)
        within_fees = short <= due * fee_tolerance_percent / 100
        findings.append(
            Finding(
                ARReason.BANK_FEES if within_fees else ARReason.PARTIAL,
                short,
                f"{payment.currency} {short} short of the {payment.currency} {due} due"
                + (" (within the bank-fee tolerance)" if within_fees else ""),
                first_unpaid,
            )
        )
    return Decision(allocations=tuple(allocations), findings=tuple(findings))


def _paid_by(
    invoices: Sequence[OpenInvoice], allocations: Sequence[Allocation]
) -> list[tuple[OpenInvoice, Decimal]]:
    paid = {a.invoice.id: a.amount for a in allocations}
    return [(invoice, paid.get(invoice.id, ZERO)) for invoice in invoices]
