"""The invoice's HTML, drawn by `contracts.rendering.render_pdf` in the contract's house style."""

from pathlib import Path

INVOICE_HTML_PATH = Path(__file__).with_name("invoice.html")


def invoice_html() -> str:
    return INVOICE_HTML_PATH.read_text(encoding="utf-8")
