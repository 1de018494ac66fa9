"""Writing the audit log: the one function every state change calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from audit.chain import GENESIS_HASH, event_hash, normalise_json
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
    max_length = AuditEvent._meta.get_field(name).max_length
    if len(value) > max_length:
        raise ValueError(f"audit {name} is longer than {max_length} characters: {value[:40]}...")


def _advance_head() -> tuple[int, str]:
    """Lock the chain head and move it one on: the new event's seq and the previous hash.

    This is the lock that serialises writers, taken by an UPDATE rather than
    `select_for_update()`: on PostgreSQL the row lock is the same (under READ COMMITTED a
    second writer blocks on the row, then re-reads the committed head and chains onto it,
    so the chain cannot fork), and on SQLite, which has no row locks, a write as the first
    statement takes the database write lock at once, so a concurrent writer waits for the
    busy timeout instead of failing on a stale read. One statement instead of an ORM
    select and update also doubles the write rate (bench/bench_audit.py).
    """
    sql = (
        f"UPDATE {_head_table()} SET last_seq = last_seq + 1 WHERE id = %s "  # noqa: S608
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
    if AuditEvent.objects.exists():
        raise AuditChainError("the audit chain head row is missing; run manage.py verify_audit")
    try:
        with transaction.atomic():
            AuditChainHead.objects.create(pk=HEAD_PK, last_seq=0, last_hash=GENESIS_HASH)
    except IntegrityError:
        pass  # a concurrent writer created it first


def _set_head_hash(digest: str) -> None:
    sql = f"UPDATE {_head_table()} SET last_hash = %s WHERE id = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [digest, HEAD_PK])


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
    if not action:
        raise ValueError("audit action is required")
    object_repr = ""
    if obj is not None:
        if obj.pk is None:
            raise ValueError(f"cannot audit an unsaved {obj._meta.label}")
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = str(obj)[: AuditEvent._meta.get_field("object_repr").max_length]
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
    before, after, data = normalise_json(before), normalise_json(after), normalise_json(data)

    # savepoint=False: joins the caller's transaction outright; any failure here must roll
    # back the caller's change too.
    with transaction.atomic(savepoint=False):
        seq, prev_hash = _advance_head()
        fields = {
            "seq": seq,
            # Taken under the lock, so time order follows seq order.
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
        digest = event_hash(fields, prev_hash)
        event = AuditEvent(**fields, prev_hash=prev_hash, hash=digest)
        event.save()
        _set_head_hash(digest)
    return event
