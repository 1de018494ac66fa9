"""Rows written in bulk below the ORM: the one place for tens of thousands of new or changed
rows (a statement's payments and their history rows, the audit chain's bulk append, a CRM
sync's pages).

Django's bulk_create and bulk_update build an expression per value (bulk_update a CASE per
row and field) and bind every value through its field's get_db_prep_save in Python, which
was most of a statement's commit time. Here PostgreSQL takes new rows by COPY, adapting
plain Python values (str, int, Decimal, date, datetime) in C; SQLite takes one prepared
INSERT run over all the rows (executemany), plain values bound as they are; changed rows are
one UPDATE ... FROM (VALUES ...) per batch on SQLite, one UPDATE ... FROM unnest(one
array per column) on PostgreSQL. No save(), no signals, no pre_save: the
caller gives every column its final value (auto_now fields too).
"""

import datetime
import functools
import json
import operator
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

from django.db import connection, models, transaction

_SQLITE_PARAMS = 30_000  # SQLite ≥ 3.32 allows 32,766 bound values a statement
# Values each driver takes as they are (Django registers SQLite's adapters for Decimal and
# date, the same text its fields would make): the fields' own preparation is most of an
# insert's cost. A datetime goes to SQLite as naive UTC, as the field stores it.
_SQLITE_AS_IS = frozenset((str, int, bool, type(None), Decimal, datetime.date))
_PG_AS_IS = _SQLITE_AS_IS | {datetime.datetime}
_COPY_AS_IS = _PG_AS_IS | {dict, list}


