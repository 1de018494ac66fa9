"""Thin Celery wrappers: take ids, act as the pipeline's service user, call one service."""

from celery import shared_task
from django.contrib.auth import get_user_model

from dealdesk import services
from dealdesk.crm_lock import SyncAlreadyRunning
from dealdesk.crm_sync import crm_sync as run_crm_sync


@shared_task(name="dealdesk.deal_classify_and_price")
def deal_classify_and_price(deal_id: int) -> str:
    deal = services.deal_classify_and_price(deal_id=deal_id, actor=services.pipeline_user())
    return deal.state


@shared_task(name="dealdesk.crm_sync")
def crm_sync(full: bool = False, triggered_by_id: int | None = None) -> str:
    """The nightly run (Celery beat) and "Sync now"; a run already in progress wins."""
    user = get_user_model().objects.filter(pk=triggered_by_id).first() if triggered_by_id else None
    try:
        return run_crm_sync(full=full, triggered_by=user).status
    except SyncAlreadyRunning as exc:
        return str(exc)
