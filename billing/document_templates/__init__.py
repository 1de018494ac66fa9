"""The billing documents' HTML (the invoice, the credit note), drawn by
`contracts.rendering.render_pdf` in the contract's house style (house_style.css, shared)."""

from pathlib import Path

_HERE = Path(__file__).parent
_INVOICE = _HERE / "invoice.html"
_CREDIT_NOTE = _HERE / "credit_note.html"
# Each template's <style> holds this marker where the shared stylesheet goes.
_HOUSE_STYLE_MARKER = "/* house style */"


def _with_house_style(path: Path) -> str:
    html = path.read_text(encoding="utf-8")
    if _HOUSE_STYLE_MARKER not in html:
        raise ValueError(f"{path.name} has no {_HOUSE_STYLE_MARKER} in its <style>")
    css = (_HERE / "house_style.css").read_text(encoding="utf-8")
    return html.replace(_HOUSE_STYLE_MARKER, css, 1)


def invoice_html() -> str:
    return _with_house_style(_INVOICE)


def credit_note_html() -> str:
    return _with_house_style(_CREDIT_NOTE)
