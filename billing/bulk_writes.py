"""Rows written in bulk below the ORM, for billing.settlement.Books: a statement's thousands
of new rows, changed rows and history rows. Django's bulk_create and bulk_update build an
expression per value (bulk_update a CASE per row and field), which was most of a statement's
commit time. No save(), no signals, no pre_save: the caller gives every column its value
(auto_now fields too). PostgreSQL takes new rows by COPY (audit.bulk), SQLite by multi-row
INSERTs; changed rows are one UPDATE ... FROM (VALUES ...) per batch on both.
"""

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from django.db import connection, models

from audit.bulk import copy_rows, next_ids

_SQLITE_PARAMS = 30_000  # SQLite ≥ 3.32 allows 32,766 bound values a statement
_PG_PARAMS = 60_000  # PostgreSQL allows 65,535
# Values SQLite stores as they are: the fields' own preparation is most of an insert's cost.
_AS_IS = frozenset((str, int, bool, type(None)))
_COPY_AS_IS = _AS_IS | {Decimal, date, datetime, dict, list}


def insert_rows(
    model: type[models.Model], fields: Sequence[models.Field], rows: list[list], *, ids: bool
) -> list[int]:
    """Insert `rows` (values of `fields`, the primary key left out); with `ids`, the new
    rows' primary keys, in order."""
    if not rows:
        return []
    with connection.wrap_database_errors:  # IntegrityError whichever way it is raised
        if connection.vendor == "postgresql":
            new_ids = next_ids(model, len(rows)) if ids else []
            if ids:
                fields = [model._meta.pk, *fields]
                rows = [[pk, *row] for pk, row in zip(new_ids, rows, strict=True)]
            copy_rows(model, fields, [_for_copy(fields, row) for row in rows])
            return new_ids
        return _sqlite_insert(model, fields, rows, ids)


def _for_copy(fields: Sequence[models.Field], row: list) -> list:
    # COPY adapts plain values itself; others (a FieldFile) go as their field prepares them.
    return [
        value if type(value) in _COPY_AS_IS else field.get_prep_value(value)
        for field, value in zip(fields, row, strict=True)
    ]


def _sqlite_insert(model, fields, rows, ids: bool) -> list[int]:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    returning = f" RETURNING {quote(model._meta.pk.column)}" if ids else ""
    new_ids: list[int] = []
    per_statement = max(1, _SQLITE_PARAMS // len(fields))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            batch = rows[start : start + per_statement]
            params = [
                value if type(value) in _AS_IS else field.get_db_prep_save(value, connection)
                for row in batch
                for field, value in zip(fields, row, strict=True)
            ]
            cursor.execute(
                f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES "  # noqa: S608
                + ", ".join([one] * len(batch))
                + returning,
                params,
            )
            if ids:  # RETURNING gives the rows in the order of VALUES, as bulk_create relies on
                new_ids.extend(pk for (pk,) in cursor.fetchall())
    return new_ids


def update_rows(
    model: type[models.Model], objs: Sequence[models.Model], fields: Sequence[models.Field]
) -> None:
    """Write `fields` of saved `objs` (one statement per batch, matched on the primary key)."""
    if not objs or not fields:
        return
    quote = connection.ops.quote_name
    pk = model._meta.pk
    columns = [pk, *fields]
    if connection.vendor == "postgresql":
        # VALUES' columns are typed from their values: cast them to the table's types.
        one = "(" + ", ".join(f"%s::{f.cast_db_type(connection)}" for f in columns) + ")"
        limit = _PG_PARAMS
    else:
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        limit = _SQLITE_PARAMS
    table = quote(model._meta.db_table)
    # VALUES names its columns column1, column2, ... on both databases.
    assignments = ", ".join(f"{quote(f.column)} = v.column{i}" for i, f in enumerate(fields, 2))
    per_statement = max(1, limit // len(columns))
    with connection.cursor() as cursor:
        for start in range(0, len(objs), per_statement):
            batch = objs[start : start + per_statement]
            params = [
                f.get_db_prep_save(getattr(obj, f.attname), connection)
                for obj in batch
                for f in columns
            ]
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES "  # noqa: S608
                + ", ".join([one] * len(batch))
                + f") AS v WHERE {table}.{quote(pk.column)} = v.column1",
                params,
            )
