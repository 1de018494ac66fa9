"""At-least-once delivery of stored work (outbox messages, webhook events), one way for both.

A row is claimed by one worker at a time (row lock + a lease in `next_attempt_at`), run
outside any transaction of ours (the work opens its own), and then marked done, scheduled
for a retry with backoff, or dead-lettered. A worker that dies mid-run leaves the row
`running`; when its lease ends the sweep sends it again. The work itself is idempotent, so
a second run finds it done and does nothing.
"""

import logging
import traceback
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, models, transaction
from django.db.models import Q
from django.utils import timezone

from audit.services import audit_record
from dealdesk.integrations.errors import IntegrationError
from dealdesk.integrations.models import DeliveryStatus as S
from dealdesk.integrations.retry import backoff_delay

log = logging.getLogger(__name__)

ERROR_LIMIT = 4000  # characters of traceback kept with a row: enough to act on

# The attempt being run here, for work that chooses a fallback only when no retry is left.
_final_attempt: ContextVar[bool] = ContextVar("final_attempt", default=True)


def is_final_attempt() -> bool:
    """False while a failure would still be retried; True on the last attempt and whenever
    the work runs outside a delivery (a command, a test calling a service directly)."""
    return _final_attempt.get()


def is_retryable(exc: BaseException) -> bool:
    """A vendor's own verdict, else: the database failing may pass, a bug will not."""
    if isinstance(exc, IntegrationError):
        return exc.retryable
    return isinstance(exc, DatabaseError)


def due(model: type[models.Model], *, now=None) -> models.QuerySet:
    """Rows whose (next) attempt is due: pending ones, and running ones whose lease ended."""
    now = now or timezone.now()
    return model.objects.filter(status__in=[S.PENDING, S.RUNNING], next_attempt_at__lte=now)


def claim(
    model: type[models.Model], pk: int, *, attempts: int | None = None
) -> models.Model | None:
    """Take row `pk` for one attempt, or None when it is done, dead or another worker's;
    with `attempts`, also None once it has had a different number of attempts (the caller's
    message about it is stale)."""
    now = timezone.now()
    with transaction.atomic():
        # skip_locked: a second worker given the same row (the relay and the sweep both sent
        # it) moves on at once instead of waiting for the first one's attempt.
        row = (
            model.objects.select_for_update(skip_locked=True)
            .filter(pk=pk)
            .filter(Q(status=S.PENDING) | Q(status=S.RUNNING, next_attempt_at__lte=now))
            .filter(**({} if attempts is None else {"attempts": attempts}))
            .first()
        )
        if row is None:
            return None
        row.status = S.RUNNING
        row.attempts += 1
        # The lease: longer than the longest step, so the sweep leaves a live attempt alone.
        row.next_attempt_at = now + timedelta(seconds=settings.INTEGRATIONS_RUNNING_LEASE_SECONDS)
        row.save(update_fields=["status", "attempts", "next_attempt_at", "updated_at"])
    return row


