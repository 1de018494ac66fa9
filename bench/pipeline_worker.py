"""`bench_pipeline.py --worker`: the pipeline on a real Celery worker over a throwaway Redis.

The bench process enqueues through the broker (CELERY_BROKER_URL set before Django starts);
one `celery -A dealdesk worker` subprocess (the Procfile's command) runs the steps on the
bench's own database. After each person acts the bench waits until the outbox is drained,
so the figures are the pipeline's own time with an idle worker.
"""

import os
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from bench.bench_faults import VENV_BIN, Children, Redis
from bench.harness import ROOT

DRAIN_TIMEOUT = 120.0


def start_redis(stack: ExitStack, tmp: Path) -> str:
    """A redis-server of our own; its URL, set as the broker before Django starts."""
    redis = Redis(tmp)
    redis.start()
    stack.callback(redis.stop)
    os.environ["CELERY_BROKER_URL"] = redis.url
    return redis.url


def start_worker(stack: ExitStack, tmp: Path, concurrency: int) -> None:
    """The worker on the database Django set up here (the test database's name)."""
    from django.db import connection

    url = urlparse(os.environ["DATABASE_URL"])
    database = urlunparse(url._replace(path="/" + connection.settings_dict["NAME"]))
    children = Children({**os.environ, "DATABASE_URL": database, "PYTHONPATH": str(ROOT)}, tmp)
    stack.callback(children.stop_all)
    argv = [str(VENV_BIN / "celery"), "-A", "dealdesk", "worker", "--loglevel", "WARNING"]
    children.start("worker", [*argv, "--concurrency", str(concurrency), "--without-gossip"])


def drained() -> None:
    """Wait until no pipeline step is waiting or running (each step enqueues the next in its
    own commit, so an empty outbox means the chain has stopped). A 1,000-deal sync queues
    minutes of work: give up only when the queue has not moved for DRAIN_TIMEOUT."""
    from dealdesk.integrations.models import OutboxMessage

    waiting = OutboxMessage.objects.filter(status__in=["pending", "running"])
    last, moved = None, time.monotonic()
    while left := waiting.count():
        if left != last:
            last, moved = left, time.monotonic()
        elif time.monotonic() - moved > DRAIN_TIMEOUT:
            raise SystemExit(f"the outbox did not move in {DRAIN_TIMEOUT:.0f} s ({left} waiting)")
        time.sleep(0.02)