def insert_rows(
    model: type[models.Model], fields: Sequence[models.Field], rows: list[Sequence], *, ids: bool
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
            plan = [(f, _COPY_AS_IS, {}) for f in fields]  # copy_rows encodes JSON itself
            copy_rows(model, fields, _prepared(plan, rows))
            return new_ids
        return _sqlite_insert(model, fields, rows, ids)


def _sqlite_insert(model, fields, rows: list[Sequence], ids: bool) -> list[int]:
    # One executemany of a one-row INSERT: the statement is prepared once and each row bound
    # to it in C. A multi-row INSERT of thousands of "%s" costs more: Django's wrapper turns
    # every "%s" into "?" with a regular expression, and SQLite parses the whole text.
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    one = ", ".join(["%s"] * len(fields))
    plan = _plan(fields, _SQLITE_AS_IS)
    params = _prepared(plan, rows)
    # savepoint=False: the caller's transaction, or one of its own, holds SQLite's write lock
    # over the whole statement, so no other connection inserts in between and the new rows'
    # ids are consecutive, ending at last_insert_rowid().
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({one})", params)  # noqa: S608
        if not ids:
            return []
        cursor.execute("SELECT last_insert_rowid()")
        (last,) = cursor.fetchone()
    return list(range(last - len(rows) + 1, last + 1))


def update_rows(
    model: type[models.Model], objs: Sequence[models.Model], fields: Sequence[models.Field]
) -> None:
    """Write `fields` of saved `objs` (matched on the primary key)."""
    if not objs or not fields:
        return
    columns = [model._meta.pk, *fields]
    values_of = operator.attrgetter(*(f.attname for f in columns))  # pk and ≥ 1 field
    if connection.vendor == "postgresql":
        _pg_update(model, columns, _prepared(_plan(columns, _PG_AS_IS), map(values_of, objs)))
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    # VALUES names its columns column1, column2, ... (on SQLite as on PostgreSQL).
    assignments = ", ".join(f"{quote(f.column)} = v.column{i}" for i, f in enumerate(fields, 2))
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    plan = _plan(columns, _SQLITE_AS_IS)
    per_statement = max(1, _SQLITE_PARAMS // len(columns))
    with connection.cursor() as cursor:
        for start in range(0, len(objs), per_statement):
            batch = objs[start : start + per_statement]
            params = [v for row in _prepared(plan, map(values_of, batch)) for v in row]
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (VALUES "  # noqa: S608
                + ", ".join([one] * len(batch))
                + f") AS v WHERE {table}.{quote(columns[0].column)} = v.column1",
                params,
            )


def _pg_update(model: type[models.Model], columns: Sequence[models.Field], rows: list) -> None:
    # One statement whatever the number of rows: each column bound as one array and
    # unnested, cast to the table's type. A VALUES list of "%s" per value cost more in
    # psycopg's parsing of the query text on our side and PostgreSQL's of the statement on
    # its side than the update itself.
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = [f"c{i}" for i in range(len(columns))]
    arrays = ", ".join(f"%s::{f.cast_db_type(connection)}[]" for f in columns)
    assignments = ", ".join(
        f"{quote(f.column)} = v.{name}" for f, name in zip(columns[1:], names[1:], strict=True)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {assignments} FROM unnest({arrays}) "  # noqa: S608
            f"AS v({', '.join(names)}) WHERE {table}.{quote(columns[0].column)} = v.c0",
            [_one_type(column) for column in zip(*rows, strict=True)],
        )


def _one_type(column: Sequence) -> list:
    # psycopg dumps a list of one type only; a column may mix equal kinds (a Decimal
    # amount beside a default int 0). Their text is what PostgreSQL parses either way.
    if len({type(v) for v in column if v is not None}) > 1:
        return [None if v is None else str(v) for v in column]
    return list(column)


def _plan(fields: Sequence[models.Field], types: frozenset) -> list[tuple]:
    """Per column: the field, the value types bound as they are (none for JSON: a str is a
    JSON string, encoded too) and the converters of other types, learnt as they come."""
    return [(f, frozenset() if isinstance(f, models.JSONField) else types, {}) for f in fields]


def _prepared(plan: list[tuple], rows: Iterable[Sequence]) -> list[list]:
    """The rows as lists of values the driver takes. Column by column, transposed in C: most
    columns hold only values bound as they are, found with one pass of type() over the column
    instead of a check of every value of every row."""
    columns = list(zip(*rows, strict=True))  # every row one value per field
    if not columns:
        return []
    for i, (field, types, converters) in enumerate(plan):
        kinds = set(map(type, columns[i])) - types
        if not kinds:
            continue
        convert = {kind: converters.get(kind) or _learn(field, converters, kind) for kind in kinds}
        if datetime.datetime in convert:
            convert[datetime.datetime] = _memoised(convert[datetime.datetime])
        # One pass: a value converted is not looked at again (a JSON column's dict becomes
        # its text, which a later pass over its str values would encode a second time).
        columns[i] = [convert[type(v)](v) if type(v) in convert else v for v in columns[i]]
    return list(map(list, zip(*columns, strict=True)))


def _memoised(convert: Callable) -> Callable:
    # The same instants fill a column (a batch's one `now` in created_at, a change's time in
    # its history row's history_date and updated_at): each converted once. Datetimes only:
    # equal Decimals may be written differently ("1.0", "1.00"), equal datetimes may not.
    done: dict = {}

    def converted(value):
        text = done.get(value)
        if text is None:
            text = done[value] = convert(value)
        return text

    return converted


def _learn(field: models.Field, converters: dict, kind: type) -> Callable:
    converters[kind] = converter = _converter(field, kind)
    return converter


def _converter(field: models.Field, kind: type) -> Callable:
    """How a value of `kind` goes to `field`'s column."""
    sqlite = connection.vendor != "postgresql"
    if isinstance(field, models.JSONField) and sqlite and kind in (dict, list):
        return _json_encoder(field.encoder).encode  # as the field encodes it
    if isinstance(field, models.DateTimeField) and sqlite and kind is datetime.datetime:
        return functools.partial(_sqlite_datetime, field)
    if issubclass(kind, str) and not isinstance(field, models.JSONField):
        return str  # a TextChoices member
    return functools.partial(field.get_db_prep_save, connection=connection)


def _sqlite_datetime(field: models.DateTimeField, value: datetime.datetime):
    if value.tzinfo is datetime.UTC:
        # What the field stores (naive in the connection's zone, UTC: no database sets
        # TIME_ZONE), without its per-value checks, as the text Django's sqlite3 adapter
        # makes of it (a call back into Python per value saved).
        return value.replace(tzinfo=None).isoformat(" ")
    return field.get_db_prep_save(value, connection)


@functools.cache
def _json_encoder(cls: type[json.JSONEncoder] | None) -> json.JSONEncoder:
    # json.dumps(cls=...) builds a new encoder on every call; the output is the same.
    return (cls or json.JSONEncoder)()


def copy_rows(
    model: type[models.Model], fields: Sequence[models.Field], rows: Iterable[list]
) -> None:
    """PostgreSQL COPY into `model`'s table (every column's value given, the primary key's
    too when it is in `fields`)."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    # JSON goes in as its text, encoded as the field would encode it.
    json_at = [
        (i, _json_encoder(f.encoder))
        for i, f in enumerate(fields)
        if isinstance(f, models.JSONField)
    ]
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            for i, encoder in json_at:
                row[i] = encoder.encode(row[i])
            copy.write_row(row)


def next_ids(model: type[models.Model], count: int) -> list[int]:
    """Primary keys drawn from the table's own sequence, for rows about to be copied in."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [pk for (pk,) in cursor.fetchall()]
