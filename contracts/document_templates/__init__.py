"""The documents shipped as version 1 of every pattern's template: an order form.

The DOCX is built here with python-docx (docxtpl tags as text) rather than committed as a
binary, so a reviewer can read what it says; legal replaces it by uploading a new version.
"""

import io
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

HTML_PATH = Path(__file__).with_name("order_form.html")
NAVY = RGBColor(0x0F, 0x2A, 0x4A)


def order_form_html() -> str:
    return HTML_PATH.read_text(encoding="utf-8")


def _fonts(document: Document) -> None:
    style = document.styles["Normal"]
    style.font.name = "DejaVu Sans"
    style.font.size = Pt(9.5)
    # East Asian text needs its own font slot in Word, else kanji fall back to MS Mincho.
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "Noto Sans CJK JP")
    for name in ("Heading 1", "Heading 2"):
        document.styles[name].font.color.rgb = NAVY
        document.styles[name].font.name = "DejaVu Sans"


def _loop_table(
    document: Document,
    headers: list[str],
    loop: str,
    cells: list[str],
    footer: list[str] | None = None,
) -> None:
    """A table whose middle row repeats: docxtpl's {%tr %} rows wrap the data row."""
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Light Grid Accent 1"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = text
    table.add_row().cells[0].text = f"{{%tr for {loop} %}}"
    for cell, text in zip(table.add_row().cells, cells, strict=True):
        cell.text = text
    table.add_row().cells[0].text = "{%tr endfor %}"
    if footer:
        for cell, text in zip(table.add_row().cells, footer, strict=True):
            cell.text = text


def order_form_docx() -> bytes:
    document = Document()
    _fonts(document)
    document.add_heading("{{ title }}", level=1)
    document.add_paragraph(
        "Reference {{ reference }} · version {{ version_number }}"
        "{% if msa_reference %} · under Master Agreement {{ msa_reference }}{% endif %}"
    )
    document.add_heading("Parties", level=2)
    parties = document.add_table(rows=2, cols=2)
    parties.rows[0].cells[0].text = "Provider"
    parties.rows[0].cells[1].text = "Customer"
    parties.rows[1].cells[0].text = "{{ provider.name }}\n{{ provider.address }}"
    parties.rows[1].cells[1].text = "{{ account.legal_name }}\n{{ account.address }}"
    document.add_heading("Subscription term", level=2)
    document.add_paragraph(
        "From {{ term.start }} to {{ term.end }} ({{ term.months }} months), in {{ currency }}."
    )
    document.add_heading("Pricing", level=2)
    _loop_table(
        document,
        ["SKU", "Product", "Year", "Qty", "List unit", "Discount", "Net unit", "Per", "Term total"],
        "line in lines",
        [
            "{{ line.sku }}",
            "{{ line.name }}",
            "{{ line.segment }}",
            "{{ line.quantity }}",
            "{{ line.list_unit }}",
            "{{ line.discount }}",
            "{{ line.net_unit }}",
            "{{ line.per }}",
            "{{ line.total }}",
        ],
    )
    document.add_paragraph(
        "Total contract value {{ totals.tcv }} · annual contract value {{ totals.acv }} · "
        "first-year value {{ totals.first_year }}"
    )
    document.add_paragraph("{%p if ramp|length > 1 %}")
    document.add_heading("Ramp schedule", level=2)
    _loop_table(
        document,
        ["Year", "From", "To", "Amount"],
        "seg in ramp",
        ["{{ seg.index }}", "{{ seg.start }}", "{{ seg.end }}", "{{ seg.total }}"],
    )
    document.add_paragraph("{%p endif %}")
    document.add_heading("Billing terms", level=2)
    document.add_paragraph(
        "Fees are invoiced {{ billing_frequency }}; each invoice is payable within "
        "{{ payment_terms }} days of its date, in {{ currency }}."
    )
    _loop_table(
        document,
        ["#", "Period", "Invoice amount"],
        "period in periods",
        ["{{ period.number }}", "{{ period.start }} – {{ period.end }}", "{{ period.total }}"],
        footer=["", "Total contract value", "{{ totals.tcv }}"],
    )
    document.add_heading("Terms", level=2)
    document.add_paragraph("{%p for clause in clauses %}")
    clause = document.add_paragraph(style="List Number")
    clause.add_run("{{ clause.title }}. ").bold = True
    clause.add_run("{{ clause.wording }}")
    document.add_paragraph("{%p endfor %}")
    document.add_heading("Signatures", level=2)
    signatures = document.add_table(rows=3, cols=2)
    signatures.rows[0].cells[0].text = "For {{ provider.name }}"
    signatures.rows[0].cells[1].text = "For {{ account.legal_name }}"
    signatures.rows[1].cells[0].text = "\n\n______________________________"
    signatures.rows[1].cells[1].text = "\n\n______________________________"
    signatures.rows[2].cells[0].text = "Name, title and date"
    signatures.rows[2].cells[1].text = (
        "{% if signer %}{{ signer.name }}{% if signer.title %}, {{ signer.title }}{% endif %}"
        "{% else %}Name, title{% endif %} and date"
    )
    footer = document.sections[0].footer.paragraphs[0]
    footer.text = "{{ provider.name }} · {{ title }} {{ reference }} · Confidential"
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
