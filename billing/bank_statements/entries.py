"""What a bank statement reads into, and the rules both formats share.

Amounts are `Decimal` in the entry's currency, positive for money in. Text is cleaned of
control characters (it is shown back in pages and compared by the matcher) but otherwise kept
as the bank wrote it.
"""

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Literal, NamedTuple

from billing.bank_statements.errors import StatementError
from dealdesk.pricing import CURRENCY_CODES, minor_unit

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ENTRIES = 200_000
# A bank's reference longer than this is not an id a bank gives; the entry is hashed instead.
# Entry ids are therefore at most 100 characters: the reference and "#<ordinal>", or
# "sha256:<64 hex digits>".
MAX_REFERENCE_LENGTH = 80
# No real bank line reaches a quadrillion; a longer number is a mis-mapped column.
_MAX_INTEGER_DIGITS = 15
# SWIFT placeholders meaning "no reference": as ids they would merge unrelated entries.
_NO_REFERENCE = frozenset({"NONREF", "NOTPROVIDED", "NOT PROVIDED", "NONE", "N/A"})
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Magic numbers of files people upload by mistake, each with what to do instead.
_NOT_A_STATEMENT = (
    (b"PK\x03\x04", "a zip archive or an Excel workbook"),
    (b"PK\x05\x06", "an empty zip archive"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) workbook"),
    (b"%PDF", "a PDF"),
    (b"\x1f\x8b", "a gzip archive"),
)

StatementFormat = Literal["csv", "camt.053"]


class Problem(NamedTuple):
    """An entry that was not read (or read with a caveat), for the import preview.

    `line` is the CSV line or the camt.053 entry's number in the file; 0 is the file itself.
    """

    line: int
    message: str


@dataclass(frozen=True, slots=True)
class StatementEntry:
    # Stable across imports of the same file: the bank's reference, or a hash (with_entry_ids).
    # Unique per account, not across banks: store it with `account`.
    entry_id: str
    account: str  # IBAN or the bank's account id
    booking_date: date
    value_date: date | None
    amount: Decimal  # positive = money in
    currency: str
    counterparty_name: str = ""
    counterparty_account: str = ""
    remittance: str = ""  # free text: where the customer usually writes our invoice number
    structured_reference: str = ""  # e.g. an RF creditor reference
    end_to_end_id: str = ""
    bank_reference: str = ""
    line: int = 0  # CSV line or camt.053 entry number, for messages
    reversal: bool = False  # the bank reversed an earlier booking: an AR item, not a payment


@dataclass(frozen=True, slots=True)
class Statement:
    format: StatementFormat
    file_sha256: str
    account: str  # "" when the file covers several accounts (each entry has its own)
    currency: str | None
    opening_balance: Decimal | None
    closing_balance: Decimal | None
    entries: tuple[StatementEntry, ...]
    problems: tuple[Problem, ...]


def refuse_unusable(data: bytes) -> None:
    """Raise StatementError for a file no statement reader should even look into."""
    if not data.strip():
        raise StatementError("The file is empty.")
    if len(data) > MAX_FILE_BYTES:
        raise StatementError(
            f"The file is {len(data) / 1024 / 1024:.1f} MB; statements up to "
            f"{MAX_FILE_BYTES // 1024 // 1024} MB are imported. Export a shorter period."
        )
    for magic, what in _NOT_A_STATEMENT:
        if data.startswith(magic):
            raise StatementError(
                f"The file is {what}, not a bank statement. Export the statement from the "
                "bank as CSV or camt.053 XML and upload that file."
            )


def without_future_bookings(statement: Statement, latest: date) -> Statement:
    """`statement` without its entries booked after `latest`, each reported as a problem: a
    bank books nothing ahead of time, so such a date is a wrong date column or a forged
    file, and a payment received in the future would age invoices and first payments wrong."""
    ahead = [entry for entry in statement.entries if entry.booking_date > latest]
    if not ahead:
        return statement
    return replace(
        statement,
        entries=tuple(entry for entry in statement.entries if entry.booking_date <= latest),
        problems=statement.problems
        + tuple(
            Problem(
                entry.line,
                f"booked on {entry.booking_date:%d %b %Y}, a day not yet come: not imported",
            )
            for entry in ahead
        ),
    )


def refuse_too_many(count: int) -> None:
    if count > MAX_ENTRIES:
        raise StatementError(
            f"The file has more than {MAX_ENTRIES:,} entries. Export a shorter period."
        )


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def clean_text(text: str | None) -> str:
    return _CONTROL_CHARACTERS.sub(" ", text or "").strip()


