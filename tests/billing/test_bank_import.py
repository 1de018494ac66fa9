"""Bank statements imported by Finance: uploaded, previewed (a dry run), committed once; the
same file twice adds nothing, an overlapping one only its new entries; CSV (a mapping per
bank, saved when Finance confirms it) and camt.053; reversals take the money back."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.utils import timezone

from audit.models import AuditEvent
from billing.bank_statements import ColumnMapping
from billing.models import ARItem, BankImport, BankMapping, Invoice, Payment
from billing.reconciliation.bank_import import (
    ImportRefused,
    MappingNeeded,
    bank_import_commit,
    bank_import_discard,
    bank_import_preview,
    bank_import_upload,
)
from tests.billing.cash import camt053, issued_copy, statement_csv

pytestmark = pytest.mark.django_db
STATEMENTS = Path(__file__).parent / "statements"


@pytest.fixture
def finance(make_user):
    return make_user("Finance", first_name="Fiona", last_name="Ledger")


def upload(finance, content, *, bank="Testbank", confirm=True, filename="statement.csv"):
    """Upload as Finance; for a new bank's CSV, confirm the guessed columns."""
    try:
        return bank_import_upload(actor=finance, filename=filename, content=content, bank=bank)
    except MappingNeeded as needed:
        if not confirm:
            raise
        mapping = ColumnMapping(**needed.initial)
        return bank_import_upload(
            actor=finance, filename=filename, content=content, bank=bank, mapping=mapping
        )


def test_a_csv_statement_is_previewed_then_committed(issued_invoice, finance):
    invoice = issued_invoice()
    other = issued_copy(invoice, serial=2, total=Decimal("500.00"), days_later=1)
    content = statement_csv(
        (invoice.total, invoice.currency, "Customer Inc", f"Invoice {invoice.number}", "T1"),
        ("250.00", other.currency, "Customer Inc", f"pay {other.number.lower()}", "T2"),
        ("-82.10", "USD", "Utility", "electricity", "T3"),
        ("99.00", "USD", "Somebody", "no idea", "T4"),
    )
    statement = upload(finance, content)
    assert statement.state == "preview"
    assert BankMapping.objects.get().bank == "Testbank"
    assert AuditEvent.objects.filter(action="bank_mapping.saved").count() == 1

    preview = bank_import_preview(statement)
    assert [(row.status, row.invoices) for row in preview.rows] == [
        ("paid", (invoice.number,)),
        ("partial", (other.number,)),
        ("debit", ()),
        ("unmatched", ()),
    ]
    assert preview.totals["paid"][invoice.currency] == [1, invoice.total]
    assert not Payment.objects.exists()  # a dry run
    invoice.refresh_from_db()
    assert invoice.state == "issued"

    summary = bank_import_commit(import_id=statement.pk, actor=finance)
    assert summary["new_payments"] == 3
    assert summary["by_status"] == {"debit": 1, "paid": 1, "partial": 1, "unmatched": 1}
    invoice.refresh_from_db()
    assert invoice.state == "paid"
    statement.refresh_from_db()
    assert statement.state == "committed"
    assert statement.summary == summary
    assert set(Payment.objects.values_list("statement_id", flat=True)) == {statement.pk}
    assert sorted(ARItem.objects.values_list("reason", flat=True)) == ["partial", "unmatched"]


def test_the_same_file_twice_adds_nothing_and_says_when_and_by_whom(issued_invoice, finance):
    invoice = issued_invoice()
    content = statement_csv((invoice.total, invoice.currency, "C", invoice.number, "T1"))
    statement = upload(finance, content)
    assert upload(finance, content).pk == statement.pk  # still in preview: the same one
    bank_import_commit(import_id=statement.pk, actor=finance)
    with pytest.raises(ImportRefused, match=r"already imported on .* by Fiona Ledger"):
        upload(finance, content)
    with pytest.raises(ImportRefused):
        bank_import_commit(import_id=statement.pk, actor=finance)
    assert Payment.objects.count() == 1
    assert BankImport.objects.count() == 1


