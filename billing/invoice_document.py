"""The invoice as a customer reads it: a PDF in the contract's house style, and the same
content as plain text for the e-mail that carries it.

Built from a plain typed record (`InvoiceDocument`), not from the billing models, so what is
printed is exactly what the caller froze. The PDF is drawn by `contracts.rendering.render_pdf`:
every value escaped once there (never here), WeasyPrint fetching only our static files, and a
character that would print as a box refusing the whole document. A record whose figures do not
add up is refused before anything is drawn: an invoice is a legal document that people pay
from, so its lines, totals, amount due and due date must agree on the page.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings

from billing.document_templates import invoice_html
from contracts.rendering import render_pdf
from dealdesk.pricing import PricingError, round_money
from dealdesk.templatetags.dealdesk import money


class InvoiceDocumentError(ValueError):
    """The record cannot be printed as an invoice; `str()` says which figure is wrong."""


@dataclass(frozen=True)
class InvoiceParty:
    name: str
    address: str  # may span lines
    tax_id: str = ""
    email: str = ""


@dataclass(frozen=True)
class InvoiceDocumentLine:
    description: str
    period_start: dt.date
    period_last_day: dt.date | None  # None: a one-time charge, dated period_start
    quantity: Decimal
    amount: Decimal  # already rounded to the currency's minor unit
    contract_line_key: str  # billing.canonical_order.OrderLine.key: "line-<n>"


@dataclass(frozen=True)
class InvoiceDocument:
    number: str
    issue_date: dt.date
    due_date: dt.date
    payment_terms_days: int
    currency: str
    seller: InvoiceParty
    buyer: InvoiceParty
    po_number: str
    contract_reference: str
    contract_version: int
    lines: tuple[InvoiceDocumentLine, ...]
    subtotal: Decimal
    total: Decimal
    amount_paid: Decimal
    amount_due: Decimal
    payment_instructions: str  # may span lines (bank details)
    notes: str = ""

    def __post_init__(self) -> None:
        _check_figures(self)


def invoice_seller() -> InvoiceParty:
    """Our legal entity as the contract names it, with the tax (VAT) id invoices must carry
    where one is configured."""
    provider = settings.CONTRACT_PROVIDER
    return InvoiceParty(
        name=provider["name"],
        address=provider["address"],
        tax_id=settings.INVOICE_SELLER_TAX_ID,
    )


def _check_figures(doc: InvoiceDocument) -> None:
    if not doc.lines:
        raise InvoiceDocumentError(f"invoice {doc.number} has no lines")
    amounts = {
        **{
            f"line {n} ({line.contract_line_key})": line.amount
            for n, line in enumerate(doc.lines, 1)
        },
        "subtotal": doc.subtotal,
        "total": doc.total,
        "amount paid": doc.amount_paid,
        "amount due": doc.amount_due,
    }
    for name, amount in amounts.items():
        # A float near money is a bug; more places than the currency has would print rounded,
        # so the page would no longer add up to the ledger.
        if not isinstance(amount, Decimal):
            raise InvoiceDocumentError(f"{name} of invoice {doc.number} is not a Decimal")
        try:
            at_minor_unit = round_money(amount, doc.currency) == amount
        except PricingError as exc:
            raise InvoiceDocumentError(f"invoice {doc.number}: {exc}") from None
        if not at_minor_unit:
            raise InvoiceDocumentError(
                f"{name} of invoice {doc.number} is {amount}: more places than {doc.currency} has"
            )
    if sum(line.amount for line in doc.lines) != doc.subtotal:
        raise InvoiceDocumentError(f"invoice {doc.number}: the lines do not add up to the subtotal")
    # No tax or discount lines are printed yet: a total other than the subtotal would be a
    # figure nobody could add up from the page.
    if doc.total != doc.subtotal:
        raise InvoiceDocumentError(f"invoice {doc.number}: the total is not the subtotal")
    if doc.amount_due != doc.total - doc.amount_paid:
        raise InvoiceDocumentError(f"invoice {doc.number}: amount due is not total less paid")
    if doc.due_date != doc.issue_date + dt.timedelta(days=doc.payment_terms_days):
        raise InvoiceDocumentError(
            f"invoice {doc.number}: due date is not {doc.payment_terms_days} days after issue"
        )
    for line in doc.lines:
        if line.period_last_day is not None and line.period_last_day < line.period_start:
            raise InvoiceDocumentError(
                f"invoice {doc.number}: {line.contract_line_key}'s period ends before it starts"
            )


def day_text(value: dt.date) -> str:
    """As the contract writes dates (contracts.rendering): "1 November 2026"."""
    return value.strftime("%d %B %Y").lstrip("0")


def _period(line: InvoiceDocumentLine) -> str:
    if line.period_last_day is None:
        return f"One-time, {day_text(line.period_start)}"
    return f"{day_text(line.period_start)} – {day_text(line.period_last_day)}"


def party_context(party: InvoiceParty) -> dict[str, str]:
    return {
        "name": party.name,
        "address": party.address,
        "tax_id": party.tax_id,
        "email": party.email,
    }


def invoice_context(doc: InvoiceDocument) -> dict[str, Any]:
    """The invoice's words and figures, formatted once for both the PDF and the e-mail text.
    Plain strings, unescaped: each format escapes (or not) where it places them."""

    def m(amount: Decimal) -> str:
        return money(amount, doc.currency)

    return {
        "number": doc.number,
        "issue_date": day_text(doc.issue_date),
        "due_date": day_text(doc.due_date),
        "payment_terms": f"Net {doc.payment_terms_days}",
        "currency": doc.currency,
        "seller": party_context(doc.seller),
        "buyer": party_context(doc.buyer),
        "po_number": doc.po_number,
        "contract": f"Contract {doc.contract_reference} v{doc.contract_version}",
        "lines": [
            {
                "description": line.description,
                "contract_line_key": line.contract_line_key,
                "period": _period(line),
                "quantity": f"{line.quantity.normalize():,f}",
                "amount": m(line.amount),
            }
            for line in doc.lines
        ],
        "subtotal": m(doc.subtotal),
        "total": m(doc.total),
        # Shown only once something has been paid: "Amount paid 0.00" reads like a receipt.
        "amount_paid": m(doc.amount_paid) if doc.amount_paid else "",
        "amount_due": m(doc.amount_due),
        "payment_instructions": doc.payment_instructions,
        "notes": doc.notes,
    }


def invoice_pdf(doc: InvoiceDocument) -> bytes:
    return render_pdf(invoice_html(), invoice_context(doc))


def party_text(party: dict[str, str]) -> str:
    tax_id = f"Tax id {party['tax_id']}" if party["tax_id"] else ""
    return "\n".join(
        part for part in (party["name"], party["address"], tax_id, party["email"]) if part
    )


def labelled_lines(rows: list[tuple[str, str]]) -> list[str]:
    """ "Label:" in a column, values after it; a value's further lines indented under it."""
    return [
        f"{label + ':':<16}" + value.replace("\n", "\n" + " " * 16)
        for label, value in rows
        if value
    ]


