"""Font warnings print once per process (make run's output no longer scrolls away under them),
while every document still sees every missing glyph and is refused for it."""

import io
import logging

import pytest

from contracts.document_templates import order_form_html
from contracts.missing_glyphs import PrintedOnce
from contracts.rendering import RenderingError, document_context, render_pdf, sample_snapshot


def _record(name: str, message: str, level: int = logging.WARNING) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, message, (), None)


def test_a_repeated_warning_passes_once_a_different_one_passes_too():
    once = PrintedOnce(loggers=["weasyprint", "fontTools"])
    assert once.filter(_record("weasyprint", 'glyph "ア"'))
    assert not once.filter(_record("weasyprint", 'glyph "ア"'))
    assert once.filter(_record("weasyprint", 'glyph "イ"'))
    assert once.filter(_record("fontTools.subset", "dropped table"))
    assert not once.filter(_record("fontTools.subset", "dropped table"))


def test_other_loggers_repeat_as_they_like():
    once = PrintedOnce(loggers=["weasyprint"])
    for _ in range(2):
        assert once.filter(_record("axes", "lockout for 10.0.0.1"))
        assert once.filter(_record("weasyprintish", "not a child of weasyprint"))


@pytest.fixture
def console():
    """What settings.LOGGING's console handler prints, captured."""
    [handler] = [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, PrintedOnce) for f in h.filters)
    ]
    printed = io.StringIO()
    previous = handler.setStream(printed)
    yield printed
    handler.setStream(previous)


def test_the_console_prints_a_glyph_warning_once_and_every_pdf_is_still_refused(console):
    snapshot = sample_snapshot(title="Order Form")
    snapshot["account"]["legal_name"] = "Nimbus \ue001 Labs"  # no installed font has U+E001
    context = document_context(snapshot, version_number=1)
    for _ in range(2):
        with pytest.raises(RenderingError, match="U\\+E001"):
            render_pdf(order_form_html(), context)
    # The legal name is printed twice in each PDF: four warnings, one line.
    assert console.getvalue().count("(U+E001)") == 1
