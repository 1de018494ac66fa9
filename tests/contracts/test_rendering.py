"""The documents: PDF text (pypdf) and DOCX tables (python-docx), escaping and scripts intact."""

import io
from decimal import Decimal

import docx
import pytest
from pypdf import PdfReader

from dealdesk.templatetags.dealdesk import money


def _pdf_text(version) -> str:
    reader = PdfReader(io.BytesIO(version.pdf.read()))
    return "\n".join(page.extract_text() for page in reader.pages)


def _docx(version) -> docx.document.Document:
    return docx.Document(io.BytesIO(version.docx.read()))


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_pdf_has_the_legal_name_totals_and_each_clause_wording(new_deal):
    deal = new_deal()
    version = deal.contract_versions.get()
    text = _flat(_pdf_text(version))
    assert "Acme Logistics, Inc." in text
    assert money(deal.tcv, "USD") in text
    assert "Jordan Signer, General Counsel" in text
    for clause in version.clauses:
        assert _flat(clause["wording"]) in text
    assert "within 60 days of the invoice date" in text
    assert "(number PO-4471)" in text


def test_docx_pricing_table_has_one_row_per_line(new_deal):
    deal = new_deal()
    document = _docx(deal.contract_versions.get())
    pricing = document.tables[1]
    rows = [[cell.text for cell in row.cells] for row in pricing.rows]
    assert rows[0][:2] == ["SKU", "Product"]
    body = rows[1:]
    assert [row[0] for row in body] == ["PLAT-GROWTH", "SEAT-STD", "SEAT-STD"]
    assert [row[2] for row in body] == ["1", "1", "2"]
    assert body[0][5] == "10 %"
    # Each line's total is over the whole term, so the column adds up to TCV.
    assert rows[0][-1] == "Term total"
    term_totals = [Decimal(row[-1].split()[0].replace(",", "")) for row in body]
    assert sum(term_totals) == deal.tcv
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Customer shall pay each undisputed invoice within 60 days" in text
    assert money(deal.tcv, "USD") in text


@pytest.mark.parametrize(
    "legal_name",
    [
        'Dunmore & Pryce <Holdings> "Ltd"',
        "Sakura Data K.K. (株式会社さくらデータ)",
        "ООО «Ромашка»",
        "شركة البيانات المحدودة",
    ],
)
def test_special_characters_and_scripts_survive_both_formats(new_deal, legal_name):
    notes = "Governing law: Delaware. PO required, PO# A&B-<7>"
    deal = new_deal(legal_name=legal_name, notes=notes)
    version = deal.contract_versions.get()
    assert legal_name in _pdf_text(version).replace("\n", " ")
    document = _docx(version)
    assert legal_name in document.tables[0].rows[1].cells[1].text
    body = "\n".join(p.text for p in document.paragraphs)
    assert "This Order Form is governed by the laws of Delaware" in body  # text after it intact
    assert Decimal(version.snapshot["pricing"]["tcv"]) == deal.tcv


def test_a_ramp_deal_shows_its_ramp_schedule(new_deal):
    deal = new_deal(notes="")
    text = _pdf_text(deal.contract_versions.get())
    assert "Ramp schedule" in text
