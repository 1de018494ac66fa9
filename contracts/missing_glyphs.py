"""Characters a PDF would show as empty (.notdef) boxes: no installed font has them, or they
have no printed form (control characters). WeasyPrint draws them anyway and only logs a warning
for each, so they are collected from its log while a document is written (the "weasyprint"
logger must stay at WARNING or lower, as settings.LOGGING has it)."""

import logging
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class MissingGlyphs(logging.Handler):
    """The characters WeasyPrint drew as empty boxes on this thread."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.codepoints: dict[int, None] = {}  # ordered and unique

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread and str(record.msg).startswith(".notdef glyph"):
            self.codepoints[record.args[-1]] = None

    def reason(self, context: dict[str, Any]) -> str:
        characters = [chr(c) for c in self.codepoints]
        shown = ", ".join(_describe(c) for c in characters[:5])
        if len(characters) > 5:
            shown += f" and {len(characters) - 5} more"
        fields = _fields_containing(context, set(characters))
        where = f" in {', '.join(fields[:3])}" if fields else ""
        if all(unicodedata.category(c) == "Cc" for c in characters):
            cause = "control characters have no printed form: correct the text where it comes from"
        else:
            cause = (
                "no installed font has these characters "
                "(on Debian: apt-get install fonts-noto-core fonts-noto-cjk)"
            )
        return f"the PDF would show empty boxes for {shown}{where}: {cause}"


def _describe(character: str) -> str:
    code = f"U+{ord(character):04X}"
    if unicodedata.category(character) == "Cc":  # a vertical tab pasted from a spreadsheet
        return f"{code} (a control character)"
    return f"{character} ({code})"


def _fields_containing(value: Any, characters: set[str], path: str = "") -> list[str]:
    """Where in the document context the characters are, e.g. ["account.legal_name"]."""
    if isinstance(value, str):
        return [path] if characters.intersection(value) else []
    if isinstance(value, dict):
        items = ((f"{path}.{key}" if path else str(key), v) for key, v in value.items())
    elif isinstance(value, list):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    else:
        return []
    return [found for sub, v in items for found in _fields_containing(v, characters, sub)]


@contextmanager
def missing_glyphs() -> Iterator[MissingGlyphs]:
    logger = logging.getLogger("weasyprint")
    missing = MissingGlyphs()
    logger.addHandler(missing)
    try:
        yield missing
    finally:
        logger.removeHandler(missing)
