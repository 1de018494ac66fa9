"""Boxes are counted per thread: a web request rendering next to a worker is not blamed for
the worker's characters."""

import logging
import threading

from contracts.missing_glyphs import missing_glyphs


def _log_a_box() -> None:
    # WeasyPrint's own wording (weasyprint/draw/text.py).
    logging.getLogger("weasyprint").warning(
        '.notdef glyph rendered for Unicode string unsupported by fonts: "%s" (U+%04X)',
        "\ue000",
        0xE000,
    )


def test_boxes_drawn_on_this_thread_are_counted():
    with missing_glyphs() as missing:
        _log_a_box()
    assert list(missing.codepoints) == [0xE000]


def test_boxes_drawn_on_another_thread_are_not():
    with missing_glyphs() as missing:
        other = threading.Thread(target=_log_a_box)
        other.start()
        other.join()
    assert not missing.codepoints


def test_nothing_is_counted_once_the_document_is_written():
    with missing_glyphs() as missing:
        pass
    _log_a_box()
    assert not missing.codepoints
