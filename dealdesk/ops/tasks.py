"""The beat heartbeat (CELERY_BEAT_SCHEDULE["ops-beat-heartbeat"], and once when beat starts)."""

from celery import shared_task
from django.utils import timezone

from dealdesk.ops.models import Heartbeat

BEAT = "beat"


@shared_task(name="ops.beat_heartbeat")
def beat_heartbeat() -> None:
    # Written by the worker that runs it: a fresh time proves beat sends and a worker runs.
    Heartbeat.objects.update_or_create(name=BEAT, defaults={"at": timezone.now()})