def test_an_overlapping_statement_adds_only_its_new_entries(issued_invoice, finance):
    invoice = issued_invoice()
    later = issued_copy(invoice, serial=2, days_later=1)
    first_row = (invoice.total, invoice.currency, "C", invoice.number, "T1")
    first = upload(finance, statement_csv(first_row))
    bank_import_commit(import_id=first.pk, actor=finance)
    overlapping = upload(
        finance, statement_csv(first_row, (later.total, later.currency, "C", later.number, "T2"))
    )
    assert [row.status for row in bank_import_preview(overlapping).rows] == [
        "already imported",
        "paid",
    ]
    summary = bank_import_commit(import_id=overlapping.pk, actor=finance)
    assert summary["new_payments"] == 1
    assert summary["by_status"]["already imported"] == 1
    assert Payment.objects.count() == 2
    assert Invoice.objects.filter(state="paid").count() == 2


def test_two_payments_of_one_invoice_in_one_file_are_paid_then_paid_twice(issued_invoice, finance):
    invoice = issued_invoice()
    row = (invoice.total, invoice.currency, "C", invoice.number)
    statement = upload(finance, statement_csv((*row, "T1"), (*row, "T2")))
    assert [r.status for r in bank_import_preview(statement).rows] == ["paid", "paid_twice"]
    summary = bank_import_commit(import_id=statement.pk, actor=finance)
    assert summary["by_status"] == {"paid": 1, "paid_twice": 1}


def test_a_new_banks_csv_needs_its_columns_confirmed_and_then_reuses_them(finance):
    content = (STATEMENTS / "uk_paid_in_paid_out.csv").read_bytes()
    with pytest.raises(MappingNeeded) as needed:
        upload(finance, content, bank="Barclays", confirm=False)
    guessed = needed.value.initial
    assert (guessed["credit"], guessed["debit"], guessed["fixed_currency"]) == (
        "Paid in",
        "Paid out",
        "",
    )
    assert not BankImport.objects.exists()
    # Finance gives the account's currency, which the file does not name.
    mapping = ColumnMapping(**(guessed | {"fixed_currency": "GBP"}))
    first = bank_import_upload(
        actor=finance, filename="a.csv", content=content, bank="Barclays", mapping=mapping
    )
    assert BankMapping.objects.get(bank="Barclays").mapping["fixed_currency"] == "GBP"
    bank_import_discard(import_id=first.pk, actor=finance)
    # The saved mapping is used for the bank's next file, whatever its case.
    again = bank_import_upload(actor=finance, filename="a.csv", content=content, bank="barclays")
    assert again.state == "preview"
    assert again.bank.bank == "Barclays"
    rows = bank_import_preview(again).rows
    assert {row.status for row in rows} == {"unmatched", "debit"}  # INV-2024-… is not ours


def test_camt053_statement_with_a_reversal_takes_the_money_back(issued_invoice, finance):
    invoice = issued_invoice()
    paid = camt053(
        (invoice.total, "CRDT", invoice.currency, "Customer", f"Invoice {invoice.number}", "R1"),
        ("10.00", "DBIT", invoice.currency, "Bank", "fees", "R2"),
    )
    first = upload(finance, paid, filename="a.xml", bank="")
    assert first.kind == "camt053"
    bank_import_commit(import_id=first.pk, actor=finance)
    invoice.refresh_from_db()
    assert invoice.state == "paid"

    reversed_ = camt053(
        (invoice.total, "DBIT", invoice.currency, "Customer", f"Invoice {invoice.number}", "R3",
         True),
    )  # fmt: skip
    second = upload(finance, reversed_, filename="b.xml", bank="")
    assert [r.status for r in bank_import_preview(second).rows] == ["reversal"]
    summary = bank_import_commit(import_id=second.pk, actor=finance)
    assert summary["by_status"] == {"reversal": 1}
    invoice.refresh_from_db()
    assert invoice.state == "issued"
    assert invoice.amount_paid == 0
    payment = Payment.objects.get()
    assert payment.state == "refunded"
    (allocation,) = payment.allocations.all()
    assert (allocation.amount, allocation.amount_taken_back) == (invoice.total, invoice.total)
    item = ARItem.objects.get(reason="disputed")
    assert (item.payment, item.invoice, item.amount) == (payment, invoice, invoice.total)


