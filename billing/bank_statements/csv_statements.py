"""CSV bank statements: every bank has its own columns, so each bank gets a `ColumnMapping`.

The lead's import screen stores one mapping per bank (`to_json`), suggests one for a new
bank (`guess_mapping`) and shows the preview of `parse_csv` before anything is booked.
"""

import csv
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from decimal import Decimal

from billing.bank_statements.entries import (
    Problem,
    Statement,
    StatementEntry,
    checked_money,
    clean_reference,
    clean_text,
    file_sha256,
    parse_amount,
    refuse_too_many,
    refuse_unusable,
    with_entry_ids,
)
from billing.bank_statements.errors import StatementError
from dealdesk.pricing import CURRENCY_CODES

# A header name, or a 0-based column index (the only way to name a column without a header).
Column = str | int

DELIMITERS = (",", ";", "\t", "|")
# Tried in this order when the mapping names none: UTF-8 (with or without BOM) is what banks
# export today; cp1252 is German online banking's "ANSI"; latin-1 decodes any byte, so last.
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
_ALLOWED_ENCODINGS = ("", "utf-8", "utf-16", *ENCODINGS)
_THOUSANDS_SEPARATORS = ("", ".", ",", " ", "'")
_MAX_SKIPPED_ROWS = 1000
_SNIFF_LINES = 20
# Dates outside these years are a mis-read column, not a booking.
_EARLIEST_YEAR, _LATEST_YEAR = 1970, 2099
# The mapping's fields that name one column each (the remittance may name several).
_SINGLE_COLUMNS = (
    "booking_date", "amount", "debit", "credit", "value_date", "currency", "counterparty_name",
    "counterparty_account", "reference", "end_to_end_id", "account_column",
)  # fmt: skip


@dataclass(frozen=True)
class ColumnMapping:
    """Where one bank puts each field in its CSV export, and how it writes numbers and dates."""

    booking_date: Column
    amount: Column | None = None  # signed; or debit and credit columns instead
    debit: Column | None = None
    credit: Column | None = None
    value_date: Column | None = None
    currency: Column | None = None
    fixed_currency: str = ""  # when the file has no currency column (or leaves it blank)
    counterparty_name: Column | None = None
    counterparty_account: Column | None = None
    # Several columns are joined: some banks split the remittance text over columns.
    remittance: tuple[Column, ...] = ()
    reference: Column | None = None  # the bank's unique id of the transaction, if it has one
    end_to_end_id: Column | None = None
    account: str = ""  # our account at this bank, when the file does not say it per row
    account_column: Column | None = None
    delimiter: str = ""  # "" = detect
    encoding: str = ""  # "" = try ENCODINGS in order
    skip_rows: int = 0  # lines before the header (an account summary at the top)
    has_header: bool = True
    skip_footer_rows: int = 0  # closing-balance lines at the bottom
    decimal_separator: str = "."
    thousands_separator: str = ""
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    # A receivables import wants money in: debits are skipped, not reported.
    credits_only: bool = False

    def __post_init__(self) -> None:
        for name in _SINGLE_COLUMNS:
            self._check_column(name, getattr(self, name))
        if not isinstance(self.remittance, tuple):
            raise ValueError("remittance must be a list of columns")
        for column in self.remittance:
            self._check_column("remittance", column)
        if (self.amount is None) == (self.debit is None and self.credit is None):
            raise ValueError("Map either an amount column or a debit and a credit column.")
        if self.amount is None and (self.debit is None or self.credit is None):
            raise ValueError("Map both the debit and the credit column.")
        for name in ("fixed_currency", "account", "delimiter", "encoding",
                     "decimal_separator", "thousands_separator"):  # fmt: skip
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be text")
        if self.fixed_currency and self.fixed_currency not in CURRENCY_CODES:
            raise ValueError(f"“{self.fixed_currency}” is not an ISO 4217 currency code.")
        if self.currency is None and not self.fixed_currency:
            raise ValueError("Map a currency column or give the account's currency.")
        if self.delimiter not in ("", *DELIMITERS):
            raise ValueError("The delimiter must be comma, semicolon, tab or |.")
        if self.encoding not in _ALLOWED_ENCODINGS:
            raise ValueError(f"The encoding must be one of {', '.join(_ALLOWED_ENCODINGS[1:])}.")
        if self.decimal_separator not in (".", ","):
            raise ValueError("The decimal separator must be . or ,")
        if self.thousands_separator not in _THOUSANDS_SEPARATORS or (
            self.thousands_separator == self.decimal_separator
        ):
            raise ValueError("The thousands separator must differ from the decimal separator.")
        for name in ("skip_rows", "skip_footer_rows"):
            value = getattr(self, name)
            if type(value) is not int or not 0 <= value <= _MAX_SKIPPED_ROWS:
                raise ValueError(f"{name} must be a whole number from 0 to {_MAX_SKIPPED_ROWS}")
        if type(self.has_header) is not bool or type(self.credits_only) is not bool:
            raise ValueError("has_header and credits_only must be true or false")
        if (
            not isinstance(self.date_formats, tuple)
            or not self.date_formats
            or not all(isinstance(f, str) and "%" in f for f in self.date_formats)
        ):
            raise ValueError("Give at least one date format, such as %d.%m.%Y.")

    def _check_column(self, name: str, column: object) -> None:
        if column is None:
            return
        if type(column) is int:
            if column < 0:
                raise ValueError(f"{name}: a column index cannot be negative")
        elif not isinstance(column, str) or not column.strip():
            raise ValueError(f"{name}: name the column or give its index")
        elif not self.has_header:
            raise ValueError(f"{name}: a file without a header row needs column indexes")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "ColumnMapping":
        values = json.loads(text)
        if not isinstance(values, dict):
            raise ValueError("A column mapping is a JSON object.")
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"Unknown column mapping keys: {', '.join(sorted(unknown))}")
        for name in ("remittance", "date_formats"):
            if isinstance(values.get(name), list):
                values[name] = tuple(values[name])
        return cls(**values)


