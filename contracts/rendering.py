"""Rendering a contract version's documents from its frozen snapshot: DOCX and PDF.

Both formats get the same context, built here from the snapshot alone, so the two documents
always say the same thing. Values are escaped by each renderer (docxtpl autoescape, Django
templates), never by hand: "ACME & Co <KG>" must survive both intact (docs/stack-notes.md).
"""

import gc
import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.template import Context, Engine, Template

from contracts.missing_glyphs import missing_glyphs
from dealdesk.templatetags.dealdesk import money

# Clause wording is text, not HTML: rendered unescaped here, escaped where it is placed.
_TEXT_ENGINE = Engine(autoescape=False, libraries={}, builtins=["django.template.defaultfilters"])
_INTERVAL_LABEL = {"month": "month", "quarter": "quarter", "year": "year", "one_time": "one-time"}
_FREQUENCY_LABEL = {
    "monthly": "monthly in advance",
    "quarterly": "quarterly in advance",
    "semiannual": "semi-annually in advance",
    "annual": "annually in advance",
    "upfront": "in full in advance",
}


class RenderingError(Exception):
    """A template could not be rendered; the deal goes to manual review with this reason."""


def clause_wording(wording: str, params: dict[str, Any]) -> str:
    try:
        return _TEXT_ENGINE.from_string(wording).render(Context(params)).strip()
    except Exception as exc:  # a legal-edited template may be broken in any way
        raise RenderingError(f"clause wording does not render: {exc}") from exc


def _day(iso: str, *, exclusive: bool = False) -> str:
    """ "2026-11-01" → "1 November 2026"; an exclusive end date shows as its last day."""
    day = date.fromisoformat(iso) - timedelta(days=1 if exclusive else 0)
    return day.strftime("%d %B %Y").lstrip("0")


def _qty(value: str) -> str:
    number = Decimal(value).normalize()
    return f"{number:,f}"


def document_context(snapshot: dict[str, Any], *, version_number: int) -> dict[str, Any]:
    currency = snapshot["deal"]["currency"]
    pricing = snapshot["pricing"]

    def m(value: str) -> str:
        return money(Decimal(value), currency)

    return {
        "title": snapshot["title"],
        "reference": snapshot["reference"],
        "version_number": version_number,
        "msa_reference": snapshot["account"]["msa_reference"],
        "provider": settings.CONTRACT_PROVIDER,
        "account": snapshot["account"],
        "signer": snapshot["signer"],
        "currency": currency,
        "term": {
            "start": _day(snapshot["deal"]["start_date"]),
            "end": _day(snapshot["deal"]["end_date"], exclusive=True),
            "months": snapshot["deal"]["term_months"],
        },
        "billing_frequency": _FREQUENCY_LABEL.get(
            snapshot["deal"]["billing_frequency"], snapshot["deal"]["billing_frequency"]
        ),
        "payment_terms": snapshot["deal"]["payment_terms"],
        "lines": [
            {
                "sku": line["sku"],
                "name": line["name"],
                "segment": line["segment"],
                "quantity": _qty(line["quantity"]),
                "list_unit": money(Decimal(line["list_unit_price"])),
                "discount": f"{Decimal(line['discount_pct']).normalize():f} %",
                "net_unit": money(Decimal(line["net_unit_price"])),
                "per": _INTERVAL_LABEL.get(line["interval"], line["interval"]),
                "total": m(line["term_total"]),
            }
            for line in snapshot["lines"]
        ],
        "totals": {
            "tcv": m(pricing["tcv"]),
            "acv": m(pricing["acv"]),
            "first_year": m(pricing["first_year_value"]),
        },
        "ramp": [
            {
                "index": s["index"],
                "start": _day(s["start"]),
                "end": _day(s["end"], exclusive=True),
                "total": m(s["total"]),
            }
            for s in pricing["ramp"]
        ],
        "periods": [
            {
                "number": i + 1,
                "start": _day(p["start"]),
                "end": _day(p["end"], exclusive=True),
                "total": m(p["total"]),
            }
            for i, p in enumerate(pricing["periods"])
        ],
        "clauses": [
            {"title": clause["title"], "wording": clause["wording"]}
            for clause in snapshot["clauses"]
        ],
    }


def render_docx(template_docx: bytes, context: dict[str, Any]) -> bytes:
    from docxtpl import DocxTemplate  # see render_pdf's import

    try:
        document = DocxTemplate(io.BytesIO(template_docx))
        document.render(context, autoescape=True)
        buffer = io.BytesIO()
        document.save(buffer)
    except Exception as exc:  # docxtpl raises jinja, lxml and zip errors alike
        raise RenderingError(f"DOCX template does not render: {exc}") from exc
    return buffer.getvalue()


def render_html(template_html: str, context: dict[str, Any]) -> str:
    try:
        return Template(template_html).render(Context(context, autoescape=True))
    except Exception as exc:
        raise RenderingError(f"HTML template does not render: {exc}") from exc


def render_pdf(template_html: str, context: dict[str, Any]) -> bytes:
    # Imported on first use: WeasyPrint (Pango through cffi) and docxtpl take about a second
    # to import, which every web worker, Celery worker and manage.py command would pay at
    # start-up through the URLconf and the pipeline's task imports.
    from weasyprint import HTML

    html = render_html(template_html, context)
    # WeasyPrint allocates hundreds of thousands of small objects per document (boxes, styles,
    # cffi handles); the cyclic GC kept re-scanning them, ~15-20 % of a 10-page render. Pause it
    # for the render; garbage left over is collected on the next automatic pass after it.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        with missing_glyphs() as missing:
            pdf = HTML(string=html).write_pdf()
    except Exception as exc:
        raise RenderingError(f"PDF does not render: {exc}") from exc
    finally:
        if gc_was_enabled:
            gc.enable()
    # A contract whose legal name or terms print as boxes must not go out: refused whole.
    if missing.codepoints:
        raise RenderingError(missing.reason(context))
    return pdf
