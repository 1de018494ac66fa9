"""CSV bank statements: column mappings per bank, hostile cells, stable entry ids."""

import csv
import io
import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.bank_statements import (
    ColumnMapping,
    Problem,
    StatementError,
    detect_format,
    guess_mapping,
    parse_csv,
    parse_statement,
)
from billing.bank_statements import entries as statement_entries
from billing.bank_statements.entries import parse_amount

STATEMENTS = Path(__file__).parent / "statements"

SPARKASSE = ColumnMapping(
    account_column="Auftragskonto",
    booking_date="Buchungstag",
    value_date="Valutadatum",
    amount="Betrag",
    currency="Waehrung",
    counterparty_name="Beguenstigter/Zahlungspflichtiger",
    counterparty_account="Kontonummer/IBAN",
    remittance=("Verwendungszweck",),
    end_to_end_id="Kundenreferenz (End-to-End)",
    decimal_separator=",",
    thousands_separator=".",
    date_formats=("%d.%m.%y",),
)
UK_BANK = ColumnMapping(
    booking_date="Date",
    debit="Paid out",
    credit="Paid in",
    remittance=("Description",),
    fixed_currency="GBP",
    account="GB33BUKB20201555555555",
    thousands_separator=",",
    date_formats=("%d/%m/%Y",),
)
WISE = ColumnMapping(
    booking_date="Date",
    amount="Amount",
    currency="Currency",
    counterparty_name="Payer Name",
    remittance=("Description", "Payment Reference"),
    reference="TransferWise ID",
    date_formats=("%d-%m-%Y",),
)
SIMPLE = ColumnMapping(
    booking_date="date", amount="amount", currency="currency", remittance=("text",)
)


def _file(name: str) -> bytes:
    return (STATEMENTS / name).read_bytes()


def _simple(*rows: str) -> bytes:
    return ("date,amount,currency,text\n" + "\n".join(rows) + "\n").encode()


def test_a_german_savings_bank_export_is_read_field_by_field():
    statement = parse_csv(_file("sparkasse_camt_v2.csv"), SPARKASSE)

    first = statement.entries[0]
    assert first.account == "DE89370400440532013000"
    assert first.booking_date == date(2024, 3, 4)
    assert first.value_date == date(2024, 3, 4)
    assert first.amount == Decimal("1190.00")
    assert first.currency == "EUR"
    assert first.counterparty_name == "Müller & Söhne GmbH"  # cp1252 umlauts
    assert first.counterparty_account == "DE02120300000000202051"
    assert first.remittance == "Rechnung INV-2024-0042 Kundennr. 1007"
    assert first.end_to_end_id == "E2E-INV-2024-0042"
    assert first.structured_reference == ""
    assert first.line == 2
    assert first.entry_id.startswith("sha256:")
    assert [e.amount for e in statement.entries] == [
        Decimal("1190.00"),
        Decimal("-250.50"),
        Decimal("12345.67"),
        Decimal("0.50"),
    ]
    assert statement.entries[1].end_to_end_id == ""  # NOTPROVIDED is no reference
    assert statement.format == "csv"
    assert statement.account == "DE89370400440532013000"
    assert statement.currency == "EUR"
    assert statement.opening_balance is None


def test_bad_rows_are_reported_with_their_reason_and_the_rest_is_read():
    statement = parse_csv(_file("sparkasse_camt_v2.csv"), SPARKASSE)

    assert statement.problems == (
        Problem(6, "date “31.02.24” is not a date like 31.12.24"),
        Problem(7, "amount “1.19,00” is not a number"),
    )
    assert len(statement.entries) == 4
    assert "INV-2024-0049" not in {e.remittance for e in statement.entries}


def test_formula_cells_are_kept_as_text():
    german = parse_csv(_file("sparkasse_camt_v2.csv"), SPARKASSE)
    uk = parse_csv(_file("uk_paid_in_paid_out.csv"), UK_BANK)

    assert german.entries[2].remittance == '=HYPERLINK("http://evil.example/","INV-2024-0047")'
    assert [e.remittance for e in uk.entries][3:] == [
        "+44 20 7946 0000 refund",
        "@SUM(A1:A9) INV-2024-0054",
    ]
    formula_amount = parse_csv(_simple("2024-01-02,=1+1,EUR,x", "2024-01-02,-5,EUR,-cmd"), SIMPLE)
    assert formula_amount.problems == (Problem(2, "amount “=1+1” is not a number"),)
    assert formula_amount.entries[0].remittance == "-cmd"