def invoice_text(doc: InvoiceDocument) -> str:
    """The invoice as the e-mail body: the same figures as the PDF, in plain text."""
    c = invoice_context(doc)
    facts = [
        ("From", party_text(c["seller"])),
        ("Bill to", party_text(c["buyer"])),
        ("Invoice number", c["number"]),
        ("Issue date", c["issue_date"]),
        ("Due date", f"{c['due_date']} ({c['payment_terms']})"),
        ("PO number", c["po_number"]),
        ("Contract", c["contract"]),
    ]
    totals = [
        ("Subtotal", c["subtotal"]),
        ("Total", c["total"]),
        ("Amount paid", c["amount_paid"]),
        ("Amount due", c["amount_due"]),
    ]
    out = [f"Invoice {c['number']} from {c['seller']['name']}", ""]
    out += labelled_lines(facts)
    out += ["", "Charges"]
    for line in c["lines"]:
        out += [
            f"- {line['description']}",
            f"  {line['period']} · Qty {line['quantity']} · {line['amount']}",
        ]
    out += [""]
    out += labelled_lines(totals)
    out += ["", "How to pay", c["payment_instructions"]]
    out += [f"Please quote invoice number {c['number']} with your payment."]
    if c["notes"]:
        out += ["", "Notes", c["notes"]]
    return "\n".join(out) + "\n"
