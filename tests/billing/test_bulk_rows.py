"""audit.bulk writes rows below the ORM (a statement's payments, history rows, audit events):
what it stores must be exactly what save() would store, on SQLite and PostgreSQL, whatever
shortcut it takes past the fields' own preparation."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction

from audit.bulk import insert_rows, update_rows
from billing.models import BankImport, ImportState, Payment, PaymentSource, PaymentState

pytestmark = pytest.mark.django_db

AT = datetime.datetime(2026, 3, 2, 9, 30, 15, 250000, tzinfo=datetime.UTC)
BERLIN = datetime.datetime(2026, 3, 2, 10, 30, 15, tzinfo=ZoneInfo("Europe/Berlin"))


@pytest.fixture
def finance(make_user):
    return make_user("Finance")


def statement(finance, sha: str, **values) -> BankImport:
    return BankImport(
        sha256=sha, filename="march.csv", file="statements/march.csv", kind="csv",
        state=ImportState.COMMITTED, entries=3, uploaded_by=finance, committed_by=finance,
        created_at=AT, updated_at=AT, **values,
    )  # fmt: skip


def stored(model, pk: int, columns: list[str]) -> tuple:
    """The row as the database holds it (SQLite's text for dates, jsonb's for JSON)."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {names} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()


def inserted(obj) -> int:
    model = type(obj)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    with transaction.atomic():
        (pk,) = insert_rows(model, fields, [[getattr(obj, f.attname) for f in fields]], ids=True)
    return pk


def test_a_row_inserted_in_bulk_is_stored_as_save_stores_it(finance):
    values = {"summary": {"new_payments": 2, "by_status": {"paid": 2}}, "committed_at": BERLIN}
    saved = statement(finance, "a" * 64, **values)
    saved.save()
    BankImport.objects.filter(pk=saved.pk).update(created_at=AT, updated_at=AT)  # auto_now
    pk = inserted(statement(finance, "b" * 64, **values))

    columns = [f.column for f in BankImport._meta.concrete_fields if f.name not in ("id", "sha256")]
    assert stored(BankImport, pk, columns) == stored(BankImport, saved.pk, columns)
    row = BankImport.objects.get(pk=pk)
    assert (row.state, row.summary, row.committed_at, row.created_at) == (
        ImportState.COMMITTED, values["summary"], BERLIN, AT,
    )  # fmt: skip


def test_a_json_string_is_stored_as_json_not_as_its_bare_text(finance):
    pk = inserted(statement(finance, "c" * 64, summary="not an object"))

    assert BankImport.objects.get(pk=pk).summary == "not an object"


def test_changed_rows_written_in_bulk_read_back_as_set(finance):
    payments = [
        Payment.objects.create(
            source=PaymentSource.BANK,
            external_id=f"E{n}",
            received_on=datetime.date(2026, 3, n),
            amount=Decimal("100.00"),
            currency="EUR",
        )
        for n in (1, 2, 3)
    ]
    for n, payment in enumerate(payments, start=1):
        # A Decimal beside an int in one column (an amount beside a default 0).
        payment.amount_applied = 0 if n == 3 else Decimal("40.25") * n
        payment.received_on = datetime.date(2026, 4, n)
        payment.updated_at = AT
    Payment.objects.filter(pk=payments[0].pk).update(state=PaymentState.APPLIED)
    fields = [Payment._meta.get_field(n) for n in ("amount_applied", "received_on", "updated_at")]

    with transaction.atomic():
        update_rows(Payment, payments, fields)

    rows = Payment.objects.filter(pk__in=[p.pk for p in payments]).order_by("pk")
    assert [(p.amount_applied, p.received_on, p.updated_at, p.state) for p in rows] == [
        (Decimal("40.25"), datetime.date(2026, 4, 1), AT, PaymentState.APPLIED),
        (Decimal("80.50"), datetime.date(2026, 4, 2), AT, PaymentState.RECEIVED),
        (Decimal("0.00"), datetime.date(2026, 4, 3), AT, PaymentState.RECEIVED),
    ]


def test_rows_inserted_in_bulk_come_back_with_their_own_ids_in_order(finance):
    BankImport.objects.create(
        sha256="0" * 64, filename="older.csv", file="statements/older.csv", uploaded_by=finance
    )  # an id taken before: the new ones follow it
    fields = [f for f in BankImport._meta.concrete_fields if not f.primary_key]
    rows = [statement(finance, f"{n:064x}", account_iban=f"IBAN{n}") for n in range(1, 6)]
    with transaction.atomic():
        ids = insert_rows(
            BankImport, fields, [[getattr(r, f.attname) for f in fields] for r in rows], ids=True
        )

    assert len(set(ids)) == 5
    assert [BankImport.objects.get(pk=pk).account_iban for pk in ids] == [
        f"IBAN{n}" for n in range(1, 6)
    ]


def test_changed_rows_of_every_kind_of_column_read_back_as_saved(finance):
    """JSON, a choice (written unchanged), an instant in another zone, and a column every row
    sets to NULL: written in bulk, each row stored as save() stores it."""
    rows = [statement(finance, c * 64) for c in "def"]
    for row in rows:
        row.save()
    for n, row in enumerate(rows):
        row.summary = {"new_payments": n, "by_status": {"paid": n}} if n else "not an object"
        row.committed_at, row.committed_by = BERLIN, None
    saved = statement(finance, "0" * 64, committed_at=BERLIN)
    saved.committed_by, saved.summary = None, {"new_payments": 1, "by_status": {"paid": 1}}
    saved.save()
    fields = [BankImport._meta.get_field(n) for n in ("summary", "state", "committed_at")]

    with transaction.atomic():
        update_rows(BankImport, rows, [*fields, BankImport._meta.get_field("committed_by")])

    columns = ["summary", "state", "committed_at", "committed_by_id"]
    assert stored(BankImport, rows[1].pk, columns) == stored(BankImport, saved.pk, columns)
    assert [
        (r.summary, r.state, r.committed_at, r.committed_by_id)
        for r in BankImport.objects.filter(pk__in=[r.pk for r in rows]).order_by("pk")
    ] == [(row.summary, ImportState.COMMITTED, BERLIN, None) for row in rows]
