"""Writing the audit log: the one function every state change calls."""

from __future__ import annotations

import datetime
import functools
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from audit.anchors import Anchor, AnchorStore, anchor_store
from audit.bulk import insert_rows
from audit.chain import (
    GENESIS_HASH,
    anchor_mac,
    canonical_json,
    chain_key,
    cutover_seal,
    link_hash,
    normalise_json,
)
from audit.models import AuditChainHead, AuditEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

HEAD_PK = 1
SYSTEM_USERNAME = "system"
ANONYMOUS_USERNAME = "anonymous"


class AuditChainError(Exception):
    """The chain cannot be extended as it stands (its head row is gone but events remain)."""


def _check_length(name: str, value: str) -> None:
    # PostgreSQL would refuse an over-long value and SQLite would keep it: refuse it on both,
    # so what is hashed is always what is stored.
    max_length = _max_length(name)
    if len(value) > max_length:
        raise ValueError(f"audit {name} is longer than {max_length} characters: {value[:40]}...")


@functools.cache
def _max_length(name: str) -> int:
    return AuditEvent._meta.get_field(name).max_length


def _append(fields: dict) -> AuditEvent:
    """Chain `fields` (every hashed field but seq) onto the head and insert the event."""
    if connection.vendor == "postgresql":
        content = canonical_json(fields)
        row = _append_in_one_statement(fields, content)
        if row is None:
            _create_head()
            row = _append_in_one_statement(fields, content)
        pk, seq, prev_hash, digest = row
        values = {"id": pk, "seq": seq, "prev_hash": prev_hash, "hash": digest, **fields}
        # from_db: the saved instance built from positional values, half the cost of kwargs.
        return AuditEvent.from_db(connection.alias, None, [values[n] for n in _attnames()])
    (values,), (pk,) = _chain_and_insert([fields], ids=True)
    saved = {"id": pk, **dict(zip(_columns(), values, strict=True))}
    return AuditEvent.from_db(connection.alias, None, [saved[n] for n in _attnames()])


def _chain_and_insert(rows: list[dict], *, ids: bool = False) -> tuple[list[list], list[int]]:
    """Lock the head, chain `rows` onto it in order, insert them and move the head on:
    every append on SQLite, and bulk appends on both databases. Returns the events' values
    (in `_columns()` order) and, with `ids`, their primary keys."""
    columns = _columns()
    at_seq, at_prev, at_hash = (columns.index(f) for f in ("seq", "prev_hash", "hash"))
    # savepoint=False: joins the caller's transaction outright; any failure here must roll
    # back the caller's change too.
    with transaction.atomic(savepoint=False):
        last_seq, prev_hash = _lock_head()
        events = []
        for seq, fields in enumerate(rows, start=last_seq + 1):
            digest = link_hash(canonical_json(fields), seq, prev_hash)
            values = {**fields, "seq": seq, "prev_hash": prev_hash, "hash": digest}
            events.append([values[name] for name in columns])
            prev_hash = digest
        new_ids = insert_rows(AuditEvent, _fields(), events, ids=ids)
        # After the insert: the PostgreSQL head guard lets the head jump forward only onto
        # events that are there and chained on the old head.
        last = events[-1]
        _move_head(last[at_seq], last[at_prev], last[at_hash])
    return events, new_ids


@functools.cache
def _fields() -> tuple[models.Field, ...]:
    return tuple(f for f in AuditEvent._meta.concrete_fields if not f.primary_key)


@functools.cache
def _columns() -> tuple[str, ...]:
    return tuple(f.attname for f in _fields())


@functools.cache
def _attnames() -> tuple[str, ...]:
    return tuple(f.attname for f in AuditEvent._meta.concrete_fields)


# PostgreSQL: lock the head, hash and insert in one statement, so an event costs one round
# trip instead of a lock, an insert and a head update apart (bench/bench_audit.py).
# SET expressions read the row as it was, so last_prev_hash gets the old hash and last_hash
# the new one: audit.chain.link_hash done in SQL (pgcrypto's hmac; the key is a parameter of
# the statement, never stored in the database). Under READ COMMITTED a second writer waits
# on the row lock, then re-evaluates the SET on the committed row: the chain cannot fork.
_PG_APPEND = """
WITH head AS (
    UPDATE {head} SET
        last_seq = last_seq + 1,
        last_prev_hash = last_hash,
        last_hash = encode(
            hmac(
                convert_to(%s || '|' || (last_seq + 1)::text || '|' || last_hash, 'UTF8'),
                %s::bytea,
                'sha256'
            ),
            'hex'
        )
    WHERE id = %s
    RETURNING last_seq, last_prev_hash, last_hash
)
INSERT INTO {event} (seq, prev_hash, hash, {columns})
SELECT head.last_seq, head.last_prev_hash, head.last_hash, {values} FROM head
RETURNING id, seq, prev_hash, hash
"""
_JSON_COLUMNS = ("before", "after", "data")


