"""Rendering a contract version's documents from its frozen snapshot: DOCX and PDF.

Both formats get the same context, built here from the snapshot alone, so the two documents
always say the same thing. Values are escaped by each renderer (docxtpl autoescape, Django
templates), never by hand: "ACME & Co <KG>" must survive both intact (docs/stack-notes.md).

Templates are written by people (Legal publishes them), so they are treated as code from
outside: each renderer lets a template read the plain data of its context and nothing else.
DOCX renders in a Jinja sandbox that refuses every attribute beyond mapping keys; the PDF's
HTML in a Django engine with no loaders, no tag libraries and only the tags a document needs;
WeasyPrint fetches only Dealdesk's own static files and image data: URLs. A refusal is an
error that names what was refused, never a silently blank document.
"""

import gc
import io
import mimetypes
import re
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.template import Context, Engine, Library, defaultfilters, defaulttags
from django.utils._os import safe_join
from jinja2.runtime import LoopContext
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from contracts.missing_glyphs import missing_glyphs
from dealdesk.templatetags.dealdesk import money

_INTERVAL_LABEL = {"month": "month", "quarter": "quarter", "year": "year", "one_time": "one-time"}
_FREQUENCY_LABEL = {
    "monthly": "monthly in advance",
    "quarterly": "quarterly in advance",
    "semiannual": "semi-annually in advance",
    "annual": "annually in advance",
    "upfront": "in full in advance",
}


# What people on the deal and review pages read when a contract cannot be drawn: the cause
# (a missing font and its Debian package, a template's syntax) is for ops, in the log and the
# admin (contracts.drawing_failures).
DRAWING_FAILED = "The contract could not be drawn: Deal Desk has been told."


class RenderingError(Exception):
    """A document could not be drawn; `str()` says why, in words meant for ops and Legal's
    template authors. `public_reason` is what everyone else is told."""

    @property
    def public_reason(self) -> str:
        return DRAWING_FAILED


class UnprintableText(RenderingError):
    """The deal's own text has characters with no printed form (a control character from the
    CRM): nothing for ops to fix, so the people who can correct the text are told where it is."""

    @property
    def public_reason(self) -> str:
        return f"The contract could not be drawn: {self}."


class TemplateRefused(RenderingError):
    """A template reached for something documents may not use (a file, the network, code)."""


class _DocumentSandbox(SandboxedEnvironment):
    """Jinja for DOCX templates: `{{ account.legal_name }}` reads a key, nothing more.

    Keys win over attributes, so a key named like a dict method (`items`) is still the data.
    Every real attribute (a method, a dunder, `''.__class__`) is refused at once rather than
    rendered blank, so a template that tries it cannot be published.
    """

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        # `loop.index`, `loop.last`: the loop's counters, which tables of lines need.
        return isinstance(obj, LoopContext) and not attr.startswith("_") and not callable(value)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        raise SecurityError(f"reading {attribute!r} of a {type(obj).__name__} is refused")


_DOCX_ENV = _DocumentSandbox(autoescape=True)

# The PDF's template language: Django's own tags and filters minus those that reach outside
# the context. No loaders and no libraries, so there is nothing to include, extend or load.
_REFUSED_TAGS = {
    "load": "contract templates get no tag libraries",
    "include": "a contract template is one template: nothing is read from disk",
    "extends": "a contract template is one template: nothing is read from disk",
    "debug": "it prints the server's internals",
    "url": "a contract links to nothing in Dealdesk",
    "csrf_token": "a contract has no forms",
    "now": "a contract says only what its snapshot says",
    "lorem": "a contract has no placeholder text",
    "autoescape": "values are always escaped so a name such as ACME & Co <KG> prints as it is",
}
# `safe` and `safeseq` would let a customer's name become markup; `pprint` shows Python objects.
_REFUSED_FILTERS = {"safe", "safeseq", "pprint"}


def _refused_tag(reason: str):
    def compile_refusal(parser, token):
        name = token.split_contents()[0]
        raise TemplateRefused(f"{{% {name} %}} is refused in contract templates: {reason}")

    return compile_refusal


_DOCUMENT_LIBRARY = Library()
_DOCUMENT_LIBRARY.tags = {
    **{n: t for n, t in defaulttags.register.tags.items() if n not in _REFUSED_TAGS},
    **{name: _refused_tag(reason) for name, reason in _REFUSED_TAGS.items()},
}
_DOCUMENT_LIBRARY.filters = {
    n: f for n, f in defaultfilters.register.filters.items() if n not in _REFUSED_FILTERS
}


