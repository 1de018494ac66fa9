"""CSV downloads (the deal list, the audit log, the access review): streamed row by row,
opened correctly by Excel, and never running what someone typed as a formula."""

import csv
from collections.abc import Iterable, Iterator, Sequence

from django.http import StreamingHttpResponse

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP's CSV
# injection): deal, account and user names come from the CRM or people, who may type them.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """`value` as a spreadsheet shows it, never runs it: a leading ' makes a would-be
    formula text."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


class _Echo:
    """A file whose write() hands back what it was given: csv.writer then formats one row
    at a time for a streaming response (Django's documented pattern)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """The CSV text of `rows` under `columns`, a line at a time; `rows` is read lazily."""
    writer = csv.writer(_Echo())
    # A byte-order mark: Excel reads a CSV without one in the machine's legacy code page.
    yield "\ufeff" + writer.writerow(columns)
    for row in rows:
        yield writer.writerow(row)


def csv_download(lines: Iterable[str], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
