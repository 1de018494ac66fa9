"""Celery signal handlers, connected by dealdesk/celery.py in every process (web, worker,
beat): the request id rides along with each task as a message header, tasks are timed for
/metrics, and beat's heartbeat is sent as soon as beat starts."""

import logging
import time

from celery.signals import (
    beat_init,
    before_task_publish,
    task_postrun,
    task_prerun,
    worker_ready,
)
from django.conf import settings

from dealdesk.ops.metrics import TASK_SECONDS, TASK_WAIT_SECONDS, serve_worker_metrics
from dealdesk.ops.request_id import TASK_HEADER, current_request_id

PUBLISHED_AT_HEADER = "dealdesk_published_at"

task_log = logging.getLogger("dealdesk.tasks")

# Per task id, what task_postrun needs from task_prerun: the context token and start time.
_running: dict[str, tuple[object, float]] = {}


@before_task_publish.connect
def _stamp_message(headers: dict, **_) -> None:
    request_id = current_request_id.get()
    if request_id:
        headers[TASK_HEADER] = request_id
    headers[PUBLISHED_AT_HEADER] = time.time()


@task_prerun.connect
def _task_started(task_id: str, task, **_) -> None:
    request = task.request  # custom message headers are attributes of it
    # A task run in-process (no broker) was never published: it keeps the id of the request
    # or task that ran it. One from the broker takes its message's, or none: a worker
    # process must not lend the previous task's id to the next.
    request_id = getattr(request, TASK_HEADER, None)
    if request_id is None and request.is_eager:
        request_id = current_request_id.get()
    _running[task_id] = (current_request_id.set(request_id), time.perf_counter())
    published_at = getattr(request, PUBLISHED_AT_HEADER, None)
    if published_at is not None:
        TASK_WAIT_SECONDS.labels(task=task.name).observe(max(0.0, time.time() - published_at))


@task_postrun.connect
def _task_finished(task_id: str, task, state: str | None = None, **_) -> None:
    token, started = _running.pop(task_id, (None, None))
    if started is not None:
        outcome = (state or "unknown").lower()
        seconds = time.perf_counter() - started
        TASK_SECONDS.labels(task=task.name, outcome=outcome).observe(seconds)
        # Still under the task's request id: the line ties the task to the request behind it.
        task_log.info("%s %s %.0f ms", task.name, outcome, seconds * 1000)
    if token is not None:
        current_request_id.reset(token)


@beat_init.connect
def _first_heartbeat(**_) -> None:
    # Beat's interval schedule first fires a minute after start; /healthz should not call a
    # freshly started beat stale until then.
    from dealdesk.ops.tasks import beat_heartbeat

    beat_heartbeat.delay()


@worker_ready.connect
def _worker_metrics(**_) -> None:
    # In the worker's main process, once: the pool processes write their timings to
    # PROMETHEUS_MULTIPROC_DIR and this server adds them up when Prometheus scrapes.
    if settings.WORKER_METRICS_ADDRESS:
        serve_worker_metrics(settings.WORKER_METRICS_ADDRESS)
