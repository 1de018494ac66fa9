"""The credit note as the customer reads it: a PDF in the invoice's house style and the same
content as plain text for the e-mail that carries it.

Like the invoice (billing/invoice_document.py), built from a plain typed record of facts that
do not change after issue — the note's number, date, amount and reason, and the invoice it
credits — so a PDF drawn again later says the same, and refused before drawing when its money
is not money (a float, or finer than the currency's minor unit).
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from billing.document_templates import credit_note_html
from billing.invoice_document import (
    InvoiceDocumentError,
    InvoiceParty,
    day_text,
    labelled_lines,
    party_context,
    party_text,
)
from contracts.rendering import render_pdf
from dealdesk.pricing import PricingError, round_money
from dealdesk.templatetags.dealdesk import money


@dataclass(frozen=True)
class CreditNoteDocument:
    number: str
    issue_date: dt.date
    currency: str
    seller: InvoiceParty
    buyer: InvoiceParty
    invoice_number: str
    invoice_date: dt.date
    invoice_total: Decimal
    po_number: str
    contract_reference: str
    contract_version: int
    amount: Decimal
    reason: str

    def __post_init__(self) -> None:
        _check_figures(self)


def _check_figures(doc: CreditNoteDocument) -> None:
    for name, amount in (("amount", doc.amount), ("invoice total", doc.invoice_total)):
        if not isinstance(amount, Decimal):
            raise InvoiceDocumentError(f"{name} of credit note {doc.number} is not a Decimal")
        try:
            at_minor_unit = round_money(amount, doc.currency) == amount
        except PricingError as exc:
            raise InvoiceDocumentError(f"credit note {doc.number}: {exc}") from None
        if not at_minor_unit:
            raise InvoiceDocumentError(
                f"{name} of credit note {doc.number} is {amount}: "
                f"more places than {doc.currency} has"
            )
    if not 0 < doc.amount <= doc.invoice_total:
        raise InvoiceDocumentError(
            f"credit note {doc.number}: {doc.amount} is not a credit of invoice "
            f"{doc.invoice_number} ({doc.invoice_total})"
        )


def credit_note_context(doc: CreditNoteDocument) -> dict[str, Any]:
    """Words and figures formatted once for the PDF and the e-mail; unescaped plain strings."""
    return {
        "number": doc.number,
        "issue_date": day_text(doc.issue_date),
        "currency": doc.currency,
        "seller": party_context(doc.seller),
        "buyer": party_context(doc.buyer),
        "invoice_number": doc.invoice_number,
        "invoice_date": day_text(doc.invoice_date),
        "invoice_total": money(doc.invoice_total, doc.currency),
        "po_number": doc.po_number,
        "contract": f"Contract {doc.contract_reference} v{doc.contract_version}",
        "amount": money(doc.amount, doc.currency),
        "reason": doc.reason,
    }


def credit_note_pdf(doc: CreditNoteDocument) -> bytes:
    return render_pdf(credit_note_html(), credit_note_context(doc))


def credit_note_text(doc: CreditNoteDocument) -> str:
    """The credit note as the e-mail body: the same facts as the PDF, in plain text."""
    c = credit_note_context(doc)
    facts = [
        ("From", party_text(c["seller"])),
        ("Credit to", party_text(c["buyer"])),
        ("Credit note", c["number"]),
        ("Issue date", c["issue_date"]),
        ("Credits", f"invoice {c['invoice_number']} of {c['invoice_date']}"),
        ("Invoice total", c["invoice_total"]),
        ("PO number", c["po_number"]),
        ("Contract", c["contract"]),
        ("Amount credited", c["amount"]),
    ]
    out = [f"Credit note {c['number']} from {c['seller']['name']}", ""]
    out += labelled_lines(facts)
    out += ["", "Reason", c["reason"], ""]
    out += [
        f"This credit note reduces what invoice {c['invoice_number']} asks you to pay "
        f"by {c['amount']}. The PDF is attached."
    ]
    return "\n".join(out) + "\n"