@functools.cache
def _pg_append_sql(names: tuple[str, ...]) -> str:
    # Built once per field set (always the same one), not on every event.
    quote = connection.ops.quote_name
    return _PG_APPEND.format(
        head=quote(AuditChainHead._meta.db_table),
        event=quote(AuditEvent._meta.db_table),
        columns=", ".join(quote(name) for name in names),
        values=", ".join("%s::jsonb" if name in _JSON_COLUMNS else "%s" for name in names),
    )


def _append_in_one_statement(fields: dict, content: str) -> tuple | None:
    names = tuple(sorted(fields))
    sql = _pg_append_sql(names)
    # The JSON values are normalised already (plain JSON types only): the default encoder.
    params = [json.dumps(fields[name]) if name in _JSON_COLUMNS else fields[name] for name in names]
    with connection.cursor() as cursor:
        cursor.execute(sql, [content, chain_key(), HEAD_PK, *params])
        return cursor.fetchone()


def _lock_head() -> tuple[int, str]:
    """Lock the chain head: its last seq and hash, held until the transaction ends.

    Used on SQLite for every event, and on both databases for bulk appends.

    A no-op UPDATE rather than `select_for_update()`: SQLite has no row locks, and a write as
    the first statement takes the database write lock at once, so a concurrent writer waits
    for the busy timeout instead of failing on a stale read.
    """
    sql = (
        f"UPDATE {_head_table()} SET last_seq = last_seq WHERE id = %s "  # noqa: S608
        "RETURNING last_seq, last_hash"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [HEAD_PK])
        row = cursor.fetchone()
        if row is not None:
            return row
        _create_head()
        cursor.execute(sql, [HEAD_PK])
        return cursor.fetchone()


def _create_head() -> None:
    # The migration creates the row; only a flush (tests) removes it, and then the events
    # are gone too. With events left, a new head would restart at seq 1: refuse instead.
    # Events first, then the head: a concurrent writer that created the head commits it
    # with its first event, so seeing its event means seeing its head.
    if AuditEvent.objects.exists() and not AuditChainHead.objects.filter(pk=HEAD_PK).exists():
        raise AuditChainError("the audit chain head row is missing; run manage.py verify_audit")
    try:
        with transaction.atomic():
            # A new chain is keyed from its first event.
            AuditChainHead.objects.create(
                pk=HEAD_PK,
                last_seq=0,
                last_hash=GENESIS_HASH,
                hmac_from_seq=1,
                hmac_from_seal=cutover_seal(1),
            )
    except IntegrityError:
        pass  # a concurrent writer created it first


