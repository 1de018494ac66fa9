"""The signing page's images of the PDF: real pages, bounded sizes, clear errors, rendered once."""

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import caches
from PIL import Image
from pypdf import PdfReader, PdfWriter

from contracts.document_templates import order_form_html
from contracts.esign.page_images import (
    MAX_HEIGHT_PX,
    MAX_WIDTH_PX,
    MIN_WIDTH_PX,
    InvalidPdf,
    PageNotFound,
    page_count,
    page_png,
)
from contracts.rendering import document_context, render_pdf, sample_snapshot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def contract_pdf() -> bytes:
    context = document_context(sample_snapshot(title="Order Form"), version_number=1)
    return render_pdf(order_form_html(), context)


@pytest.fixture(autouse=True)
def empty_cache():
    caches["default"].clear()
    yield
    caches["default"].clear()


@pytest.fixture
def renders(caplog):
    """renders() is how many pages were drawn by PDFium so far in this test."""
    caplog.set_level(logging.INFO, logger="contracts.esign.page_images")

    def count() -> int:
        return sum(r.getMessage().startswith("rendered page") for r in caplog.records)

    return count


def _blank_pdf(*sizes: tuple[float, float]) -> bytes:
    writer = PdfWriter()
    for width, height in sizes:
        writer.add_blank_page(width=width, height=height)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _image(png: bytes) -> Image.Image:
    assert png.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image


def _has_ink(image: Image.Image) -> bool:
    darkest, _ = image.convert("L").getextrema()
    return darkest < 128


def test_each_page_of_the_contract_is_a_png_of_the_asked_width(contract_pdf):
    pages = len(PdfReader(io.BytesIO(contract_pdf)).pages)
    assert pages >= 2
    assert page_count(contract_pdf) == pages
    for number in range(1, pages + 1):
        image = _image(page_png(contract_pdf, number, width_px=800))
        assert image.width == 800
        assert image.height == pytest.approx(800 * 842 / 595, abs=2)  # A4 portrait
        assert _has_ink(image)  # the contract's text, not an empty page


def test_the_default_width_is_1000_px(contract_pdf):
    assert _image(page_png(contract_pdf, 1)).width == 1000


@pytest.mark.parametrize(
    ("asked", "expected"), [(10**9, MAX_WIDTH_PX), (0, MIN_WIDTH_PX), (-5, MIN_WIDTH_PX)]
)
def test_an_unreasonable_width_is_kept_within_bounds(contract_pdf, asked, expected):
    assert _image(page_png(contract_pdf, 1, width_px=asked)).width == expected


def test_a_hostile_page_shape_cannot_make_a_huge_image():
    tall_and_wide = _blank_pdf((20, 14400), (14400, 20))
    tall = _image(page_png(tall_and_wide, 1, width_px=MAX_WIDTH_PX))
    assert tall.height <= MAX_HEIGHT_PX
    assert tall.width < MAX_WIDTH_PX  # narrowed to keep the page's shape
    wide = _image(page_png(tall_and_wide, 2, width_px=10**6))
    assert wide.width <= MAX_WIDTH_PX
    assert wide.height <= MAX_HEIGHT_PX


@pytest.mark.parametrize("number", [0, -1, 3, 10**6])
def test_a_page_out_of_range_is_not_found(number):
    pdf = _blank_pdf((595, 842), (595, 842))
    with pytest.raises(PageNotFound, match="the document has 2"):
        page_png(pdf, number)


@pytest.mark.parametrize(
    "garbage",
    [b"", b"not a pdf at all", b"%PDF-1.7\n\x00\xff\x00 garbage", b"\x89PNG\r\n\x1a\n" * 50],
)
def test_bytes_that_are_not_a_pdf_are_refused_clearly(garbage, renders):
    with pytest.raises(InvalidPdf, match="cannot be read as a PDF"):
        page_count(garbage)
    with pytest.raises(InvalidPdf, match="cannot be read as a PDF"):
        page_png(garbage, 1)
    assert renders() == 0


def test_a_page_is_rendered_once_then_served_from_the_cache(contract_pdf, renders):
    first = page_png(contract_pdf, 1)
    assert renders() == 1
    assert page_png(contract_pdf, 1) == first
    assert renders() == 1
    page_png(contract_pdf, 1, width_px=600)  # another width is another image
    page_png(contract_pdf, 2)
    assert renders() == 3


def test_the_cache_never_serves_one_pdfs_page_for_another(contract_pdf):
    # Same page number and width, different documents: the key is each document's hash.
    assert _has_ink(_image(page_png(contract_pdf, 1)))
    blank = _blank_pdf((595, 842))
    assert not _has_ink(_image(page_png(blank, 1)))


# Run in a child process: without the module's lock PDFium corrupts its heap and aborts the
# whole interpreter, which must fail this test rather than end the test run.
MANY_THREADS_SCRIPT = """
import logging, sys
from concurrent.futures import ThreadPoolExecutor
import django
django.setup()
logging.disable(logging.CRITICAL)
from contracts.esign.page_images import page_png
pdf = open(sys.argv[1], "rb").read()
asks = [(number, width) for number in (1, 2) for width in range(100, 250)]
with ThreadPoolExecutor(max_workers=16) as pool:
    pngs = list(pool.map(lambda ask: page_png(pdf, ask[0], width_px=ask[1]), asks))
assert all(png.startswith(b"\\x89PNG") for png in pngs)
print(len(pngs))
"""


def test_pages_asked_for_from_many_threads_at_once_all_render(contract_pdf, tmp_path):
    pdf_path = tmp_path / "contract.pdf"
    pdf_path.write_bytes(contract_pdf)
    child = subprocess.run(  # noqa: S603 - fixed argv: this interpreter, our own script
        [sys.executable, "-c", MANY_THREADS_SCRIPT, str(pdf_path)],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.split() == ["300"]
