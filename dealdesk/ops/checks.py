"""System checks on the operations settings (run by `manage.py check` and every start)."""

import os

from django.conf import settings
from django.core.checks import Error, register

from dealdesk.ops.metrics import worker_address


@register()
def visibility_timeout_outlasts_tasks(app_configs, **kwargs) -> list[Error]:
    """Redis hands an unacknowledged message to another worker once the visibility timeout
    passes: with acks_late, a task still running then would run twice at once."""
    longest = max(
        [settings.CELERY_TASK_TIME_LIMIT]
        + [limits.get("time_limit", 0) for limits in settings.CELERY_TASK_ANNOTATIONS.values()]
    )
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    if timeout > longest:
        return []
    return [
        Error(
            f"The broker's visibility timeout ({timeout} s) must be longer than the longest "
            f"task's hard time limit ({longest} s), or a running task is delivered again.",
            hint="Raise CELERY_VISIBILITY_TIMEOUT or lower the time limits (docs/deploy.md).",
            id="ops.E001",
        )
    ]


@register()
def worker_metrics_address(app_configs, **kwargs) -> list[Error]:
    address = settings.WORKER_METRICS_ADDRESS
    if not address:
        return []
    try:
        worker_address(address)
    except ValueError as exc:
        return [Error(f"WORKER_METRICS_ADDRESS: {exc} (e.g. 10.0.0.5:9808).", id="ops.E002")]
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return [
            Error(
                "WORKER_METRICS_ADDRESS is set without PROMETHEUS_MULTIPROC_DIR: the pool "
                "processes' task timings would never reach it.",
                hint="Set PROMETHEUS_MULTIPROC_DIR to an empty directory (docs/deploy.md).",
                id="ops.E003",
            )
        ]
    return []
