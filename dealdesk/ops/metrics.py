"""Prometheus metrics (docs/deploy.md, "Metrics").

Counters and histograms are recorded where things happen (requests in
dealdesk/ops/middleware.py, tasks in dealdesk/ops/celery_signals.py, refused webhooks through
the log line that refuses them). With PROMETHEUS_MULTIPROC_DIR set (gunicorn's workers, Celery's
pool processes) each process writes its own files there and a scrape adds them up; that
variable must be set before this module is imported. Figures from the database and the broker
are read at scrape time (`LiveReadings`), never kept in a process.
"""

import logging
import os
from collections.abc import Iterator

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# Seconds; 0.3 is the page-time goal (docs/deploy.md).
REQUEST_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2.5, 5, 10, 30)
# Tasks run from milliseconds (a mail) to an hour (the nightly CRM sync).
TASK_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
# Methods outside this set are counted as "other": a label value never comes from a client.
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

REQUESTS = Counter(
    "dealdesk_http_requests", "HTTP requests answered.", ["method", "status", "view"]
)
REQUEST_SECONDS = Histogram(
    "dealdesk_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "view"],
    buckets=REQUEST_BUCKETS,
)
TASK_SECONDS = Histogram(
    "dealdesk_task_duration_seconds",
    "Time a Celery task ran, by outcome (success, failure, retry).",
    ["task", "outcome"],
    buckets=TASK_BUCKETS,
)
TASK_WAIT_SECONDS = Histogram(
    "dealdesk_task_queue_wait_seconds",
    "Time from a task's publication to a worker starting it.",
    ["task"],
    buckets=TASK_BUCKETS,
)
WEBHOOK_REJECTS = Counter(
    "dealdesk_webhook_rejects", "Webhook requests refused (signature or format).", ["vendor"]
)

# The line dealdesk.integrations.views.receive_webhook logs for every refusal.
WEBHOOK_REFUSED_MESSAGE = "webhook %s refused from %s: %s"


def request_observe(*, method: str, status: int, view: str, seconds: float) -> None:
    method = method if method in METHODS else "other"
    REQUESTS.labels(method=method, status=str(status), view=view).inc()
    REQUEST_SECONDS.labels(method=method, view=view).observe(seconds)


class WebhookRejectCounter(logging.Handler):
    """Counts refused webhooks from the warning that refuses them (LOGGING attaches this to
    the webhook view's logger): the refusal itself stays in its owner's code, unchanged."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg == WEBHOOK_REFUSED_MESSAGE and record.args:
            WEBHOOK_REJECTS.labels(vendor=str(record.args[0])[:40]).inc()


class LiveReadings(Collector):
    """Gauges read from the database and the broker when Prometheus scrapes."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from dealdesk.ops import readings

        for kind, backlog in readings.delivery_backlogs().items():
            yield _gauge(
                f"dealdesk_{kind}_open", f"Open {kind} rows (pending or running).", backlog.open
            )
            yield _gauge(
                f"dealdesk_{kind}_lag_seconds",
                f"How long the most overdue {kind} row has waited past its due time.",
                backlog.overdue_seconds,
            )
            yield _gauge(
                f"dealdesk_{kind}_oldest_open_age_seconds",
                f"Age of the oldest open {kind} row (retries waiting included).",
                backlog.oldest_age_seconds,
            )
        dead = GaugeMetricFamily(
            "dealdesk_dead_letters", "Dead letters waiting for a person.", labels=["kind"]
        )
        for kind, count in readings.dead_letters().items():
            dead.add_metric([kind], count)
        yield dead
        age = readings.beat_age_seconds()
        if age is not None:
            yield _gauge(
                "dealdesk_beat_last_run_age_seconds", "Seconds since beat's heartbeat.", age
            )
        if readings.broker_configured():
            up, depths = 1, {}
            try:
                depths = readings.broker_queue_depths()
            except readings.BROKER_CHECK_ERRORS:
                up = 0
            yield _gauge("dealdesk_broker_up", "1 when the broker answered the scrape.", up)
            depth = GaugeMetricFamily(
                "dealdesk_broker_queue_depth", "Messages waiting in a queue.", labels=["queue"]
            )
            for queue, count in depths.items():
                depth.add_metric([queue], count)
            yield depth


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def recorded_registry() -> CollectorRegistry:
    """What this process recorded, or with PROMETHEUS_MULTIPROC_DIR what every process on
    this machine recorded, added up."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def exposition() -> bytes:
    """The text Prometheus scrapes: the recorded counters, then the live readings."""
    live = CollectorRegistry()
    live.register(LiveReadings())
    return generate_latest(recorded_registry()) + generate_latest(live)


def worker_address(address: str) -> tuple[str, int]:
    """WORKER_METRICS_ADDRESS as (host, port); ValueError when it is not "host:port"."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{address!r} is not host:port")
    return host.strip("[]"), int(port)


def serve_worker_metrics(address: str):
    """A worker machine's scrape target: what its processes recorded (task timings). The
    database and broker readings are the web's /metrics, the same from any machine.
    Returns prometheus_client's (server, thread)."""
    host, port = worker_address(address)
    return start_http_server(port, addr=host, registry=recorded_registry())