def test_debit_and_credit_columns_with_a_byte_order_mark():
    data = _file("uk_paid_in_paid_out.csv")
    assert data.startswith(b"\xef\xbb\xbf")

    statement = parse_csv(data, UK_BANK)

    assert statement.problems == ()
    assert [(e.booking_date, e.amount) for e in statement.entries] == [
        (date(2024, 4, 1), Decimal("1075.25")),
        (date(2024, 4, 2), Decimal("-82.10")),
        (date(2024, 4, 2), Decimal("250.00")),
        (date(2024, 4, 3), Decimal("-19.99")),  # a debit written "-19.99" is still a debit
        (date(2024, 4, 3), Decimal("2000.00")),
    ]
    assert {(e.currency, e.account) for e in statement.entries} == {
        ("GBP", "GB33BUKB20201555555555")
    }


def test_credits_only_skips_debits_without_reporting_them():
    statement = parse_csv(_file("uk_paid_in_paid_out.csv"), replace(UK_BANK, credits_only=True))

    assert [e.amount for e in statement.entries] == [
        Decimal("1075.25"),
        Decimal("250.00"),
        Decimal("2000.00"),
    ]
    assert statement.problems == ()


@pytest.mark.parametrize(
    ("debit", "credit", "problem"),
    [
        ("5.00", "6.00", "both the debit and the credit column hold an amount"),
        ("", "", "neither the debit nor the credit column holds an amount"),
        ("", "-6.00", "the credit column holds a negative amount (-6.00)"),
    ],
)
def test_a_debit_credit_row_that_cannot_be_one_payment_is_a_problem(debit, credit, problem):
    data = f"Date,Description,Paid out,Paid in\n01/04/2024,x,{debit},{credit}\n".encode()

    statement = parse_csv(data, UK_BANK)

    assert statement.entries == ()
    assert statement.problems == (Problem(2, problem),)


def test_a_bank_reference_column_is_the_entry_id_and_minor_units_are_exact():
    statement = parse_csv(_file("wise_multi_currency.csv"), WISE)

    jpy, kwd, usd_out, usd_in = statement.entries
    assert (jpy.entry_id, jpy.amount, jpy.currency) == (
        "TRANSFER-912345671",
        Decimal("1500000"),
        "JPY",
    )
    assert (kwd.amount, kwd.currency) == (Decimal("1234.567"), "KWD")
    assert str(kwd.amount) == "1234.567"
    assert str(usd_in.amount) == "0.10"
    assert usd_out.amount == Decimal("-35.00")
    assert all(type(e.amount) is Decimal for e in statement.entries)
    assert jpy.remittance == "Received money from Sakura Systems KK INV-2024-0061"
    assert statement.currency is None  # several currencies: each entry has its own


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("2024-01-02,1500.5,JPY,x", "amount 1500.5 has more decimals than JPY allows"),
        ("2024-01-02,1.2345,KWD,x", "amount 1.2345 has more decimals than KWD allows"),
        ("2024-01-02,10.00,EURO,x", "currency “EURO” is not an ISO 4217 code"),
        ("2024-01-02,10.00,,x", "the currency is missing"),
        ("2024-01-02,,EUR,x", "the amount is missing"),
        ("2024-01-02,10.00", "the row has 2 columns, too few for the mapping"),
        ("02.01.2024,10.00,EUR,x", "date “02.01.2024” is not a date like 2024-12-31"),
    ],
)
def test_a_row_with_a_wrong_field_is_a_problem_with_the_reason(row, problem):
    statement = parse_csv(_simple("2024-01-01,1.00,usd,ok", row), SIMPLE)
    assert statement.problems == (Problem(3, problem),)
    assert [(e.amount, e.currency) for e in statement.entries] == [(Decimal("1.00"), "USD")]


def test_a_wrong_value_date_is_named_and_a_negative_zero_is_zero():
    data = b"date,value,amount,currency\n2024-01-02,2024-13-01,1.00,EUR\n2024-01-02,,-0.00,EUR\n"
    mapping = ColumnMapping(
        booking_date="date", value_date="value", amount="amount", currency="currency"
    )

    statement = parse_csv(data, mapping)

    assert statement.problems == (
        Problem(2, "value date “2024-13-01” is not a date like 2024-12-31"),
    )
    assert [(str(e.amount), e.value_date) for e in statement.entries] == [("0.00", None)]


