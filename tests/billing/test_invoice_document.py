"""The invoice document: what the customer's finance team reads and pays from.

The PDF's extracted text (pypdf) and the e-mail text carry the same number, dates, PO, lines
and totals; money prints at the currency's minor unit; hostile text prints once, as text; a
long invoice repeats its headings on every page; a record that does not add up is refused.
"""

import datetime as dt
import io
import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pypdfium2
import pytest
from pypdf import PdfReader

from billing.document_templates import invoice_html
from billing.invoice_document import (
    InvoiceDocument,
    InvoiceDocumentError,
    InvoiceDocumentLine,
    InvoiceParty,
    invoice_context,
    invoice_pdf,
    invoice_seller,
    invoice_text,
)
from contracts.rendering import UnprintableText, render_html

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
COLUMN_HEADINGS = "Description Service period Qty Amount"
DOUBLE_ESCAPED_OR_MARKUP = ("&amp;", "&lt;", "&gt;", "&quot;", "&#x27;", "<br>")


def _line(n: int, amount: str, *, one_time: bool = False, **fields) -> InvoiceDocumentLine:
    return InvoiceDocumentLine(
        **{
            "description": f"Standard user seat, year {n}",
            "period_start": dt.date(2026, 1, 1),
            "period_last_day": None if one_time else dt.date(2026, 12, 31),
            "quantity": Decimal("100"),
            "amount": Decimal(amount),
            "contract_line_key": f"line-{n}",
            **fields,
        }
    )


def _invoice(lines: tuple[InvoiceDocumentLine, ...] | None = None, **fields) -> InvoiceDocument:
    lines = lines or (
        _line(1, "48600.00"),
        _line(2, "2500.00", one_time=True, description="Onboarding", quantity=Decimal("1")),
    )
    total = sum(line.amount for line in lines)
    paid = fields.pop("amount_paid", Decimal("0.00"))
    values = {
        "number": "DD-2026-000042",
        "issue_date": dt.date(2026, 1, 15),
        "due_date": dt.date(2026, 2, 14),
        "payment_terms_days": 30,
        "currency": "USD",
        "seller": invoice_seller(),
        "buyer": InvoiceParty(
            name="Northwind Traders Ltd",
            address="1 Harbour Road\nBristol BS1 4ST\nUnited Kingdom",
            tax_id="GB123456789",
            email="ap@northwind.example",
        ),
        "po_number": "PO-778812",
        "contract_reference": "006NW0001-1",
        "contract_version": 3,
        "lines": lines,
        "subtotal": total,
        "total": total,
        "amount_paid": paid,
        "amount_due": total - paid,
        "payment_instructions": "Bank transfer to Dealdesk Software, Inc.\nIBAN GB29 NWBK 6016 1331 9268 19",
        "notes": "Thank you for your business.",
    }
    return InvoiceDocument(**{**values, **fields})


