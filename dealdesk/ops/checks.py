"""System checks on the operations settings (run by `manage.py check` and every start)."""

from django.conf import settings
from django.core.checks import Error, register


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