class _DocumentEngine(Engine):
    def get_template_builtins(self, builtins: list[str]) -> list[Library]:
        # Instead of Django's default builtins, which include {% load %}, {% include %}...
        return [_DOCUMENT_LIBRARY]


# Whether values are escaped is the Context's choice, not the engine's: Engine(autoescape=...)
# only reaches templates rendered through Django's template backend, never from_string().
_DOCUMENT_ENGINE = _DocumentEngine(loaders=[], libraries={})


def clause_wording(wording: str, params: dict[str, Any]) -> str:
    """The clause's text with its params filled in, as plain text: "England & Wales", never
    "England &amp; Wales". Each document escapes it once where it places it (the PDF's HTML,
    the DOCX's XML, the review page), so escaping it here too printed "&amp;amp;"."""
    try:
        text = _DOCUMENT_ENGINE.from_string(wording).render(Context(params, autoescape=False))
        # render() marks its output safe; a plain str (str.strip gives one) is escaped by the
        # HTML it lands in, so a param such as "<b>" stays text there.
        return str.strip(text)
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


def _frozen(value: Any) -> Any:
    """The context as read-only data: Django templates call what they find, so a template
    saying `{{ account.clear }}` would otherwise empty the snapshot that is about to be stored."""
    if isinstance(value, Mapping):
        return MappingProxyType({key: _frozen(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    return value


def sample_snapshot(*, title: str) -> dict[str, Any]:
    """A contract snapshot (`contracts.snapshot.deal_snapshot`'s shape) with every part a
    template can show filled in: a ramp, a signer, an MSA, clauses, and a name that needs
    escaping. A template version is trial-rendered with it before it may be published, so
    each of its branches runs once."""
    line = {
        "sku": "SEAT-STD",
        "name": "Standard user seat",
        "quantity": "100",
        "list_unit_price": "45.000000",
        "discount_pct": "10.0000",
        "net_unit_price": "40.500000000000",
        "interval": "month",
        "line_total": "4050.00",
        "term_total": "48600.00",
    }
    return {
        "title": title,
        "reference": "006SAMPLE0001-1",
        "pattern": {"code": "sample", "name": "Sample"},
        "template": {"id": 0, "version": 0},
        "account": {
            "crm_id": "001SAMPLE0001",
            "name": "Sample & Co",
            "legal_name": "Sample & Co <Holdings>, Inc.",
            "address": "1 Sample Street, Springfield, 12345, United States",
            "tax_id": "US-000000000",
            "billing_email": "ap@sample.example",
            "msa_reference": "MSA-SAMPLE-1",
        },
        "signer": {"name": "Sam Signer", "title": "General Counsel", "email": "sam@sample.example"},
        "deal": {
            "id": 0,
            "crm_id": "006SAMPLE0001",
            "name": "Sample & Co — New business",
            "currency": "USD",
            "start_date": "2026-01-01",
            "end_date": "2028-01-01",
            "term_months": 24,
            "billing_frequency": "annual",
            "payment_terms": 30,
            "owner": "sample",
        },
        "lines": [{**line, "segment": 1}, {**line, "segment": 2}],
        "pricing": {
            "tcv": "97200.00",
            "acv": "48600.00",
            "arr": "48600.00",
            "first_year_value": "48600.00",
            "lines_total": "97200.00",
            "effective_discount_pct": "10.0000",
            "periods": [
                {"start": "2026-01-01", "end": "2027-01-01", "total": "48600.00"},
                {"start": "2027-01-01", "end": "2028-01-01", "total": "48600.00"},
            ],
            "ramp": [
                {"index": 1, "start": "2026-01-01", "end": "2027-01-01", "total": "48600.00"},
                {"index": 2, "start": "2027-01-01", "end": "2028-01-01", "total": "48600.00"},
            ],
        },
        "notes": "Net 30.",
        "clauses": [
            {
                "type": "payment_terms",
                "params": {"net_days": 30},
                "quote": "Net 30",
                "source": "notes",
                "title": "Payment terms",
                "wording": "Customer shall pay each undisputed invoice within 30 days.",
                "banned": False,
                "needs_legal_review": False,
            }
        ],
    }


def render_docx(template_docx: bytes, context: dict[str, Any]) -> bytes:
    from docxtpl import DocxTemplate  # see render_pdf's import

    try:
        document = DocxTemplate(io.BytesIO(template_docx))
        document.render(dict(_frozen(context)), jinja_env=_DOCX_ENV, autoescape=True)
        buffer = io.BytesIO()
        document.save(buffer)
    except SecurityError as exc:
        raise TemplateRefused(f"DOCX template refused: {exc}") from exc
    except Exception as exc:  # docxtpl raises jinja, lxml and zip errors alike
        raise RenderingError(f"DOCX template does not render: {exc}") from exc
    return buffer.getvalue()


def render_html(template_html: str, context: dict[str, Any]) -> str:
    try:
        template = _DOCUMENT_ENGINE.from_string(template_html)
        # The top level stays a dict: {% cycle ... as x %} writes into it.
        return template.render(Context(dict(_frozen(context)), autoescape=True))
    except TemplateRefused as exc:
        raise TemplateRefused(f"HTML template refused: {exc}") from exc
    except Exception as exc:
        raise RenderingError(f"HTML template does not render: {exc}") from exc


# Relative URLs in a template resolve against this origin. `.invalid` never resolves (RFC 2606):
# only _StaticOnlyFetcher answers for it, from Dealdesk's static files.
_STATIC_ORIGIN = "https://static.invalid"
_IMAGE_DATA_URL = re.compile(r"data:image/(png|jpeg|gif|svg\+xml)[;,]", re.IGNORECASE)


def _static_url_fetcher():
    from weasyprint.urls import URLFetcher, URLFetcherResponse  # see render_pdf's import

    class StaticOnlyFetcher(URLFetcher):
        """Serves our static files and image data: URLs; anything else stops the render
        (fail_on_errors): `file:`, `http(s):`, other data, a path out of the static files."""

        def __init__(self) -> None:
            super().__init__(fail_on_errors=True, allow_redirects=False)

        def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
            if url.lower().startswith("data:"):
                if not _IMAGE_DATA_URL.match(url):
                    raise TemplateRefused(
                        f"data: URLs other than PNG, JPEG, GIF or SVG images are refused "
                        f"({url[:40]})"
                    )
                return super().fetch(url, headers)
            if url.startswith(f"{_STATIC_ORIGIN}/"):
                path = _static_file(urlsplit(url).path)
                content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(
                    url, body=path.read_bytes(), headers={"Content-Type": content_type}
                )
            raise TemplateRefused(
                f"{urlsplit(url).scheme or 'this'}: URL refused ({url}): a contract may use "
                "only Dealdesk's static files (e.g. static/brand/logo.png) and image data: URLs"
            )

    return StaticOnlyFetcher()


def _static_file(url_path: str) -> Path:
    """`/static/brand/logo.png` → the file the static finders (or STATIC_ROOT) hold for it."""
    prefix = "/" + urlsplit(settings.STATIC_URL).path.strip("/") + "/"
    if not url_path.startswith(prefix):
        raise TemplateRefused(f"{url_path} is not one of Dealdesk's static files ({prefix}...)")
    relative = unquote(url_path.removeprefix(prefix))
    if ".." in PurePosixPath(relative).parts or "\\" in relative or "\x00" in relative:
        raise TemplateRefused(f"{url_path} leaves the static files: refused")
    try:
        found = finders.find(relative) or safe_join(settings.STATIC_ROOT, relative)
    except SuspiciousFileOperation as exc:
        raise TemplateRefused(f"{url_path} leaves the static files: refused") from exc
    if not Path(found).is_file():
        raise TemplateRefused(f"{url_path}: no such static file")
    return Path(found)


def render_pdf(template_html: str, context: dict[str, Any]) -> bytes:
    # Imported on first use: WeasyPrint (Pango through cffi) and docxtpl take about a second
    # to import, which every web worker, Celery worker and manage.py command would pay at
    # start-up through the URLconf and the pipeline's task imports.
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError

    html = render_html(template_html, context)
    # WeasyPrint allocates hundreds of thousands of small objects per document (boxes, styles,
    # cffi handles); the cyclic GC kept re-scanning them, ~15-20 % of a 10-page render. Pause it
    # for the render; garbage left over is collected on the next automatic pass after it.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        with missing_glyphs() as missing:
            pdf = HTML(
                string=html, base_url=f"{_STATIC_ORIGIN}/", url_fetcher=_static_url_fetcher()
            ).write_pdf()
    except FatalURLFetchingError as exc:  # a BaseException: WeasyPrint stops on it
        raise TemplateRefused(f"PDF template refused: {exc.__cause__}") from exc
    except Exception as exc:
        raise RenderingError(f"PDF does not render: {exc}") from exc
    finally:
        if gc_was_enabled:
            gc.enable()
    # A contract whose legal name or terms print as boxes must not go out: refused whole.
    if missing.codepoints:
        error = UnprintableText if missing.only_control_characters else RenderingError
        raise error(missing.reason(context))
    return pdf