def parse_csv(data: bytes, mapping: ColumnMapping) -> Statement:
    """Read a CSV statement; rows that cannot be read become problems, the rest entries."""
    refuse_unusable(data)
    lines = io.StringIO(_decode(data, mapping.encoding), newline="")
    for _ in range(mapping.skip_rows):
        lines.readline()
    delimiter = mapping.delimiter or _sniff_delimiter(lines)
    rows = _rows(lines, delimiter, first_line=mapping.skip_rows + 1)
    if not rows:
        raise StatementError("The file has no rows to read.")
    columns, remittance_columns = _resolve_columns(
        mapping, rows.pop(0)[1] if mapping.has_header else None
    )
    if mapping.skip_footer_rows:
        rows = rows[: -mapping.skip_footer_rows]

    entries, problems, dates = [], [], {}
    for line, cells in rows:
        try:
            entry = _read_row(cells, columns, remittance_columns, mapping, line, dates)
        except ValueError as exc:
            problems.append(Problem(line, str(exc)))
            continue
        if entry is not None:
            entries.append(entry)
    currency = _only(entry.currency for entry in entries)
    return Statement(
        format="csv",
        file_sha256=file_sha256(data),
        account=mapping.account or _only(entry.account for entry in entries) or "",
        currency=currency if entries else (mapping.fixed_currency or None),
        opening_balance=None,
        closing_balance=None,
        entries=with_entry_ids(entries),
        problems=tuple(problems),
    )


def _only(values: Iterable[str]) -> str | None:
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