def claim_fresh(model: type[models.Model], among: Q, *, limit: int) -> list[models.Model]:
    """Take up to `limit` pending rows matching `among` for their first attempt, as `claim`
    takes one (oldest first), also those still in their relay grace (the wait before the
    sweep sends them: no backoff). Rows being retried are left out: each waits for its
    backoff and runs alone."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.INTEGRATIONS_RUNNING_LEASE_SECONDS)
    with transaction.atomic():
        rows = list(
            model.objects.select_for_update(skip_locked=True)  # as in `claim`: others' skipped
            .filter(among, status=S.PENDING, attempts=0)
            .order_by("pk")[:limit]
        )
        if rows:
            model.objects.filter(pk__in=[row.pk for row in rows]).update(
                status=S.RUNNING, attempts=1, next_attempt_at=lease, updated_at=now
            )
    for row in rows:
        row.status, row.attempts, row.next_attempt_at = S.RUNNING, 1, lease
    return rows


def run_claimed(
    row: models.Model,
    work: Callable[[], None],
    *,
    error_field: str,
    done_field: str,
    describe: str,
    dead_action: str,
) -> bool:
    """Run `work` for a claimed row and record the outcome; True when it succeeded."""

    def one(_pks: list[int]) -> dict[int, Exception]:
        work()
        return {}

    return run_claimed_many(
        [row],
        one,
        error_field=error_field,
        done_field=done_field,
        describe=lambda _row: describe,
        dead_action=dead_action,
    )[row.pk]


def run_claimed_many(
    rows: list[models.Model],
    work: Callable[[list[int]], Mapping[int, Exception]],
    *,
    error_field: str,
    done_field: str,
    describe: Callable[[models.Model], str],
    dead_action: str,
) -> dict[int, bool]:
    """Run `work` once for claimed rows of one model; it answers the rows that failed, with
    their failure. Each row's outcome is recorded as `run_claimed` records one (the rows
    that succeeded marked done in one update); {pk: succeeded}."""
    model = type(rows[0])
    final = all(row.attempts >= settings.INTEGRATIONS_MAX_ATTEMPTS for row in rows)
    token = _final_attempt.set(final)
    try:
        failures = dict(work([row.pk for row in rows]))
    except Exception as exc:  # every failure is recorded on each row; none is lost
        failures = {row.pk: exc for row in rows}
    finally:
        _final_attempt.reset(token)
    done = [row.pk for row in rows if row.pk not in failures]
    if done:
        now = timezone.now()
        model.objects.filter(pk__in=done).update(
            status=S.DONE, **{done_field: now, error_field: ""}, updated_at=now
        )
    for row in rows:
        if row.pk in failures:
            _failed(
                row,
                failures[row.pk],
                error_field=error_field,
                describe=describe(row),
                dead_action=dead_action,
            )
    return {row.pk: row.pk not in failures for row in rows}


def _failed(
    row: models.Model, exc: Exception, *, error_field: str, describe: str, dead_action: str
) -> None:
    error = "".join(traceback.format_exception(exc))[-ERROR_LIMIT:]
    retryable = is_retryable(exc)
    spent = row.attempts >= settings.INTEGRATIONS_MAX_ATTEMPTS
    if retryable and not spent:
        delay = backoff_delay(
            row.attempts,
            base=settings.INTEGRATIONS_BACKOFF_SECONDS,
            cap=settings.INTEGRATIONS_BACKOFF_CAP_SECONDS,
            retry_after=getattr(exc, "retry_after", None),
        )
        log.warning(
            "%s failed (attempt %s), retrying in %.0f s: %s", describe, row.attempts, delay, exc
        )
        type(row).objects.filter(pk=row.pk).update(
            status=S.PENDING,
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
            **{error_field: error},
            updated_at=timezone.now(),
        )
        return
    why = "attempts spent" if retryable else "permanent error"
    log.error("%s dead-lettered after %s attempt(s) (%s): %s", describe, row.attempts, why, exc)
    with transaction.atomic():
        type(row).objects.filter(pk=row.pk).update(
            status=S.DEAD, **{error_field: error}, updated_at=timezone.now()
        )
        audit_record(
            actor=None,
            obj=row,
            action=dead_action,
            after={"status": S.DEAD, "attempts": row.attempts},
            data={"error": str(exc)[:500], "retryable": retryable},
            reason=why,
        )


def release(model: type[models.Model], pks: list[int], *, grace_seconds: float) -> None:
    """Mark rows as sent: the sweep leaves them alone for `grace_seconds` (their delivery)."""
    model.objects.filter(pk__in=pks, status=S.PENDING).update(
        next_attempt_at=timezone.now() + timedelta(seconds=grace_seconds),
        updated_at=timezone.now(),
    )


def retry_dead_letter(
    model: type[models.Model],
    pk: int,
    *,
    actor,
    reason: str,
    permission: str,
    action: str,
    relay: Callable[[int], object],
) -> models.Model:
    """A person sends a dead letter again (the admin's Retry): attempts start over, the row is
    relayed after commit, and the retry is audited."""
    if not actor.has_perm(permission):
        raise PermissionDenied(f"{actor} may not retry {model._meta.verbose_name_plural}")
    with transaction.atomic():
        row = model.objects.select_for_update().get(pk=pk)
        if row.status != S.DEAD:
            raise ValueError(f"{model._meta.verbose_name} {row.pk} is {row.status}, not dead")
        before = {"status": row.status, "attempts": row.attempts}
        row.status, row.attempts, row.next_attempt_at = S.PENDING, 0, timezone.now()
        row.save(update_fields=["status", "attempts", "next_attempt_at", "updated_at"])
        audit_record(
            actor=actor,
            obj=row,
            action=action,
            before=before,
            after={"status": row.status},
            reason=reason or "retried from the admin",
        )
        transaction.on_commit(lambda: relay(row.pk))
    return row
