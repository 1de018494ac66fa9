"""Characters a PDF would show as empty (.notdef) boxes: no installed font has them, or they
have no printed form (control characters). WeasyPrint draws them anyway and only logs a warning
for each, so they are collected from its log while a document is written (the "weasyprint"
logger must stay at WARNING or lower, as settings.LOGGING has it).

The same warnings come again for every character of every document, so the console prints
each of them once (`PrintedOnce`, a filter on the console handler: on the logger it would hide
the repeats from `MissingGlyphs` too, and a second contract with the same boxes would go out).
"""

import logging
import threading
import unicodedata
from collections.abc import Iterator, Sequence
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

    @property
    def only_control_characters(self) -> bool:
        return all(unicodedata.category(chr(c)) == "Cc" for c in self.codepoints)

    def reason(self, context: dict[str, Any]) -> str:
        characters = [chr(c) for c in self.codepoints]
        shown = ", ".join(_describe(c) for c in characters[:5])
        if len(characters) > 5:
            shown += f" and {len(characters) - 5} more"
        fields = _fields_containing(context, set(characters))
        where = f" in {', '.join(fields[:3])}" if fields else ""
        if self.only_control_characters:
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


class PrintedOnce(logging.Filter):
    """Lets each distinct message of the named loggers (and their children) through once per
    process; other loggers' records all pass. A machine without the Noto fonts otherwise
    prints a warning per missing character per document: ~60 lines for the demo data alone."""

    # Distinct messages remembered; past it, repeats print again rather than memory growing.
    LIMIT = 10_000

    def __init__(self, loggers: Sequence[str] = ()) -> None:
        super().__init__()
        self.loggers = tuple(loggers)
        self.seen: set[tuple[str, int, str]] = set()
        self.lock = threading.Lock()  # web and worker threads log at once

    def filter(self, record: logging.LogRecord) -> bool:
        if not any(record.name == n or record.name.startswith(f"{n}.") for n in self.loggers):
            return True
        key = (record.name, record.levelno, record.getMessage())
        with self.lock:
            if key in self.seen:
                return False
            if len(self.seen) < self.LIMIT:
                self.seen.add(key)
        return True