def _decode(data: bytes, encoding: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text" export: UTF-16 with a BOM, whatever the mapping says.
        encoding = "utf-16"
    elif encoding != "utf-16" and b"\x00" in data:
        raise StatementError("The file is not a text file, so it cannot be a CSV statement.")
    for candidate in (encoding,) if encoding else ENCODINGS:
        try:
            text = data.decode(candidate)
        except UnicodeDecodeError:
            continue
        return text.removeprefix("\ufeff")
    raise StatementError(
        f"The file is not in the {encoding} encoding set for this bank. Check the bank's "
        "column mapping, or export the statement again."
    )


def _sniff_delimiter(lines: io.StringIO) -> str:
    """The delimiter that splits the first lines into the same number of columns, most of them.

    Not csv.Sniffer: it takes the comma of "1.000,00" for the delimiter of a tab-separated file.
    """
    start = lines.tell()
    sample = "".join(lines.readline() for _ in range(_SNIFF_LINES))
    lines.seek(start)

    def regularity(delimiter: str) -> tuple[float, int]:
        try:
            widths = [len(row) for row in csv.reader(io.StringIO(sample), delimiter=delimiter)]
        except csv.Error:
            return 0.0, 0
        widths = [width for width in widths if width > 1]
        if not widths:
            return 0.0, 0
        common = max(set(widths), key=widths.count)
        return widths.count(common) / len(widths), common

    best = max(DELIMITERS, key=regularity)
    if regularity(best)[1] < 2:
        raise StatementError("The columns of this file are not separated by , ; tab or |.")
    return best


def _rows(lines: io.StringIO, delimiter: str, *, first_line: int) -> list[tuple[int, list[str]]]:
    """Non-blank rows with the line each starts on (a quoted field may span lines)."""
    # strict: a quote that never closes would otherwise swallow the following rows into one
    # cell, and their payments would vanish without a problem to show for it.
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    rows = []
    line = first_line
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((line, cells))
                refuse_too_many(len(rows) - 1)  # the header is not an entry
            line = first_line + reader.line_num
    except csv.Error as exc:
        raise StatementError(f"Line {line} of the file cannot be read as CSV ({exc}).") from None
    return rows


def _header_key(name: str) -> str:
    return clean_text(name).removeprefix("\ufeff").casefold()


def _resolve_columns(
    mapping: ColumnMapping, header: list[str] | None
) -> tuple[dict[str, int], tuple[int, ...]]:
    """Each mapped field's column index, and the remittance's column indexes."""
    positions: dict[str, int] = {}
    duplicated = set()
    for index, name in enumerate(header or ()):
        key = _header_key(name)
        if key in positions:
            duplicated.add(key)
        positions.setdefault(key, index)

    def index_of(column: Column) -> int:
        if isinstance(column, int):
            if header is not None and column >= len(header):
                raise StatementError(f"The file has no column number {column + 1}.")
            return column
        key = _header_key(column)
        if key in duplicated:
            raise StatementError(f"The file has two columns named “{column}”.")
        if key not in positions:
            found = ", ".join(f"“{clean_text(name)}”" for name in (header or ())[:30])
            raise StatementError(
                f"The file has no column “{column}” (its columns: {found}). Check that the "
                "right bank's mapping is chosen."
            )
        return positions[key]

    columns = {
        name: index_of(column)
        for name in _SINGLE_COLUMNS
        if (column := getattr(mapping, name)) is not None
    }
    return columns, tuple(index_of(column) for column in mapping.remittance)


def _read_row(
    cells: Sequence[str],
    columns: dict[str, int],
    remittance_columns: tuple[int, ...],
    mapping: ColumnMapping,
    line: int,
    dates: dict[str, date],
) -> StatementEntry | None:
    """One row's entry; None for a debit when only credits are wanted. ValueError: a problem."""

    def cell(name: str) -> str:
        return _cell(cells, columns.get(name))

    amount = _row_amount(cell, mapping)
    if mapping.credits_only and amount <= 0:
        return None
    amount, currency = checked_money(amount, cell("currency") or mapping.fixed_currency)
    booking_date = _parse_date(cell("booking_date"), mapping, dates)
    value_text = cell("value_date")
    return StatementEntry(
        entry_id="",
        account=cell("account_column") or mapping.account,
        booking_date=booking_date,
        value_date=_parse_date(value_text, mapping, dates, "value date") if value_text else None,
        amount=amount,
        currency=currency,
        counterparty_name=cell("counterparty_name"),
        counterparty_account=cell("counterparty_account").replace(" ", ""),
        remittance=" ".join(filter(None, (_cell(cells, i) for i in remittance_columns))),
        end_to_end_id=clean_reference(cell("end_to_end_id")),
        bank_reference=clean_reference(cell("reference")),
        line=line,
    )


def _cell(cells: Sequence[str], index: int | None) -> str:
    if index is None:
        return ""
    if index >= len(cells):
        raise ValueError(f"the row has {len(cells)} columns, too few for the mapping")
    # Cells such as "=HYPERLINK(...)" or "+49 30..." stay plain text: nothing here evaluates
    # them, and the pages that show them back escape them (a CSV export of them must too).
    return clean_text(cells[index])


def _row_amount(cell: Callable[[str], str], mapping: ColumnMapping) -> Decimal:
    def amount_in(name: str) -> Decimal | None:
        text = cell(name)
        if not text:
            return None
        return parse_amount(
            text,
            decimal_separator=mapping.decimal_separator,
            thousands_separator=mapping.thousands_separator,
        )

    if mapping.amount is not None:
        amount = amount_in("amount")
        if amount is None:
            raise ValueError("the amount is missing")
        return amount
    debit, credit = amount_in("debit"), amount_in("credit")
    if debit and credit:
        raise ValueError("both the debit and the credit column hold an amount")
    if credit is not None and credit < 0:
        raise ValueError(f"the credit column holds a negative amount ({credit})")
    if debit:
        # Some banks write debits as "-50,00" in their debit column, others as "50,00".
        return -abs(debit)
    if credit is None:
        raise ValueError("neither the debit nor the credit column holds an amount")
    return credit


def _parse_date(
    text: str, mapping: ColumnMapping, dates: dict[str, date], what: str = "date"
) -> date:
    # A statement repeats a handful of dates thousands of times: strptime only once each.
    if text not in dates:
        parsed = next(filter(None, (_date_in(text, f) for f in mapping.date_formats)), None)
        if parsed is None:
            expected = " or ".join(date(2024, 12, 31).strftime(f) for f in mapping.date_formats)
            raise ValueError(f"{what} “{text}” is not a date like {expected}")
        dates[text] = parsed
    return dates[text]


def _date_in(text: str, date_format: str) -> date | None:
    try:
        parsed = datetime.strptime(text, date_format).date()  # noqa: DTZ007
    except ValueError:
        return None
    # strptime's %Y takes "24" as the year 24: a two-digit year read with the wrong format.
    return parsed if _EARLIEST_YEAR <= parsed.year <= _LATEST_YEAR else None


# --- guess_mapping: a first mapping for a bank's file, from its header ----------------------

# Header words of common English and German exports, as _header_word() writes them.
_HEADER_WORDS = {
    "booking_date": ("date", "booking date", "transaction date", "posting date", "posted date",
                     "buchungstag", "buchungsdatum", "datum", "buchung"),
    "value_date": ("value date", "valuta", "valutadatum", "wert", "wertstellung",
                   "wertstellungsdatum"),
    "amount": ("amount", "betrag", "umsatz", "transaction amount"),
    "debit": ("debit", "debit amount", "paid out", "money out", "withdrawal", "withdrawals",
              "soll", "ausgang", "belastung"),
    "credit": ("credit", "credit amount", "paid in", "money in", "deposit", "deposits", "haben",
               "eingang", "gutschrift"),
    "currency": ("currency", "ccy", "waehrung", "whrg"),
    "counterparty_name": ("payer", "payer name", "payee", "name", "counterparty",
                          "counterparty name", "beguenstigter zahlungspflichtiger",
                          "beguenstigter auftraggeber", "auftraggeber empfaenger",
                          "name zahlungsbeteiligter", "zahlungspflichtiger", "auftraggeber",
                          "empfaenger"),
    "counterparty_account": ("iban", "counterparty iban", "counterparty account", "payer account",
                             "kontonummer iban", "iban zahlungsbeteiligter", "iban auftraggeber"),
    "remittance": ("description", "verwendungszweck", "memo", "details", "narrative",
                   "payment details", "transaction details", "payment reference", "reference"),
    "reference": ("transaction id", "transferwise id", "bank reference", "transaction reference",
                  "transaction number"),
    "end_to_end_id": ("end to end id", "end to end reference", "kundenreferenz end to end",
                      "end to end referenz"),
    "account_column": ("auftragskonto", "own account"),
}  # fmt: skip
_FIELD_OF_WORD = {word: field for field, words in _HEADER_WORDS.items() for word in words}
_DATE_FORMATS = (
    # Day first before month first: a file whose every date fits both is read day first
    # (the preview shows the dates before anything is booked).
    "%d.%m.%Y", "%d.%m.%y", "%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%d/%m/%y",
    "%m/%d/%y", "%Y%m%d",
)  # fmt: skip
_HEADER_SEARCH_ROWS = 30
_SAMPLE_ROWS = 50
_DECIMAL_AT_END = re.compile(r"([.,])\d{1,2}\D*$")


def _header_word(name: str) -> str:
    text = clean_text(name).removeprefix("\ufeff").casefold()
    for umlaut, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, spelled)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _header_fields(header: Sequence[str]) -> tuple[dict[str, list[int]], str]:
    """Field → column indexes for a header row, and a currency named in it ("Betrag (EUR)")."""
    found: dict[str, list[int]] = {}
    named_currency = ""
    for index, name in enumerate(header):
        word = _header_word(name)
        field = _FIELD_OF_WORD.get(word)
        head, _, last = word.rpartition(" ")
        if field is None and last.upper() in CURRENCY_CODES and head in _FIELD_OF_WORD:
            field, named_currency = _FIELD_OF_WORD[head], last.upper()
        if field is not None:
            found.setdefault(field, []).append(index)
    return found, named_currency


