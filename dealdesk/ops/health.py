"""/healthz: what a load balancer and monitoring ask (docs/deploy.md, "Health").

Each check answers {"ok": ...} and what it saw. Cheap: one query per database check, one
broker round trip with a short timeout. A failure names its exception's class only (the
endpoint needs no login; a message could name internal hosts); the log has the rest.
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, connection

from dealdesk.ops import readings

log = logging.getLogger(__name__)


def check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"ok": True}


def check_broker() -> dict:
    if not readings.broker_configured():
        return {"ok": True, "configured": False}
    return {"ok": True, "configured": True, "queue_depth": readings.broker_queue_depths()}


def check_beat() -> dict:
    if not readings.broker_configured():
        return {"ok": True, "configured": False}  # no broker, no beat: tasks run in-process
    age = readings.beat_age_seconds()
    stale_after = settings.HEALTHZ_BEAT_STALE_SECONDS
    return {
        "ok": age is not None and age <= stale_after,
        "last_run_age_seconds": None if age is None else round(age, 1),
        "stale_after_seconds": stale_after,
    }


def check_backlogs() -> dict:
    """The outbox and the webhook inbox: failing when work waits past its due time."""
    limit = settings.HEALTHZ_OUTBOX_LAG_SECONDS
    backlogs = readings.delivery_backlogs()
    return {
        "ok": all(backlog.overdue_seconds <= limit for backlog in backlogs.values()),
        "lag_limit_seconds": limit,
        **{
            kind: {
                "open": backlog.open,
                "lag_seconds": round(backlog.overdue_seconds, 1),
                "oldest_open_age_seconds": round(backlog.oldest_age_seconds, 1),
            }
            for kind, backlog in backlogs.items()
        },
    }


def check_dead_letters() -> dict:
    # Reported, never failing: a dead letter waits for a person (the exception inbox), it is
    # not an outage, and a load balancer must not take the site down for it.
    return {"ok": True, **readings.dead_letters()}


CHECKS: dict[str, Callable[[], dict]] = {
    "database": check_database,
    "broker": check_broker,
    "beat": check_beat,
    "outbox": check_backlogs,
    "dead_letters": check_dead_letters,
}
NEEDS_DATABASE = {"beat", "outbox", "dead_letters"}


def health(names: list[str]) -> dict[str, dict]:
    """Run the named checks; once the database failed, those that read it are not tried."""
    results: dict[str, dict] = {}
    for name in names:
        if name in NEEDS_DATABASE and not results.get("database", {"ok": True})["ok"]:
            results[name] = {"ok": False, "error": "database unavailable"}
            continue
        try:
            results[name] = CHECKS[name]()
        except (DatabaseError, *readings.BROKER_CHECK_ERRORS) as exc:
            log.warning("healthz: %s check failed", name, exc_info=True)
            results[name] = {"ok": False, "error": type(exc).__name__}
    return results
