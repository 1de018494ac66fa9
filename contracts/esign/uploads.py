"""A contract signed on paper arrives as an uploaded file: hostile until shown to be a PDF
a person can read, of a sane size, that opens without a password."""

import io

from pypdf import PdfReader
from pypdf.errors import PdfReadError

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
MAX_PAGES = 500


class UploadRefused(ValueError):
    """The file is not one we keep as an executed contract; the message says why."""


def checked_pdf(data: bytes) -> int:
    """The number of pages of `data`, or UploadRefused saying what is wrong with it."""
    if not data:
        raise UploadRefused("The file is empty.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRefused(f"The file is over {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    if not data.lstrip()[:5] == b"%PDF-":
        raise UploadRefused("The file is not a PDF.")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise UploadRefused("The PDF is password-protected: upload an unprotected copy.")
        pages = len(reader.pages)
    except UploadRefused:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise UploadRefused(f"The PDF cannot be read: {exc}") from exc
    if not 1 <= pages <= MAX_PAGES:
        raise UploadRefused(f"The PDF has {pages} pages; a contract has 1 to {MAX_PAGES}.")
    return pages