def clean_reference(text: str | None) -> str:
    reference = clean_text(text)
    return "" if reference.upper() in _NO_REFERENCE else reference


@lru_cache(maxsize=16)
def _amount_pattern(decimal_separator: str, thousands_separator: str) -> re.Pattern[str]:
    # Groups of exactly three after a thousands separator: "234.50" read with "." as the
    # thousands separator must fail, not become 23450.
    decimal, thousands = re.escape(decimal_separator), re.escape(thousands_separator)
    integer = rf"\d{{1,3}}(?:{thousands}\d{{3}})+|\d+" if thousands_separator else r"\d+"
    return re.compile(rf"(?P<integer>{integer})(?:{decimal}(?P<fraction>\d+))?")


def parse_amount(
    text: str, *, decimal_separator: str = ".", thousands_separator: str = ""
) -> Decimal:
    """A signed amount as banks write it: "-1.234,56", "1.234,56-", "(1,234.56)", "+50".

    Only digits and the two separators are accepted: never an exponent, NaN or infinity.
    """
    value = clean_text(text).replace("\u2212", "-").replace("\u00a0", " ").replace("\u202f", " ")
    negative = False
    if value.startswith("(") and value.endswith(")"):
        negative, value = True, value[1:-1].strip()
    if value[:1] in ("+", "-"):
        negative, value = negative or value[0] == "-", value[1:].strip()
    elif value[-1:] in ("+", "-"):
        negative, value = negative or value[-1] == "-", value[:-1].strip()
    match = _amount_pattern(decimal_separator, thousands_separator).fullmatch(value)
    if not value or match is None:
        raise ValueError(f"amount “{text}” is not a number")
    integer = (
        match["integer"].replace(thousands_separator, "")
        if thousands_separator
        else match["integer"]
    )
    if len(integer.lstrip("0")) > _MAX_INTEGER_DIGITS:
        raise ValueError(f"amount “{text}” is too large")
    amount = Decimal(f"{integer}.{match['fraction'] or '0'}")
    return -amount if negative else amount


def checked_money(amount: Decimal, currency: str) -> tuple[Decimal, str]:
    """The amount at its currency's minor unit, refused if that would change its value."""
    code = clean_text(currency).upper()
    if not code:
        raise ValueError("the currency is missing")
    if code not in CURRENCY_CODES:
        raise ValueError(f"currency “{currency}” is not an ISO 4217 code")
    quantum = Decimal(1).scaleb(-minor_unit(code))
    exact = amount.quantize(quantum)
    if exact != amount:
        # A JPY amount with decimals is a mis-read file, never a payment to round.
        raise ValueError(f"amount {amount} has more decimals than {code} allows")
    return exact or abs(exact), code  # "-0.00" is 0.00


def _identity(entry: StatementEntry) -> str:
    # The entry's own content, not its line: a re-export with one more header line still
    # yields the same ids. Cleaned text has no \x1f, so fields cannot run into each other.
    return "\x1f".join(
        (
            entry.account,
            entry.booking_date.isoformat(),
            entry.value_date.isoformat() if entry.value_date else "",
            str(entry.amount),
            entry.currency,
            entry.counterparty_name,
            entry.counterparty_account,
            entry.remittance,
            entry.structured_reference,
            entry.end_to_end_id,
        )
    )


def with_entry_ids(entries: Iterable[StatementEntry]) -> tuple[StatementEntry, ...]:
    """Give each entry its stable id; identical entries are told apart by their ordinal.

    The ordinal counts among identical entries in file order, so the same file always gives
    the same ids while two genuine identical payments on one day stay two entries.
    """
    seen: Counter[tuple[str, str]] = Counter()
    identified = []
    for entry in entries:
        reference = entry.bank_reference
        if reference and len(reference) <= MAX_REFERENCE_LENGTH:
            seen["reference", reference] += 1
            ordinal = seen["reference", reference]
            entry_id = reference if ordinal == 1 else f"{reference}#{ordinal}"
        else:
            identity = _identity(entry)
            seen["identity", identity] += 1
            digest = hashlib.sha256(f"{identity}\x1f{seen['identity', identity]}".encode())
            entry_id = f"sha256:{digest.hexdigest()}"
        identified.append(replace(entry, entry_id=entry_id))
    return tuple(identified)
