"""ISO 20022 camt.053 (bank-to-customer statement) XML, versions .001.02 to .001.08.

Elements are matched on their local names, so every version's namespace reads alike; where
versions differ (`Sts` as text or as `Sts/Cd`, a party's `Nm` or `Pty/Nm`, a transaction's
`Amt` or `AmtDtls/TxAmt/Amt`) both shapes are read.

A statement never needs a DTD, and a DTD is where billion-laughs and XXE files declare their
entities: a file that has one is refused before it is parsed (`_refuse_dtd`).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pyexpat import ExpatError, ParserCreate
from xml.etree.ElementTree import Element, ParseError, fromstring

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

# Other camt messages people pick by mistake, by their root element.
_OTHER_MESSAGES = {
    "BkToCstmrAcctRpt": "a camt.052 intraday account report",
    "BkToCstmrDbtCdtNtfctn": "a camt.054 debit/credit notification",
}
_BOOKED = frozenset({"BOOK", "BOOKED"})
_OPENING_CODES = ("OPBD", "PRCD")  # PRCD (previous day's closing) where a bank gives no OPBD
_CLOSING_CODE = "CLBD"


def parse_camt053(data: bytes) -> Statement:
    """Read every `Stmt` of the file; an entry that cannot be read becomes a problem."""
    refuse_unusable(data)
    statements = _statement_elements(data)
    refuse_too_many(sum(len(stmt.findall("Ntry")) for stmt in statements))

    entries: list[StatementEntry] = []
    problems: list[Problem] = []
    balances: list[tuple[str, _Balance | None, _Balance | None]] = []
    number = 0  # entries are numbered across the whole file, as the preview lists them
    for stmt in statements:
        account = _text(stmt, "Acct/Id/IBAN") or _text(stmt, "Acct/Id/Othr/Id")
        statement_id = _text(stmt, "Id")
        opening, closing = _balances(stmt, problems)
        booked_total = Decimal(0)
        for ntry in stmt.findall("Ntry"):
            number += 1
            try:
                read, total = _entries_of(ntry, account, statement_id, number, problems)
            except ValueError as exc:
                problems.append(Problem(number, f"entry {number}: {exc}"))
                continue
            entries.extend(read)
            booked_total += total
        _check_balances(stmt, account, opening, closing, booked_total, problems)
        balances.append((account, opening, closing))

    accounts = {account for account, _, _ in balances}
    single_account = accounts.pop() if len(accounts) == 1 else ""
    currencies = {_text(stmt, "Acct/Ccy") for stmt in statements} | {
        balance.currency for _, *pair in balances for balance in pair if balance
    }
    currencies.discard("")
    first_opening, last_closing = balances[0][1], balances[-1][2]
    return Statement(
        format="camt.053",
        file_sha256=file_sha256(data),
        account=single_account,
        currency=currencies.pop() if len(currencies) == 1 else None,
        # Several statements of one account (a week of daily statements) chain into one.
        opening_balance=first_opening.amount if single_account and first_opening else None,
        closing_balance=last_closing.amount if single_account and last_closing else None,
        entries=with_entry_ids(entries),
        problems=tuple(problems),
    )


def _statement_elements(data: bytes) -> list[Element]:
    try:
        _refuse_dtd(data)
        root = fromstring(data)  # noqa: S314 (no DTD, so no entities: _refuse_dtd)
    except _DoctypeRefused:
        raise StatementError(
            "The file declares a DTD or XML entities, which bank statements never do; it was "
            "not read. Export the statement from the bank again."
        ) from None
    except (ExpatError, ParseError) as exc:
        raise StatementError(f"The file is not well-formed XML ({exc}).") from None
    for element in root.iter():
        # Namespace-agnostic: "{urn:iso:std:iso:20022:tech:xsd:camt.053.001.08}Ntry" → "Ntry".
        element.tag = element.tag.rpartition("}")[2]
    message = next(iter(root), None)
    if root.tag != "Document" or message is None or message.tag != "BkToCstmrStmt":
        what = _OTHER_MESSAGES.get(message.tag if message is not None else "", "")
        raise StatementError(
            f"The file is {what or 'XML but not a camt.053 bank statement'}. Export the "
            "account statement (camt.053) from the bank."
        )
    statements = message.findall("Stmt")
    if not statements:
        raise StatementError("The camt.053 file holds no statement.")
    return statements


class _DoctypeRefused(Exception):
    pass


def _refuse_dtd(data: bytes) -> None:
    """Refuse any DTD (defusedxml's forbid_dtd rule), checked by expat alone before the tree
    is built. Entities (billion laughs, XXE) can only be declared in a DTD, so a file without
    one is safe for the C ElementTree; defusedxml's own ElementTree runs a pure-Python parser,
    0.7 s of the 1 s budget for a 10,000-entry statement. Expat is the parser of both passes,
    so both see the same document.
    """

    def refuse(*_: object) -> None:
        raise _DoctypeRefused

    parser = ParserCreate()
    parser.StartDoctypeDeclHandler = refuse
    parser.Parse(data, True)


@dataclass(frozen=True)
class _Balance:
    amount: Decimal  # signed: an overdrawn account has a negative balance
    currency: str


def _balances(stmt: Element, problems: list[Problem]) -> tuple[_Balance | None, _Balance | None]:
    found: dict[str, _Balance] = {}
    for bal in stmt.findall("Bal"):
        code = _text(bal, "Tp/CdOrPrtry/Cd")
        if code in (*_OPENING_CODES, _CLOSING_CODE):
            try:
                found.setdefault(code, _Balance(*_signed_amount(bal, bal)))
            except ValueError as exc:
                problems.append(Problem(0, f"balance {code}: {exc}"))
    opening = next((found[code] for code in _OPENING_CODES if code in found), None)
    return opening, found.get(_CLOSING_CODE)


def _check_balances(
    stmt: Element,
    account: str,
    opening: _Balance | None,
    closing: _Balance | None,
    booked_total: Decimal,
    problems: list[Problem],
) -> None:
    if opening is None or closing is None or opening.currency != closing.currency:
        return
    expected = opening.amount + booked_total
    if expected != closing.amount:
        name = _text(stmt, "Id") or account
        problems.append(
            Problem(
                0,
                f"statement {name}: opening balance {opening.amount} + booked entries "
                f"{booked_total} = {expected} {opening.currency}, but the closing balance is "
                f"{closing.amount} (difference {closing.amount - expected}). Entries may be "
                "missing from the file.",
            )
        )


def _entries_of(
    ntry: Element, account: str, statement_id: str, number: int, problems: list[Problem]
) -> tuple[list[StatementEntry], Decimal]:
    """A booked `Ntry` as entries (one per transaction of a batch), and its signed amount."""
    status_element = ntry.find("Sts")
    status = _text(status_element, "Cd") or _text(status_element, "Prtry") or _text(ntry, "Sts")
    if status.upper() not in _BOOKED:
        problems.append(
            Problem(number, f"entry {number}: status {status or 'missing'}, not booked: skipped")
        )
        return [], Decimal(0)
    amount, currency = _signed_amount(ntry, ntry)
    booking_date = _date(ntry, "BookgDt")
    if booking_date is None:
        raise ValueError("the booking date is missing")
    reversal = _text(ntry, "RvslInd").lower() in ("true", "1")
    if reversal:
        # The indicator keeps the direction of the reversing booking itself (CRDT reverses an
        # earlier debit), so the amount is already signed as the money moved.
        problems.append(Problem(number, f"entry {number}: reverses an earlier booking"))
    common = {
        "entry_id": "",
        "account": account,
        "booking_date": booking_date,
        "value_date": _date(ntry, "ValDt"),
        "currency": currency,
        "line": number,
        "reversal": reversal,
    }
    entry_reference = clean_reference(_text(ntry, "AcctSvcrRef"))
    sequence = clean_reference(_text(ntry, "NtryRef"))
    if not entry_reference and sequence and statement_id:
        # NtryRef is often the entry's number in its statement ("1", "2", ...): tomorrow's
        # statement has a "1" too. With the statement's id it is unique; AcctSvcrRef is alone.
        entry_reference = f"{statement_id}/{sequence}"
    transactions = _find_all(ntry, "NtryDtls/TxDtls")
    split = _split_amounts(transactions, ntry, currency) if len(transactions) > 1 else None
    if split is None:
        if len(transactions) > 1:
            problems.append(
                Problem(
                    number,
                    f"entry {number}: a batch of {len(transactions)} transactions without "
                    "their own amounts, read as one entry",
                )
            )
        entry = StatementEntry(
            amount=amount,
            bank_reference=entry_reference or _transaction_reference(transactions[:1]),
            **_details(transactions, credit=amount > 0),
            **common,
        )
        return [entry], amount
    if sum(split) != amount:
        problems.append(
            Problem(
                number,
                f"entry {number}: its transactions add up to {sum(split)} {currency}, the "
                f"entry to {amount} {currency}",
            )
        )
    entries = []
    for tx, tx_amount in zip(transactions, split, strict=True):
        entries.append(
            StatementEntry(
                amount=tx_amount,
                bank_reference=_transaction_reference([tx]) or entry_reference,
                **_details([tx], credit=tx_amount > 0),
                **common,
            )
        )
    return entries, amount


def _split_amounts(
    transactions: list[Element], ntry: Element, currency: str
) -> list[Decimal] | None:
    """Each transaction's signed amount in the entry's currency; None if any lacks one."""
    amounts = []
    for tx in transactions:
        amount_path = "Amt" if tx.find("Amt") is not None else "AmtDtls/TxAmt/Amt"
        if _find(tx, amount_path) is None:
            return None
        # A transaction without its own indicator moves money the way its entry does.
        indicator = tx if tx.find("CdtDbtInd") is not None else ntry
        amount, tx_currency = _signed_amount(tx, indicator, amount_path)
        if tx_currency != currency:
            return None  # a foreign-currency batch: only the entry's own amount is booked
        amounts.append(amount)
    return amounts


def _details(transactions: list[Element], *, credit: bool) -> dict[str, str]:
    """Who paid and why, as StatementEntry fields, from an entry's transaction details."""
    if not transactions:
        return {}
    first = transactions[0]
    related = first.find("RltdPties")
    # Money in names the payer as debtor; money out names the payee as creditor.
    party = "Dbtr" if credit else "Cdtr"
    party_account = _find(related, f"{party}Acct/Id")
    references = (
        ref for tx in transactions for ref in _texts(tx, "RmtInf/Strd/CdtrRefInf/Ref") if ref
    )
    return {
        "counterparty_name": _text(related, f"{party}/Nm") or _text(related, f"{party}/Pty/Nm"),
        "counterparty_account": (
            _text(party_account, "IBAN") or _text(party_account, "Othr/Id")
        ).replace(" ", ""),
        # A batch read as one entry keeps every transaction's text: the invoice numbers.
        "remittance": " ".join(
            text for tx in transactions for text in _texts(tx, "RmtInf/Ustrd") if text
        ),
        "structured_reference": next(references, ""),
        "end_to_end_id": clean_reference(_text(first, "Refs/EndToEndId")),
    }


def _transaction_reference(transactions: list[Element]) -> str:
    return clean_reference(_text(transactions[0], "Refs/AcctSvcrRef")) if transactions else ""


def _signed_amount(
    element: Element, indicator_of: Element, path: str = "Amt"
) -> tuple[Decimal, str]:
    node = _find(element, path)
    if node is None:
        raise ValueError("the amount is missing")
    amount = parse_amount(node.text or "")
    if amount < 0:
        raise ValueError(f"amount {node.text} is negative; camt.053 signs it with CdtDbtInd")
    amount, currency = checked_money(amount, node.get("Ccy", ""))
    indicator = _text(indicator_of, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise ValueError(f"credit/debit indicator “{indicator}” is neither CRDT nor DBIT")
    return (amount if indicator == "CRDT" else -amount), currency


def _date(element: Element, path: str) -> date | None:
    text = _text(element, f"{path}/Dt") or _text(element, f"{path}/DtTm")
    if not text:
        return None
    # The day as the bank wrote it, before any time or offset: a booking at 00:30 CET is
    # that day's booking, not the previous day's in UTC.
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"date “{text}” is not a date") from None


def _text(element: Element | None, path: str) -> str:
    found = _find(element, path)
    return clean_text(found.text) if found is not None else ""


def _texts(element: Element, path: str) -> Iterator[str]:
    return (clean_text(found.text) for found in _find_all(element, path))


# Element.find with one tag runs in C; a path ("Acct/Id/IBAN") goes through the Python
# ElementPath, which took most of a 10,000-entry statement's time.
def _find(element: Element | None, path: str) -> Element | None:
    for tag in path.split("/"):
        if element is None:
            return None
        element = element.find(tag)
    return element


def _find_all(element: Element, path: str) -> list[Element]:
    found = [element]
    for tag in path.split("/"):
        found = [child for parent in found for child in parent.findall(tag)]
    return found
