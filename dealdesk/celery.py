"""The Celery app. Eager (in-process) when CELERY_BROKER_URL is unset; Redis when it is set."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dealdesk.settings")

app = Celery("dealdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Integration packages keep their tasks beside them (dealdesk/crm/tasks.py): not apps, so named.
app.autodiscover_tasks(["dealdesk.crm"])
# The request id in task headers, task timings for /metrics, beat's first heartbeat.
import dealdesk.ops.celery_signals  # noqa: E402, F401
