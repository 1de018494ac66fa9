"""Inserting many new rows with their history rows, as fast as the database allows.

On PostgreSQL: COPY, for the rows and for their history rows (simple-history's `+` rows
with the acting user and reason), with primary keys drawn from the table's sequence first
so the caller's objects come back saved. Building and binding a Django insert for each of
100,000 rows of thirty fields costs more than the whole rest of a CRM sync; COPY lets
psycopg adapt the values in C. Elsewhere: simple-history's bulk_create_with_history.

Like bulk_create, this calls no save() and sends no signals.
"""

from collections.abc import Iterable, Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, models
from django.utils import timezone
from simple_history.utils import bulk_create_with_history


def bulk_insert_with_history(
    objs: Sequence[models.Model], *, user: AbstractBaseUser, reason: str
) -> None:
    if not objs:
        return
    model = type(objs[0])
    if connection.vendor != "postgresql":
        bulk_create_with_history(objs, model, default_user=user, default_change_reason=reason)
        return
    now = timezone.now()
    fields = model._meta.concrete_fields
    stamped = [
        f.attname
        for f in fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, len(objs)],
        )
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = pk
            for name in stamped:
                setattr(obj, name, now)
        _copy(cursor, model, fields, ([getattr(o, f.attname) for f in fields] for o in objs))
        history = model.history.model
        history_fields = [f for f in history._meta.concrete_fields if f.name != "history_id"]
        extra = {
            "history_date": now,
            "history_change_reason": reason,
            "history_type": "+",
            "history_user_id": user.pk,
        }
        _copy(
            cursor,
            history,
            history_fields,
            (
                [
                    extra[f.attname] if f.attname in extra else getattr(o, f.attname)
                    for f in history_fields
                ]
                for o in objs
            ),
        )
    for obj in objs:
        obj._state.adding, obj._state.db = False, connection.alias


def _copy(cursor, model, fields, rows: Iterable[list]) -> None:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    with cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