@pytest.mark.parametrize(
    ("text", "decimal_separator", "thousands_separator", "amount"),
    [
        ("1.234,56", ",", ".", "1234.56"),
        ("1.234,56-", ",", ".", "-1234.56"),
        ("-1.234.567,8", ",", ".", "-1234567.8"),
        ("(1,234.56)", ".", ",", "-1234.56"),
        ("+50", ".", "", "50"),
        ("1\u00a0234,56", ",", " ", "1234.56"),
        ("1'234.56", ".", "'", "1234.56"),
        ("\u221212.00", ".", "", "-12.00"),
        ("1234,56", ",", ".", "1234.56"),
    ],
)
def test_amounts_as_banks_write_them(text, decimal_separator, thousands_separator, amount):
    parsed = parse_amount(
        text, decimal_separator=decimal_separator, thousands_separator=thousands_separator
    )

    assert parsed == Decimal(amount)
    assert type(parsed) is Decimal


@pytest.mark.parametrize(
    ("text", "decimal_separator", "thousands_separator"),
    [
        ("234.50", ",", "."),  # an English amount under a German mapping: not 23450
        ("1,234.56", ",", "."),
        ("12,3,4", ".", ","),
        ("1e5", ".", ""),
        ("NaN", ".", ""),
        ("Infinity", ".", ""),
        ("0x10", ".", ""),
        ("", ".", ""),
        ("--5", ".", ""),
        ("1234567890123456", ".", ""),
        ("12.34 EUR", ".", ""),
    ],
)
def test_what_is_not_an_amount_is_refused(text, decimal_separator, thousands_separator):
    with pytest.raises(ValueError, match="amount"):
        parse_amount(
            text, decimal_separator=decimal_separator, thousands_separator=thousands_separator
        )


def test_the_same_file_twice_gives_the_same_ids_and_identical_rows_distinct_ones():
    data = _simple(
        "2024-01-02,100.00,EUR,INV-1",
        "2024-01-02,100.00,EUR,INV-1",
        "2024-01-03,100.00,EUR,INV-1",
    )

    first, again = parse_csv(data, SIMPLE), parse_csv(data, SIMPLE)
    ids = [e.entry_id for e in first.entries]

    assert ids == [e.entry_id for e in again.entries]
    assert len(set(ids)) == 3
    assert first.file_sha256 == again.file_sha256


def test_entry_ids_do_not_depend_on_lines_above_the_header():
    data = _simple("2024-01-02,100.00,EUR,INV-1", "2024-01-02,100.00,EUR,INV-1")
    with_preamble = b'"Account";"DE89"\n"Period";"January"\n' + data

    plain = parse_csv(data, SIMPLE)
    shifted = parse_csv(with_preamble, replace(SIMPLE, skip_rows=2, delimiter=","))

    assert [e.entry_id for e in shifted.entries] == [e.entry_id for e in plain.entries]
    assert [e.line for e in shifted.entries] == [4, 5]


def test_a_repeated_bank_reference_stays_two_entries():
    data = (
        "id,date,amount,currency\nREF-1,2024-01-02,5.00,EUR\nREF-1,2024-01-02,7.00,EUR\n"
        "NONREF,2024-01-02,9.00,EUR\n" + "R" * 81 + ",2024-01-02,9.00,EUR\n"
    ).encode()
    mapping = ColumnMapping(
        booking_date="date", amount="amount", currency="currency", reference="id"
    )

    entries = parse_csv(data, mapping).entries

    assert [e.entry_id for e in entries][:2] == ["REF-1", "REF-1#2"]
    assert entries[2].entry_id.startswith("sha256:")  # "NONREF" is not a reference
    assert entries[2].bank_reference == ""
    assert entries[3].entry_id.startswith("sha256:")  # too long to be a bank's id


def test_columns_by_index_without_a_header_footer_skipped_and_delimiters_detected():
    data = b"02.01.2024\t1.000,00\tINV-9\n03.01.2024\t2,50\tINV-10\nSaldo\t1.002,50\t\n"
    mapping = ColumnMapping(
        booking_date=0,
        amount=1,
        remittance=(2,),
        fixed_currency="EUR",
        has_header=False,
        skip_footer_rows=1,
        decimal_separator=",",
        thousands_separator=".",
        date_formats=("%d.%m.%Y",),
    )

    statement = parse_csv(data, mapping)

    assert [(e.amount, e.remittance) for e in statement.entries] == [
        (Decimal("1000.00"), "INV-9"),
        (Decimal("2.50"), "INV-10"),
    ]
    assert statement.problems == ()
    piped = parse_csv(_simple("2024-01-02,1.00,EUR,a").replace(b",", b"|"), SIMPLE)
    assert [e.amount for e in piped.entries] == [Decimal("1.00")]


