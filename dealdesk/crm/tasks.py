"""The CRM's Celery task: a thin wrapper around one sync run (found by dealdesk/celery.py)."""

from celery import shared_task
from django.contrib.auth import get_user_model

from dealdesk.crm.lock import SyncAlreadyRunning
from dealdesk.crm.sync import crm_sync as run_crm_sync


# The name predates the package and the beat schedule (dealdesk/settings.py) sends it.
@shared_task(name="dealdesk.crm_sync")
def crm_sync(full: bool = False, triggered_by_id: int | None = None) -> str:
    """The nightly run (Celery beat) and "Sync now"; a run already in progress wins."""
    user = get_user_model().objects.filter(pk=triggered_by_id).first() if triggered_by_id else None
    try:
        return run_crm_sync(full=full, triggered_by=user).status
    except SyncAlreadyRunning as exc:
        return str(exc)
