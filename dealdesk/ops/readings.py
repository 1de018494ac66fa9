"""The figures /healthz and /metrics share: each a fixed, small number of cheap queries (the
open rows are found through the delivery models' partial indexes) or one broker round trip
with a short timeout."""

from dataclasses import dataclass
from datetime import datetime

import redis
from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone

from dealdesk.celery import app
from dealdesk.integrations.errors import BROKER_ERRORS
from dealdesk.integrations.models import DeliveryStatus, OutboxMessage, WebhookEvent
from dealdesk.ops.models import Heartbeat
from dealdesk.ops.tasks import BEAT

# What a broker that is down, unreachable or refusing raises to the checks below.
BROKER_CHECK_ERRORS = (*BROKER_ERRORS, redis.RedisError, TimeoutError)
OPEN = [DeliveryStatus.PENDING, DeliveryStatus.RUNNING]


@dataclass(frozen=True)
class Backlog:
    open: int
    # How long the most overdue row has waited past its due time: 0 when nothing is due.
    # A step waiting out its retry backoff is not overdue; one the broker never delivered is.
    overdue_seconds: float
    # The oldest open row's age, retries waiting included.
    oldest_age_seconds: float


def delivery_backlogs() -> dict[str, Backlog]:
    """The outbox (pipeline steps) and the webhook inbox: one aggregate query each."""
    return {
        "outbox": _backlog(OutboxMessage, created="created_at"),
        "webhook_inbox": _backlog(WebhookEvent, created="received_at"),
    }


def _backlog(model, *, created: str) -> Backlog:
    now = timezone.now()
    row = model.objects.filter(status__in=OPEN).aggregate(
        open=Count("pk"), oldest=Min(created), first_due=Min("next_attempt_at")
    )
    return Backlog(
        open=row["open"],
        overdue_seconds=_seconds_since(row["first_due"], now),
        oldest_age_seconds=_seconds_since(row["oldest"], now),
    )


def _seconds_since(moment: datetime | None, now: datetime) -> float:
    return max(0.0, (now - moment).total_seconds()) if moment else 0.0


def dead_letters() -> dict[str, int]:
    return {
        "outbox": OutboxMessage.objects.filter(status=DeliveryStatus.DEAD).count(),
        "webhook_inbox": WebhookEvent.objects.filter(status=DeliveryStatus.DEAD).count(),
    }


def beat_age_seconds() -> float | None:
    """Seconds since beat's last heartbeat was written; None before the first one."""
    at = Heartbeat.objects.filter(name=BEAT).values_list("at", flat=True).first()
    return _seconds_since(at, timezone.now()) if at else None


def broker_configured() -> bool:
    # No broker: tasks run in-process (a laptop's `make run`); there is no queue and no beat.
    return not settings.CELERY_TASK_ALWAYS_EAGER


def broker_queue_depths() -> dict[str, int]:
    """Messages waiting in each queue; raises one of BROKER_CHECK_ERRORS when the broker does
    not answer within HEALTHZ_BROKER_TIMEOUT_SECONDS."""
    timeout = settings.HEALTHZ_BROKER_TIMEOUT_SECONDS
    # The broker is Redis (docs/deploy.md), where kombu keeps a queue as a list of its name.
    client = redis.Redis.from_url(
        settings.CELERY_BROKER_URL, socket_connect_timeout=timeout, socket_timeout=timeout
    )
    try:
        queue = app.conf.task_default_queue
        return {queue: client.llen(queue)}
    finally:
        client.close()