def test_a_multi_line_quoted_remittance_is_one_cell():
    data = _simple('2024-01-02,1.00,EUR,"INV-1\nINV-2"', "2024-01-03,2.00,EUR,INV-3")

    statement = parse_csv(data, SIMPLE)

    assert [(e.remittance, e.line) for e in statement.entries] == [
        ("INV-1 INV-2", 2),
        ("INV-3", 4),
    ]


def test_a_quote_that_never_closes_refuses_the_file_rather_than_swallow_rows():
    data = _simple('2024-01-02,1.00,EUR,"INV-1', "2024-01-03,2.00,EUR,INV-3")

    with pytest.raises(StatementError, match="Line 2"):
        parse_csv(data, SIMPLE)


def test_a_column_missing_from_the_file_names_the_columns_it_has():
    with pytest.raises(StatementError, match=r"no column “Betrag”.*“date”, “amount”"):
        parse_csv(_simple("2024-01-02,1.00,EUR,x"), replace(SIMPLE, amount="Betrag"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b" \r\n", "empty"),
        (b"PK\x03\x04\x14\x00\x01\x00encrypted", "zip archive"),
        (b"%PDF-1.7\n", "PDF"),
        (b"date,amount\x00,currency\n", "not a text file"),
        (b"just some text\nand more\n", "not separated by"),
    ],
)
def test_files_that_are_no_csv_statement_are_refused(data, message):
    with pytest.raises(StatementError, match=message):
        parse_csv(data, SIMPLE)


def test_a_file_over_twenty_megabytes_is_refused():
    data = _simple("2024-01-02,1.00,EUR,x") + b" " * (20 * 1024 * 1024)

    with pytest.raises(StatementError, match="up to 20 MB"):
        parse_csv(data, SIMPLE)
    with pytest.raises(StatementError, match="up to 20 MB"):
        detect_format(data)


def test_more_entries_than_the_cap_are_refused(monkeypatch):
    monkeypatch.setattr(statement_entries, "MAX_ENTRIES", 2)

    with pytest.raises(StatementError, match="more than 2 entries"):
        parse_csv(_simple(*["2024-01-02,1.00,EUR,x"] * 3), SIMPLE)
    assert len(parse_csv(_simple(*["2024-01-02,1.00,EUR,x"] * 2), SIMPLE).entries) == 2


def test_the_encoding_set_in_the_mapping_is_enforced():
    data = "date,amount,currency,text\n2024-01-02,1.00,EUR,Müller\n".encode("cp1252")

    with pytest.raises(StatementError, match="utf-8 encoding"):
        parse_csv(data, replace(SIMPLE, encoding="utf-8"))
    assert parse_csv(data, SIMPLE).entries[0].remittance == "Müller"  # fallback: cp1252
    utf16 = "date\tamount\tcurrency\ttext\n2024-01-02\t1.00\tEUR\tWeiß\n".encode("utf-16")
    assert parse_csv(utf16, SIMPLE).entries[0].remittance == "Weiß"
    no_bom = utf16.removeprefix(b"\xff\xfe")
    assert parse_csv(no_bom, replace(SIMPLE, encoding="utf-16")).entries[0].remittance == "Weiß"


def test_control_characters_become_spaces():
    statement = parse_csv(_simple("2024-01-02,1.00,EUR,INV-1\x07\x1bcode"), SIMPLE)

    assert statement.entries[0].remittance == "INV-1  code"


def test_a_mapping_survives_json_and_hostile_json_is_refused():
    assert ColumnMapping.from_json(SPARKASSE.to_json()) == SPARKASSE
    assert ColumnMapping.from_json(UK_BANK.to_json()) == UK_BANK
    stored = json.loads(WISE.to_json())
    assert stored["remittance"] == ["Description", "Payment Reference"]

    for hostile in (
        "[]",
        json.dumps({**stored, "evaluate": True}),
        json.dumps({**stored, "booking_date": ["Date"]}),
        json.dumps({**stored, "skip_rows": 1.5}),
        json.dumps({**stored, "delimiter": "x"}),
        json.dumps({**stored, "date_formats": "%d"}),
        json.dumps({**stored, "credits_only": "yes"}),
    ):
        with pytest.raises(ValueError):  # noqa: PT011 (each a different reason)
            ColumnMapping.from_json(hostile)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"debit": "Soll", "credit": "Haben"}, "either an amount column or a debit"),
        ({"amount": None, "debit": "Soll"}, "both the debit and the credit"),
        ({"currency": None}, "currency column or give the account's currency"),
        ({"fixed_currency": "XYZ"}, "not an ISO 4217"),
        ({"thousands_separator": "."}, "must differ"),
        ({"decimal_separator": ";"}, "decimal separator"),
        ({"encoding": "utf-7"}, "encoding must be"),
        ({"date_formats": ()}, "date format"),
        ({"has_header": False}, "needs column indexes"),
        ({"booking_date": -1}, "cannot be negative"),
    ],
)
def test_a_mapping_that_cannot_work_is_refused_when_made(changes, message):
    with pytest.raises(ValueError, match=message):
        replace(SIMPLE, **changes)


