"""Bank statements read into typed entries: CSV (a column mapping per bank) and camt.053 XML.

Pure functions over the uploaded bytes: no models, no database. The import and the matching
(billing services) take a `Statement` from here, show its entries and problems in a preview,
and use each entry's `entry_id` to make a second import of the same file add nothing.
Every file is hostile input: size and entry caps, no XML entities or DTDs, no evaluation of
spreadsheet formulas, a bad row reported with its reason while the rest is read.
"""

from billing.bank_statements.camt053 import parse_camt053
from billing.bank_statements.csv_statements import ColumnMapping, guess_mapping, parse_csv
from billing.bank_statements.entries import (
    Problem,
    Statement,
    StatementEntry,
    StatementFormat,
    refuse_unusable,
)
from billing.bank_statements.errors import StatementError

__all__ = [
    "ColumnMapping",
    "Problem",
    "Statement",
    "StatementEntry",
    "StatementError",
    "StatementFormat",
    "detect_format",
    "guess_mapping",
    "parse_camt053",
    "parse_csv",
    "parse_statement",
]

_BOM_AND_SPACE = b"\xef\xbb\xbf \t\r\n"


def detect_format(data: bytes) -> StatementFormat:
    """ "camt.053" for XML, "csv" for anything else that is not refused outright."""
    refuse_unusable(data)
    return "camt.053" if data[:1024].lstrip(_BOM_AND_SPACE).startswith(b"<") else "csv"


def parse_statement(data: bytes, mapping: ColumnMapping | None = None) -> Statement:
    """Read either format; a CSV without `mapping` is read with the mapping its header suggests."""
    if detect_format(data) == "camt.053":
        return parse_camt053(data)
    mapping = mapping or guess_mapping(data)
    if mapping is None:
        raise StatementError(
            "The columns of this CSV file were not recognised (a date, an amount and a currency "
            "are needed). Set up the column mapping for this bank, then import it again."
        )
    return parse_csv(data, mapping)
