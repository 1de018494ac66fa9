"""One CRM sync at a time, enforced by the database.

Every run is a SyncRun row, and a partial unique index allows one `running` row. On
PostgreSQL a session advisory lock is held for the whole run as well: it dies with the
process, so a run whose process was killed is known dead at once and the next run takes
over (marking it abandoned). SQLite has no such lock: a run still marked running after
CRM_SYNC_STALE_HOURS is taken to have died.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from dealdesk.crm.models import SyncRun

# pg_advisory_lock key: any bigint no other lock in this database uses ("CRM" in ASCII).
ADVISORY_KEY = 0x43524D


class SyncAlreadyRunning(Exception):
    pass


def _abandon(runs) -> None:
    for run in runs:
        run.status = SyncRun.Status.ABANDONED
        run.finished_at = timezone.now()
        run.errors = [*run.errors, "the process running this sync died; a later run took over"]
        run.save()


def sync_run_start(*, full: bool, triggered_by: AbstractBaseUser | None) -> SyncRun:
    """Open a run, or raise SyncAlreadyRunning naming the run in progress."""
    running = SyncRun.objects.filter(status=SyncRun.Status.RUNNING)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_KEY])
            if not cursor.fetchone()[0]:
                raise SyncAlreadyRunning(_busy_message(running.first()))
        stale = list(running)  # the lock was free: whoever is marked running is dead
    else:
        cutoff = timezone.now() - timedelta(hours=settings.CRM_SYNC_STALE_HOURS)
        stale = list(running.filter(started_at__lt=cutoff))
    try:
        with transaction.atomic():
            _abandon(stale)
            return SyncRun.objects.create(full=full, triggered_by=triggered_by)
    except IntegrityError:
        sync_run_release()
        raise SyncAlreadyRunning(_busy_message(running.first())) from None


def sync_run_release() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_KEY])


def _busy_message(run: SyncRun | None) -> str:
    if run is None:
        return "another CRM sync is running; try again when it has finished"
    return (
        f"CRM sync #{run.pk} is running (started {run.started_at:%Y-%m-%d %H:%M:%S %Z}); "
        "try again when it has finished"
    )