def test_the_fixture_camt053_file_imports_its_credits_only(finance):
    content = (STATEMENTS / "camt053_v02_sparkasse.xml").read_bytes()
    statement = upload(finance, content, filename="sparkasse.xml", bank="")
    rows = bank_import_preview(statement).rows
    credits = [row for row in rows if row.amount > 0]
    summary = bank_import_commit(import_id=statement.pk, actor=finance)
    assert Payment.objects.count() == len(credits) == summary["new_payments"]
    assert all(p.amount > 0 for p in Payment.objects.all())
    assert summary["by_status"]["debit"] == sum(row.status == "debit" for row in rows)


def test_unreadable_files_are_refused_with_a_reason(finance):
    with pytest.raises(ImportRefused, match="PDF"):
        upload(finance, b"%PDF-1.7 ...", filename="x.pdf")
    with pytest.raises(ImportRefused, match="Name the bank"):
        upload(finance, statement_csv(("1.00", "USD", "C", "x", "T1")), bank=" ")
    assert not BankImport.objects.exists()


def test_an_entry_booked_on_a_day_not_yet_come_is_a_problem_not_a_payment(issued_invoice, finance):
    invoice = issued_invoice()
    tomorrow, later = (
        timezone.localdate() + timedelta(days=1),
        timezone.localdate() + timedelta(days=2),
    )
    content = statement_csv(
        (invoice.total, invoice.currency, "Customer Inc", f"Invoice {invoice.number}", "T1", later),
        ("10.00", "USD", "Somebody", "no idea", "T2", tomorrow),  # a bank a time zone ahead
    )
    statement = upload(finance, content)
    assert statement.entries == 1
    preview = bank_import_preview(statement)
    assert [row.status for row in preview.rows] == ["unmatched"]
    assert [p.message for p in preview.problems] == [
        f"booked on {later:%d %b %Y}, a day not yet come: not imported"
    ]
    assert bank_import_commit(import_id=statement.pk, actor=finance)["new_payments"] == 1
    invoice.refresh_from_db()
    assert invoice.state == "issued"
    assert not Payment.objects.filter(amount=invoice.total).exists()


def test_a_stored_statement_that_is_not_the_uploaded_file_is_refused(issued_invoice, finance):
    invoice = issued_invoice()
    row = (invoice.total, invoice.currency, "Customer Inc", f"Invoice {invoice.number}", "T1")
    statement = upload(finance, statement_csv(row))
    bank_import_preview(statement)  # read once: a kept reading must not hide the change
    with default_storage.open(statement.file.name, "wb") as stored:
        stored.write(statement_csv((*row[:4], "T-forged")))
    with pytest.raises(ImportRefused, match="not the file that was uploaded"):
        bank_import_preview(statement)
    with pytest.raises(ImportRefused, match="not the file that was uploaded"):
        bank_import_commit(import_id=statement.pk, actor=finance)
    assert not Payment.objects.exists()


def test_bank_imports_are_for_finance_only(make_user, finance):
    desk = make_user("Deal Desk")
    content = statement_csv(("1.00", "USD", "C", "x", "T1"))
    with pytest.raises(PermissionDenied):
        upload(desk, content)
    statement = upload(finance, content)
    with pytest.raises(PermissionDenied):
        bank_import_commit(import_id=statement.pk, actor=desk)
    with pytest.raises(PermissionDenied):
        bank_import_discard(import_id=statement.pk, actor=desk)
    statement.refresh_from_db()
    assert statement.state == "preview"
    assert not Payment.objects.exists()
