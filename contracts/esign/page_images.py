"""The contract as the signer sees it: each page of the exact PDF being signed as a PNG, so the
signing page needs neither JavaScript nor a PDF plugin (headless Chromium shows it too).

A page is rendered once per PDF, page and width and then served from the cache: the key is the
PDF's SHA-256, so a different document can never be shown from another one's images.
"""

import hashlib
import io
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import pypdfium2 as pdfium
from django.core.cache import caches

logger = logging.getLogger(__name__)

# A hostile or odd PDF (a page a few points wide and metres tall) must not make us allocate a
# huge bitmap: whatever the page's shape, the image fits in this box.
MAX_WIDTH_PX = 2000
MAX_HEIGHT_PX = 3000
MIN_WIDTH_PX = 100
# The images of one PDF never change (the key is its hash); a signing link lives for weeks.
CACHE_SECONDS = 24 * 60 * 60

# PDFium is not thread-safe: one rendering at a time per process, whichever thread asks.
_pdfium_lock = threading.Lock()

T = TypeVar("T")


class PageImageError(Exception):
    """A page cannot be shown; the message says why."""


class InvalidPdf(PageImageError):
    pass


class PageNotFound(PageImageError):
    pass


def page_count(pdf: bytes) -> int:
    return _cached(f"esign:page-count:{_sha256(pdf)}", lambda: _count_pages(pdf))


def page_png(pdf: bytes, page_number: int, *, width_px: int = 1000) -> bytes:
    """Page `page_number` (1-based) as a PNG `width_px` wide (kept within MIN_/MAX_WIDTH_PX),
    narrower if the page is so tall that it would not fit MAX_HEIGHT_PX."""
    width_px = min(max(int(width_px), MIN_WIDTH_PX), MAX_WIDTH_PX)
    key = f"esign:page-png:{_sha256(pdf)}:{page_number}:{width_px}"
    return _cached(key, lambda: _render_png(pdf, page_number, width_px))


def _sha256(pdf: bytes) -> str:
    return hashlib.sha256(pdf).hexdigest()


def _cached(key: str, compute: Callable[[], T]) -> T:
    cache = caches["default"]
    value = cache.get(key)
    if value is not None:
        return value
    with _pdfium_lock:
        # Another thread may have rendered it while this one waited for the lock.
        value = cache.get(key)
        if value is None:
            value = compute()
            cache.set(key, value, CACHE_SECONDS)
    return value


def _open(pdf: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(pdf)
    except pdfium.PdfiumError as exc:  # not a PDF, damaged, or password-protected
        raise InvalidPdf(f"the document cannot be read as a PDF ({exc})") from exc


def _count_pages(pdf: bytes) -> int:
    with _open(pdf) as document:
        return len(document)


def _render_png(pdf: bytes, page_number: int, width_px: int) -> bytes:
    started = time.monotonic()
    with _open(pdf) as document:
        pages = len(document)
        if not 1 <= page_number <= pages:
            raise PageNotFound(f"page {page_number} does not exist: the document has {pages}")
        try:
            page = document[page_number - 1]
        except pdfium.PdfiumError as exc:
            raise InvalidPdf(f"page {page_number} cannot be read ({exc})") from exc
        scale = _scale(page.get_width(), page.get_height(), width_px, page_number)
        image = page.render(scale=scale).to_pil()
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
    # The log line is also how tests see that a cached page was not rendered again.
    logger.info(
        "rendered page %s of a PDF (%s pages) at %sx%s px in %.0f ms",
        page_number,
        pages,
        image.width,
        image.height,
        (time.monotonic() - started) * 1000,
    )
    return buffer.getvalue()


def _scale(width_pt: float, height_pt: float, width_px: int, page_number: int) -> float:
    if not (math.isfinite(width_pt) and math.isfinite(height_pt)) or min(width_pt, height_pt) <= 0:
        raise InvalidPdf(f"page {page_number} has no size ({width_pt} x {height_pt} pt)")
    # PDFium rounds each side up, so aim just under the box rather than overshoot it by a pixel.
    fit = min(width_px / width_pt, MAX_HEIGHT_PX / height_pt)
    return fit * (1 - 1e-9)