def guess_mapping(data: bytes, *, currency: str = "") -> ColumnMapping | None:
    """A mapping for a file with a common English or German header; None if it has none.

    `currency` is the account's currency, used when the file names none. The guess is a
    starting point for the bank's saved mapping: the preview shows what it reads.
    StatementError: the file is no CSV at all.
    """
    refuse_unusable(data)
    lines = io.StringIO(_decode(data, ""), newline="")
    delimiter = _sniff_delimiter(lines)
    rows = []
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        for _, cells in zip(range(_HEADER_SEARCH_ROWS + _SAMPLE_ROWS), reader, strict=False):
            rows.append((reader.line_num, cells))
    except csv.Error:
        return None
    for position, (line, header) in enumerate(rows[:_HEADER_SEARCH_ROWS]):
        found, named_currency = _header_fields(header)
        has_amount = "amount" in found or ("debit" in found and "credit" in found)
        if "booking_date" not in found or not has_amount:
            continue
        samples = [cells for _, cells in rows[position + 1 :]]
        return _mapping_from(
            found, header, samples, delimiter, line - 1, named_currency or currency
        )
    return None


def _mapping_from(
    found: dict[str, list[int]],
    header: Sequence[str],
    samples: list[list[str]],
    delimiter: str,
    skip_rows: int,
    currency: str,
) -> ColumnMapping | None:
    def values(field: str) -> list[str]:
        return [
            text
            for index in found.get(field, [])[:1]
            for cells in samples
            if index < len(cells) and (text := clean_text(cells[index]))
        ]

    date_formats = _guess_date_formats(values("booking_date") + values("value_date"))
    amounts = values("amount") + values("debit") + values("credit")
    decimal_separator = _guess_decimal_separator(amounts)
    thousands = {".": ",", ",": "."}[decimal_separator]
    names = {field: header[indexes[0]] for field, indexes in found.items()}
    try:
        return ColumnMapping(
            **{
                field: name
                for field, name in names.items()
                if field not in ("remittance", "debit", "credit", "amount")
            },
            **(
                {"amount": names["amount"]}
                if "amount" in names
                else {"debit": names["debit"], "credit": names["credit"]}
            ),
            remittance=tuple(header[index] for index in found.get("remittance", [])),
            fixed_currency="" if "currency" in found else currency,
            delimiter=delimiter,
            skip_rows=skip_rows,
            decimal_separator=decimal_separator,
            thousands_separator=thousands if any(thousands in a for a in amounts) else "",
            date_formats=date_formats,
        )
    except ValueError:
        return None  # no currency in the file and none given, or no readable dates


def _guess_date_formats(samples: list[str]) -> tuple[str, ...]:
    # The format that reads the most samples: one mistyped date must not spoil the guess.
    read = {f: sum(_date_in(text, f) is not None for text in samples) for f in _DATE_FORMATS}
    best = max(_DATE_FORMATS, key=read.__getitem__)
    return (best,) if read[best] else ()


def _guess_decimal_separator(samples: list[str]) -> str:
    # The separator before the last one or two digits is the decimal one: "1.234,56" is
    # German, "1,234.56" English. "1,234" (three digits) counts for neither.
    votes = {".": 0, ",": 0}
    for text in samples:
        if match := _DECIMAL_AT_END.search(text):
            votes[match[1]] += 1
    return "," if votes[","] > votes["."] else "."