def _move_head(seq: int, prev_hash: str, digest: str) -> None:
    sql = (
        f"UPDATE {_head_table()} SET last_seq = %s, last_prev_hash = %s, last_hash = %s "  # noqa: S608
        "WHERE id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [seq, prev_hash, digest, HEAD_PK])


def _head_table() -> str:
    # The only thing formatted into the SQL above: the model's own table name, no input.
    return connection.ops.quote_name(AuditChainHead._meta.db_table)


def audit_record(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    obj: models.Model | None = None,
    before: dict | None = None,
    after: dict | None = None,
    data: dict | None = None,
    reason: str = "",
    object_type: str = "",
    object_id: str = "",
) -> AuditEvent:
    """Append one event to the audit chain, in the caller's transaction.

    `actor` None is the system; an anonymous user is recorded as "anonymous" with no actor.
    `obj` (a saved model instance) gives object_type, object_id and object_repr; explicit
    `object_type`/`object_id` are for things that are not model instances and win over obj.
    JSON values are stored normalised (see `audit.chain.normalise_json`).

    Call it last in the transaction, after the caller's own row locks: it holds the chain
    head lock until the caller commits, and every writer takes that lock.
    """
    return _append(
        _event_fields(
            actor=actor,
            action=action,
            obj=obj,
            before=before,
            after=after,
            data=data,
            reason=reason,
            object_type=object_type,
            object_id=object_id,
        )
    )


def audit_record_many(*, events: Sequence[dict]) -> int:
    """Append many events at once (each dict holds audit_record's arguments), in order.

    For bulk work such as the CRM sync's pages: one head lock, the hashes chained in Python
    and one bulk insert, instead of a round trip per event. Same chain, same verification.
    """
    rows = [_event_fields(**event) for event in events]
    if not rows:
        return 0
    return len(_chain_and_insert(rows)[0])


def _event_fields(
    *,
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    obj: models.Model | None = None,
    before: dict | None = None,
    after: dict | None = None,
    data: dict | None = None,
    reason: str = "",
    object_type: str = "",
    object_id: str = "",
) -> dict:
    if not action:
        raise ValueError("audit action is required")
    object_repr = ""
    if obj is not None:
        if obj.pk is None:
            raise ValueError(f"cannot audit an unsaved {obj._meta.label}")
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = str(obj)[: _max_length("object_repr")]
    object_id, reason = str(object_id), reason or ""
    if actor is not None and not actor.is_authenticated:
        actor_id, actor_username = None, ANONYMOUS_USERNAME
    elif actor is not None:
        actor_id, actor_username = actor.pk, actor.get_username()
    else:
        actor_id, actor_username = None, SYSTEM_USERNAME
    for name, value in (
        ("action", action),
        ("object_type", object_type),
        ("object_id", object_id),
        ("actor_username", actor_username),
    ):
        _check_length(name, value)
    # Normalised before hashing, so what reads back from either database re-hashes the same.
    before, after, data = _normalised(before), _normalised(after), _normalised(data)

    return {
        # Taken before the head lock: seq is the order; this is when the change was made.
        "occurred_at": timezone.now(),
        "actor_id": actor_id,
        "actor_username": actor_username,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "object_repr": object_repr,
        "before": before,
        "after": after,
        "data": data,
        "reason": reason,
    }


_LEAVES = frozenset((str, int, bool, type(None)))


class _NotPlain(Exception):
    """A value the JSON round trip would change (a Decimal, a date, a tuple, a float...)."""


def _normalised(value: dict | None) -> dict:
    """normalise_json, without its JSON round trip for a value made of JSON's own types only
    (str, int, bool, None, lists and dicts with str keys: a bulk append's every event, a
    payment's list of invoices paid too): it would give back the same values."""
    if type(value) is not dict or not value:
        return normalise_json(value)
    try:
        return _plain(value)
    except _NotPlain:
        return normalise_json(value)


def _plain(value: dict | list) -> dict | list:
    """A copy of `value` as JSON reads it back; _NotPlain when it holds anything else."""
    if type(value) is dict:
        copy = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _NotPlain
            copy[key] = _plain_item(item)
        return copy
    if type(value) is list:
        return [_plain_item(item) for item in value]
    raise _NotPlain


def _plain_item(item):
    if type(item) in _LEAVES:
        return item
    if isinstance(item, str):
        return str.__str__(item)  # a TextChoices member: its plain string, as JSON encodes it
    return _plain(item)


def record_change(
    obj: models.Model,
    *,
    actor: AbstractBaseUser | None,
    action: str,
    reason: str = "",
    before: dict | None = None,
    after: dict | None = None,
    data: dict | None = None,
    history_reason: str = "",
) -> AuditEvent:
    """Save `obj` with its history user and reason, then append its audit event.

    The one way a service records a change (call it inside the service's transaction): the
    history row and the audit event say the same who and why. `history_reason` is for the
    rare case where the history row should read differently from the event's reason.
    """
    obj._history_user = actor
    obj._change_reason = history_reason or reason or str(action).split(".", 1)[-1].replace("_", " ")
    obj.save()
    return audit_record(
        actor=actor, obj=obj, action=action, before=before, after=after, data=data, reason=reason
    )


def audit_anchor_head(*, store: AnchorStore | None = None) -> Anchor:
    """Write the chain head (seq, hash, time, HMAC over them) to the write-once anchor store.

    No audit event: it changes nothing in the database, and an event of its own would move
    the head it has just anchored. The anchor line is the record.
    """
    head = AuditChainHead.objects.filter(pk=HEAD_PK).values_list("last_seq", "last_hash").first()
    seq, digest = head or (0, GENESIS_HASH)
    anchored_at = timezone.now().astimezone(datetime.UTC).isoformat(timespec="microseconds")
    anchor = Anchor(seq, digest, anchored_at, anchor_mac(seq, digest, anchored_at))
    (store or anchor_store()).append(anchor)
    return anchor