def test_guessing_a_german_mapping_from_its_header():
    guessed = guess_mapping(_file("sparkasse_camt_v2.csv"))

    assert guessed == replace(SPARKASSE, delimiter=";")
    # One mistyped date (31.02.24) among them does not spoil the date format.
    assert len(parse_csv(_file("sparkasse_camt_v2.csv"), guessed).entries) == 4


def test_guessing_english_mappings_from_their_headers():
    uk = guess_mapping(_file("uk_paid_in_paid_out.csv"), currency="GBP")
    wise = guess_mapping(_file("wise_multi_currency.csv"))

    assert uk == replace(UK_BANK, account="", delimiter=",")
    assert wise == replace(WISE, delimiter=",")


def test_guessing_with_a_preamble_a_currency_in_the_header_and_month_first_dates():
    data = (
        b"Account,12345678\nExported,2024-02-01\n\n"
        b'Posting Date,Description,Amount (USD)\n01/31/2024,INV-7,"1,200.00"\n'
    )

    guessed = guess_mapping(data)

    assert guessed is not None
    assert (guessed.skip_rows, guessed.fixed_currency, guessed.date_formats) == (
        3,
        "USD",
        ("%m/%d/%Y",),
    )
    entry = parse_csv(data, guessed).entries[0]
    assert (entry.booking_date, entry.amount, entry.currency) == (
        date(2024, 1, 31),
        Decimal("1200.00"),
        "USD",
    )


def test_no_guess_without_a_known_header_or_a_currency():
    assert guess_mapping(b"foo,bar\n1,2\n") is None
    assert guess_mapping(_file("uk_paid_in_paid_out.csv")) is None  # no currency anywhere
    with pytest.raises(StatementError, match="not recognised"):
        parse_statement(b"foo,bar\n1,2\n")


def test_parse_statement_reads_a_csv_with_its_guessed_mapping():
    statement = parse_statement(_file("wise_multi_currency.csv"))

    assert statement.format == "csv"
    assert len(statement.entries) == 4


_text = st.text(
    alphabet=st.characters(
        codec="utf-8",
        categories=("L", "N", "P", "S", "Zs"),
        exclude_characters="\u2028\u2029\x85\xa0",
    ),
    max_size=40,
).map(str.strip)
_entry_rows = st.lists(
    st.tuples(
        st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)),
        st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False),
        _text,
        _text,
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(rows=_entry_rows, german=st.booleans())
def test_round_trip_written_with_a_mapping_and_read_back(rows, german):
    mapping = ColumnMapping(
        booking_date="Buchungstag" if german else "Date",
        amount="Betrag" if german else "Amount",
        counterparty_name="Name",
        remittance=("Verwendungszweck" if german else "Description",),
        fixed_currency="EUR",
        delimiter=";" if german else ",",
        decimal_separator="," if german else ".",
        thousands_separator="." if german else ",",
        date_formats=("%d.%m.%Y",) if german else ("%Y-%m-%d",),
    )
    out = io.StringIO()
    writer = csv.writer(out, delimiter=mapping.delimiter)
    writer.writerow([mapping.booking_date, mapping.amount, "Name", mapping.remittance[0]])
    for day, amount, name, remittance in rows:
        number = f"{amount:,.2f}"
        if german:
            number = number.replace(",", "_").replace(".", ",").replace("_", ".")
        writer.writerow([day.strftime(mapping.date_formats[0]), number, name, remittance])

    statement = parse_csv(out.getvalue().encode("utf-8"), mapping)

    assert statement.problems == ()
    assert [
        (e.booking_date, e.amount, e.counterparty_name, e.remittance) for e in statement.entries
    ] == rows
    assert all(type(e.amount) is Decimal and e.currency == "EUR" for e in statement.entries)
    assert len({e.entry_id for e in statement.entries}) == len(rows)
