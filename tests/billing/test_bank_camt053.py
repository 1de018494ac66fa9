"""camt.053 bank statements: versions, batches, statuses, balances and hostile XML."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from billing.bank_statements import (
    Problem,
    StatementError,
    detect_format,
    parse_camt053,
    parse_statement,
)
from billing.bank_statements import entries as statement_entries

STATEMENTS = Path(__file__).parent / "statements"
V04 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.04"


def _file(name: str) -> bytes:
    return (STATEMENTS / name).read_bytes()


def _ntry(
    amount: str = "100.00",
    *,
    currency: str = "EUR",
    indicator: str = "CRDT",
    status: str = "<Sts>BOOK</Sts>",
    reference: str = "",
    details: str = "",
) -> str:
    return (
        f'<Ntry><Amt Ccy="{currency}">{amount}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>{status}'
        f"<BookgDt><Dt>2024-05-02</Dt></BookgDt>"
        f"{f'<AcctSvcrRef>{reference}</AcctSvcrRef>' if reference else ''}"
        f"{f'<NtryDtls>{details}</NtryDtls>' if details else ''}</Ntry>"
    )


def _tx(amount: str | None = None, ustrd: str = "", currency: str = "EUR") -> str:
    own_amount = f'<Amt Ccy="{currency}">{amount}</Amt>' if amount else ""
    return f"<TxDtls>{own_amount}<RmtInf><Ustrd>{ustrd}</Ustrd></RmtInf></TxDtls>"


def _balance(code: str, amount: str, indicator: str = "CRDT") -> str:
    return (
        f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
        f'<Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>'
        f"<Dt><Dt>2024-05-02</Dt></Dt></Bal>"
    )


def _camt(*entries: str, balances: str = "", namespace: str = V04) -> bytes:
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Document{xmlns}><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>M1</MsgId></GrpHdr><Stmt><Id>S1</Id>"
        f"<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        f"{balances}{''.join(entries)}</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def test_a_camt_053_001_02_statement_is_read_field_by_field():
    statement = parse_camt053(_file("camt053_v02_sparkasse.xml"))

    first = statement.entries[0]
    assert first.entry_id == "2024030400123"
    assert first.bank_reference == "2024030400123"
    assert first.account == "DE89370400440532013000"
    assert first.booking_date == date(2024, 3, 4)
    assert first.value_date == date(2024, 3, 4)
    assert first.amount == Decimal("1190.00")
    assert type(first.amount) is Decimal
    assert first.currency == "EUR"
    assert first.counterparty_name == "Müller & Söhne GmbH"
    assert first.counterparty_account == "DE02120300000000202051"
    assert first.remittance == "Rechnung INV-2024-0042 Kundennr. 1007"
    assert first.end_to_end_id == "E2E-INV-2024-0042"
    assert first.line == 1
    assert first.reversal is False
    debit = statement.entries[1]
    assert debit.amount == Decimal("-250.50")
    # Money out: the counterparty is the creditor, not ourselves as debtor.
    assert (debit.counterparty_name, debit.counterparty_account) == (
        "Bürobedarf Schmidt KG",
        "DE75512108001245126199",
    )
    assert debit.end_to_end_id == ""  # NOTPROVIDED
    assert statement.format == "camt.053"
    assert statement.account == "DE89370400440532013000"
    assert statement.currency == "EUR"
    # OPBD wins over PRCD; 10,000.00 + 1,190.00 − 250.50 + 3,000.00 = 13,939.50.
    assert (statement.opening_balance, statement.closing_balance) == (
        Decimal("10000.00"),
        Decimal("13939.50"),
    )


def test_a_batch_entry_becomes_one_entry_per_transaction_with_its_own_amount():
    statement = parse_camt053(_file("camt053_v02_sparkasse.xml"))

    batch = [e for e in statement.entries if e.line == 3]
    assert [(e.amount, e.counterparty_name) for e in batch] == [
        (Decimal("1000.00"), "Alpenblick Hotels AG"),
        (Decimal("1500.00"), "Nordwind Logistik GmbH"),
        (Decimal("500.00"), "Café Kranzler OHG"),
    ]
    assert [e.entry_id for e in batch] == [
        "2024030500201",
        "2024030500201#2",
        "2024030500201#3",
    ]
    assert batch[1].structured_reference == "RF18539007547034"
    assert [e.end_to_end_id for e in batch] == [
        "E2E-INV-2024-0043",
        "E2E-INV-2024-0044",
        "E2E-INV-2024-0045",
    ]


def test_a_pending_entry_is_skipped_with_a_problem_and_balances_add_up():
    statement = parse_camt053(_file("camt053_v02_sparkasse.xml"))

    assert statement.problems == (Problem(4, "entry 4: status PDNG, not booked: skipped"),)
    assert "INV-2024-0046" not in " ".join(e.remittance for e in statement.entries)
    assert len(statement.entries) == 5


def test_a_camt_053_001_08_file_with_two_accounts():
    statement = parse_camt053(_file("camt053_v08_two_accounts.xml"))

    received, reversal, part_one, part_two, sterling = statement.entries
    assert received.booking_date == date(2024, 4, 2)  # the bank's day, not UTC's day before
    assert received.counterparty_name == "Acme Trading B.V."  # .08: Dbtr/Pty/Nm
    assert received.structured_reference == "RF71INV20240051"
    assert received.remittance == "INV-2024-0051"
    assert received.end_to_end_id == ""
    assert received.entry_id == "NL-20240402-0001"  # AcctSvcrRef before NtryRef
    assert (sterling.account, sterling.currency, sterling.amount) == (
        "GB33BUKB20201555555555",
        "GBP",
        Decimal("75.25"),
    )
    assert sterling.counterparty_account == "20-32-0643917625"  # Othr/Id
    assert {e.account for e in (received, reversal, part_one, part_two)} == {"NL91ABNA0417164300"}
    assert statement.account == ""  # each entry keeps its own
    assert statement.currency is None
    assert (statement.opening_balance, statement.closing_balance) == (None, None)


def test_a_reversal_is_an_entry_with_a_note():
    statement = parse_camt053(_file("camt053_v08_two_accounts.xml"))

    reversal = statement.entries[1]
    assert reversal.reversal is True
    assert reversal.amount == Decimal("-100.00")
    assert reversal.counterparty_name == "Van Dijk Consultancy"
    assert statement.problems == (Problem(2, "entry 2: reverses an earlier booking"),)


def test_identical_entries_get_distinct_ids_that_repeat_on_a_second_import():
    data = _file("camt053_v08_two_accounts.xml")

    first, again = parse_camt053(data), parse_camt053(data)
    part_one, part_two = first.entries[2:4]

    assert part_one.entry_id != part_two.entry_id
    assert part_one.entry_id.startswith("sha256:")
    assert [e.entry_id for e in first.entries] == [e.entry_id for e in again.entries]
    assert first.file_sha256 == again.file_sha256


def test_an_entry_number_is_an_id_only_with_its_statement_id():
    numbered = _ntry("10.00").replace("<Amt ", "<NtryRef>1</NtryRef><Amt ", 1)
    tomorrow = _camt(numbered).replace(b"<Id>S1</Id>", b"<Id>S2</Id>")

    today_ids = [e.entry_id for e in parse_camt053(_camt(numbered)).entries]
    tomorrow_ids = [e.entry_id for e in parse_camt053(tomorrow).entries]
    nameless = parse_camt053(_camt(numbered).replace(b"<Id>S1</Id>", b"")).entries[0]

    assert (today_ids, tomorrow_ids) == (["S1/1"], ["S2/1"])
    assert nameless.entry_id.startswith("sha256:")


def test_a_balance_mismatch_is_a_problem_and_the_entries_are_still_read():
    data = _camt(
        _ntry("100.00"),
        _ntry("30.00", indicator="DBIT"),
        balances=_balance("OPBD", "50.00", "DBIT") + _balance("CLBD", "25.00"),
    )

    statement = parse_camt053(data)

    assert [e.amount for e in statement.entries] == [Decimal("100.00"), Decimal("-30.00")]
    assert statement.opening_balance == Decimal("-50.00")
    assert len(statement.problems) == 1
    line, message = statement.problems[0]
    assert line == 0
    assert "-50.00 + booked entries 70.00 = 20.00 EUR" in message
    assert "closing balance is 25.00 (difference 5.00)" in message


def test_balances_that_add_up_raise_no_problem():
    data = _camt(
        _ntry("100.00"),
        _ntry("30.00", indicator="DBIT"),
        balances=_balance("OPBD", "50.00", "DBIT") + _balance("CLBD", "20.00"),
    )

    assert parse_camt053(data).problems == ()


def test_a_batch_without_amounts_per_transaction_is_one_entry_not_the_amount_thrice():
    data = _camt(
        _ntry("300.00", reference="B1", details=_tx(ustrd="INV-1") + _tx(ustrd="INV-2")),
    )

    statement = parse_camt053(data)

    assert [(e.amount, e.remittance, e.entry_id) for e in statement.entries] == [
        (Decimal("300.00"), "INV-1 INV-2", "B1")
    ]
    assert statement.problems == (
        Problem(
            1, "entry 1: a batch of 2 transactions without their own amounts, read as one entry"
        ),
    )


def test_a_batch_whose_transactions_do_not_add_up_is_split_with_a_problem():
    data = _camt(
        _ntry("300.00", details=_tx("100.00", "INV-1") + _tx("150.00", "INV-2")),
    )

    statement = parse_camt053(data)

    assert [e.amount for e in statement.entries] == [Decimal("100.00"), Decimal("150.00")]
    assert statement.problems == (
        Problem(1, "entry 1: its transactions add up to 250.00 EUR, the entry to 300.00 EUR"),
    )


def test_one_bad_entry_among_good_ones_is_a_problem_and_the_rest_is_read():
    data = _camt(
        _ntry("10.00", reference="A"),
        _ntry("11.00", indicator="", reference="B"),
        _ntry("1,5", reference="C"),
        _ntry("-4.00", reference="D"),
        _ntry("12.00", reference="E").replace("<Dt>2024-05-02</Dt>", "<Dt>2024-02-30</Dt>"),
        _ntry("13.00", reference="F", status="<Sts><Cd>INFO</Cd></Sts>"),
        _ntry("14.00", reference="G"),
    )

    statement = parse_camt053(data)

    assert [e.entry_id for e in statement.entries] == ["A", "G"]
    assert statement.problems == (
        Problem(2, "entry 2: credit/debit indicator “” is neither CRDT nor DBIT"),
        Problem(3, "entry 3: amount “1,5” is not a number"),
        Problem(4, "entry 4: amount -4.00 is negative; camt.053 signs it with CdtDbtInd"),
        Problem(5, "entry 5: date “2024-02-30” is not a date"),
        Problem(6, "entry 6: status INFO, not booked: skipped"),
    )


def test_zero_and_three_decimal_currencies_are_exact():
    data = _camt(
        _ntry("1500000", currency="JPY"),
        _ntry("1234.567", currency="KWD"),
        _ntry("1500.5", currency="JPY"),
        _ntry("1.2345", currency="KWD"),
        _ntry("10", currency="XXQ"),
    )

    statement = parse_camt053(data)

    assert [(str(e.amount), e.currency) for e in statement.entries] == [
        ("1500000", "JPY"),
        ("1234.567", "KWD"),
    ]
    assert all(type(e.amount) is Decimal for e in statement.entries)
    assert [message for _, message in statement.problems] == [
        "entry 3: amount 1500.5 has more decimals than JPY allows",
        "entry 4: amount 1.2345 has more decimals than KWD allows",
        "entry 5: currency “XXQ” is not an ISO 4217 code",
    ]


@pytest.mark.parametrize("namespace", [V04, "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08", ""])
def test_namespaces_do_not_matter(namespace):
    statement = parse_camt053(_camt(_ntry("10.00", reference="R"), namespace=namespace))

    assert [(e.entry_id, e.amount) for e in statement.entries] == [("R", Decimal("10.00"))]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Document><BkToCstmrStmt><Stmt><Ntry><AddtlNtryInf>&lol4;</AddtlNtryInf></Ntry></Stmt>
</BkToCstmrStmt></Document>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Document><BkToCstmrStmt><Stmt><Ntry><AddtlNtryInf>&secret;</AddtlNtryInf></Ntry></Stmt>
</BkToCstmrStmt></Document>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Document SYSTEM "http://evil.example/camt.dtd">
<Document><BkToCstmrStmt><Stmt/></BkToCstmrStmt></Document>"""
INTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ELEMENT Document ANY>]>
<Document><BkToCstmrStmt><Stmt/></BkToCstmrStmt></Document>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, XXE, EXTERNAL_DTD, INTERNAL_DTD])
def test_dtds_and_entities_are_refused(data):
    assert detect_format(data) == "camt.053"
    with pytest.raises(StatementError, match="DTD or XML entities") as refused:
        parse_camt053(data)
    assert "root:" not in str(refused.value)  # nothing of /etc/passwd in the message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"Buchungstag;Betrag\n01.01.2024;5,00\n", "not well-formed XML"),
        (_camt(_ntry())[:-40], "not well-formed XML"),
        (b"<html><body>Login</body></html>", "not a camt.053 bank statement"),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">'
            b"<BkToCstmrDbtCdtNtfctn/></Document>",
            "camt.054 debit/credit notification",
        ),
        (b"<Document><BkToCstmrAcctRpt/></Document>", "camt.052 intraday"),
        (b"<Document><BkToCstmrStmt><GrpHdr/></BkToCstmrStmt></Document>", "holds no statement"),
        (b"", "empty"),
        (b"PK\x05\x06" + b"\x00" * 18, "zip archive"),
    ],
)
def test_files_that_are_no_camt_053_statement_are_refused(data, message):
    with pytest.raises(StatementError, match=message):
        parse_camt053(data)


def test_a_file_over_twenty_megabytes_is_refused():
    entry = _ntry("1.00").encode()
    data = _camt().replace(b"</Stmt>", entry * (21 * 1024 * 1024 // len(entry)) + b"</Stmt>")

    with pytest.raises(StatementError, match="up to 20 MB"):
        parse_camt053(data)


def test_more_entries_than_the_cap_are_refused(monkeypatch):
    monkeypatch.setattr(statement_entries, "MAX_ENTRIES", 2)

    with pytest.raises(StatementError, match="more than 2 entries"):
        parse_camt053(_camt(_ntry(), _ntry(), _ntry()))
    assert len(parse_camt053(_camt(_ntry(), _ntry())).entries) == 2


def test_parse_statement_tells_the_formats_apart():
    xml = _file("camt053_v02_sparkasse.xml")

    assert detect_format(b"\xef\xbb\xbf\n  " + xml) == "camt.053"
    assert parse_statement(xml).format == "camt.053"
    assert detect_format(_file("sparkasse_camt_v2.csv")) == "csv"
