"""Publishing a task to the broker (Redis) without making a request wait on it.

Every relay (outbox steps, webhook events) publishes after its transaction committed a row,
and the sweep sends that row again when the publish is lost: a publish may therefore fail
fast. Celery's default policy retries three times over about 0.6 s, which every webhook would
wait while Redis is down; here a publish is retried once at once (kombu then replaces a pooled
connection the broker closed, as after a Redis restart), and a failure opens a process-local
breaker: for `BREAKER_SECONDS` nothing is published and the rows wait for the sweep.
"""

import logging
import time

from celery import Task

from dealdesk.integrations.errors import BROKER_ERRORS

log = logging.getLogger(__name__)

BREAKER_SECONDS = 5.0
RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0, "interval_max": 0}


class _Breaker:
    """Which broker this process takes for unreachable, until when (time.monotonic())."""

    broker_url = ""
    open_until = 0.0


_breaker = _Breaker()


def publish(task: Task, args: tuple) -> bool:
    """Send `task(*args)`; False when it was not sent (the broker is down, or was moments
    ago): the caller's rows stay for the sweep. Eager (no broker) runs the task here."""
    conf = task.app.conf
    if not conf.task_always_eager and broker_paused(conf.broker_url):
        return False
    try:
        task.apply_async(args, retry=True, retry_policy=RETRY_POLICY)
    except BROKER_ERRORS:
        if not conf.task_always_eager:
            _breaker.broker_url = conf.broker_url
            _breaker.open_until = time.monotonic() + BREAKER_SECONDS
        log.warning(
            "could not publish %s; nothing is published for %.0f s, the sweep sends it later",
            task.name,
            BREAKER_SECONDS,
            exc_info=True,
        )
        return False
    return True


def broker_paused(broker_url: str) -> bool:
    """Whether publishing to this broker is paused after a failure."""
    return broker_url == _breaker.broker_url and time.monotonic() < _breaker.open_until