def _pages(pdf: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def _unspaced(text: str) -> str:
    return re.sub(r"\s", "", text)


def _screenshot(pdf: bytes, name: str) -> Path:
    """The first page as var/screenshots/invoice-<name>.png, to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"invoice-{name}.png"
    document = pypdfium2.PdfDocument(pdf)
    try:
        document[0].render(scale=1.6).to_pil().save(path)
    finally:
        document.close()
    return path


@pytest.fixture(scope="module")
def usd_pdf() -> bytes:
    return invoice_pdf(_invoice())


def test_pdf_holds_number_dates_po_contract_lines_and_totals(usd_pdf):
    (text,) = _pages(usd_pdf)
    for expected in (
        "Invoice DD-2026-000042",
        "ISSUE DATE 15 January 2026",
        "DUE DATE 14 February 2026",
        "PAYMENT TERMS Net 30",
        "PO NUMBER PO-778812",
        "CONTRACT Contract 006NW0001-1 v3",
        "BILL TO Northwind Traders Ltd 1 Harbour Road Bristol BS1 4ST United Kingdom",
        "Tax id GB123456789",
        COLUMN_HEADINGS,
        "Standard user seat, year 1 line-1 1 January 2026 – 31 December 2026 100 48,600.00 USD",
        "Onboarding line-2 One-time, 1 January 2026 1 2,500.00 USD",
        "Subtotal 51,100.00 USD Total 51,100.00 USD Amount due 51,100.00 USD",
        "IBAN GB29 NWBK 6016 1331 9268 19",
        "Please quote invoice number DD-2026-000042 and your PO number",
        "Thank you for your business.",
        "Page 1 of 1",
    ):
        assert expected in text, expected
    assert "Amount paid" not in text  # nothing paid yet: no receipt-like 0.00 row
    _screenshot(usd_pdf, "usd")


def test_seller_is_the_contract_provider_with_the_configured_tax_id(settings):
    settings.INVOICE_SELLER_TAX_ID = "US-98-7654321"
    seller = invoice_seller()
    assert seller.name == settings.CONTRACT_PROVIDER["name"]
    assert seller.address == settings.CONTRACT_PROVIDER["address"]
    assert seller.tax_id == "US-98-7654321"
    settings.INVOICE_SELLER_TAX_ID = ""
    assert invoice_seller().tax_id == ""


def test_a_partly_paid_invoice_shows_what_was_paid_and_what_is_still_due():
    doc = _invoice(amount_paid=Decimal("1100.00"))
    (text,) = _pages(invoice_pdf(doc))
    assert "Total 51,100.00 USD Amount paid 1,100.00 USD Amount due 50,000.00 USD" in text
    assert "Amount paid:    1,100.00 USD\nAmount due:     50,000.00 USD" in invoice_text(doc)


def test_without_a_po_number_no_po_is_printed():
    doc = _invoice(po_number="")
    (text,) = _pages(invoice_pdf(doc))
    assert "po number" not in text.lower()
    assert "po number" not in invoice_text(doc).lower()


@pytest.mark.parametrize(
    ("currency", "amounts", "printed"),
    [
        ("JPY", ("1234567", "8"), ("1,234,567 JPY", "8 JPY", "1,234,575 JPY")),
        ("KWD", ("1234.567", "0.005"), ("1,234.567 KWD", "0.005 KWD", "1,234.572 KWD")),
        ("BHD", ("9876543.210", "1"), ("9,876,543.210 BHD", "1.000 BHD", "9,876,544.210 BHD")),
    ],
)
def test_money_prints_at_the_currencys_minor_unit(currency, amounts, printed):
    lines = tuple(_line(n, amount) for n, amount in enumerate(amounts, 1))
    doc = _invoice(lines, currency=currency, amount_paid=Decimal(0))
    (text,) = _pages(invoice_pdf(doc))
    figures = re.findall(rf"[\d,.]+ {currency}", text)
    assert set(figures) == set(printed)
    assert f"Total {printed[2]} Amount due {printed[2]}" in text
    assert set(re.findall(rf"[\d,.]+ {currency}", invoice_text(doc))) == set(printed)
    if currency == "KWD":
        _screenshot(invoice_pdf(doc), "kwd")


HOSTILE = {
    "buyer name": "<script>alert(1)</script> Ακμή & 株式会社",
    "buyer address": "</td><td>Injected</td> 東京都 1-2-3",
    "po": 'PO<7>&"8"',
    "description": "Ελληνικά & 日本語 </td></tr><tr><td>extra",
    "instructions": "Pay <b>only</b> to IBAN & nothing else",
    "notes": "</body></html> Danke & ありがとう",
}


@pytest.fixture(scope="module")
def hostile_invoice() -> InvoiceDocument:
    return _invoice(
        (
            _line(1, "48600.00", description=HOSTILE["description"]),
            _line(2, "2500.00", description="Onboarding"),
        ),
        buyer=InvoiceParty(
            name=HOSTILE["buyer name"], address=HOSTILE["buyer address"], tax_id="", email=""
        ),
        po_number=HOSTILE["po"],
        payment_instructions=HOSTILE["instructions"],
        notes=HOSTILE["notes"],
    )


def test_hostile_text_prints_exactly_once_and_never_as_markup(hostile_invoice):
    pdf = invoice_pdf(hostile_invoice)
    (text,) = _pages(pdf)
    body = invoice_text(hostile_invoice)
    # CJK and "</" may wrap anywhere, so the PDF's text is compared without its spaces.
    unspaced = _unspaced(text)
    for field, value in HOSTILE.items():
        assert unspaced.count(_unspaced(value)) == 1, field
        assert body.count(value) == 1, field
    for escaped in DOUBLE_ESCAPED_OR_MARKUP:
        assert escaped not in text
    # The description's "</tr><tr>" made no row: the table has its heading row and two lines.
    html = render_html(invoice_html(), invoice_context(hostile_invoice))
    lines_table = html.split('<table class="lines">')[1].split("</table>")[0]
    assert lines_table.count("<tr>") == 3
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    _screenshot(pdf, "hostile")


def test_a_control_character_is_refused_naming_the_field():
    doc = _invoice(buyer=InvoiceParty(name="Northwind\x0bTraders", address="Bristol"))
    with pytest.raises(UnprintableText, match=r"buyer\.name"):
        invoice_pdf(doc)


@pytest.fixture(scope="module")
def long_invoice() -> tuple[InvoiceDocument, bytes]:
    lines = tuple(
        _line(n, f"{n * 100}.00", description=f"Seat pack {n:02d}", quantity=Decimal(n))
        for n in range(1, 61)
    )
    doc = _invoice(lines)
    return doc, invoice_pdf(doc)


def test_a_60_line_invoice_paginates_with_headings_and_page_numbers_on_every_page(long_invoice):
    _, pdf = long_invoice
    pages = _pages(pdf)
    assert len(pages) >= 3
    for number, page in enumerate(pages, 1):
        assert "Dealdesk Software, Inc. · Invoice DD-2026-000042" in page
        assert f"Invoice DD-2026-000042 · Page {number} of {len(pages)}" in page
    # The lines run over every page; the table's headings come again on each of them.
    assert all(COLUMN_HEADINGS in page for page in pages[:-1])
    text = " ".join(pages)
    for n in range(1, 61):
        assert text.count(f"Seat pack {n:02d} line-{n} ") == 1
    assert "Amount due 183,000.00 USD" in pages[-1]
    _screenshot(pdf, "60-lines")


def test_email_text_has_the_same_figures_as_the_pdf(long_invoice):
    doc, pdf = long_invoice
    pdf_text = " ".join(_pages(pdf))
    body = invoice_text(doc)
    money = re.compile(r"\d[\d,]*\.\d\d USD")
    assert set(money.findall(body)) == set(money.findall(pdf_text))
    assert len(set(money.findall(body))) == 60 + 1  # each line's amount, and the total
    for expected in (
        "Invoice number: DD-2026-000042",
        "Issue date:     15 January 2026",
        "Due date:       14 February 2026 (Net 30)",
        "PO number:      PO-778812",
        "Contract:       Contract 006NW0001-1 v3",
        "- Seat pack 60\n  1 January 2026 – 31 December 2026 · Qty 60 · 6,000.00 USD",
        "Amount due:     183,000.00 USD",
        "IBAN GB29 NWBK 6016 1331 9268 19",
    ):
        assert expected in body, expected


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"subtotal": Decimal("51100.01"), "total": Decimal("51100.01")}, "do not add up"),
        ({"total": Decimal("51000.00"), "amount_due": Decimal("51000.00")}, "total is not"),
        ({"amount_due": Decimal("100.00")}, "amount due is not"),
        ({"due_date": dt.date(2026, 3, 1)}, "30 days after issue"),
        ({"currency": "XXQ"}, "unknown currency"),
        ({"lines": ()}, "no lines"),
    ],
)
def test_a_record_that_does_not_add_up_is_refused(change, message):
    with pytest.raises(InvoiceDocumentError, match=message):
        replace(_invoice(), **change)


def test_amounts_must_be_decimals_at_the_minor_unit():
    with pytest.raises(InvoiceDocumentError, match="not a Decimal"):
        replace(_invoice(), lines=(replace(_line(1, "10.00"), amount=10.0),))
    with pytest.raises(InvoiceDocumentError, match="more places than JPY has"):
        _invoice((_line(1, "100.5"),), currency="JPY")
    with pytest.raises(InvoiceDocumentError, match="ends before it starts"):
        _invoice((_line(1, "10.00", period_last_day=dt.date(2025, 12, 31)),))
