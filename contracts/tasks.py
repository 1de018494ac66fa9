"""Thin Celery wrappers: take ids, act as the pipeline's service user, call one service."""

from celery import shared_task

from contracts import services
from dealdesk.services import pipeline_user


@shared_task(name="contracts.contract_draft")
def contract_draft(deal_id: int) -> int | None:
    version = services.contract_draft(deal_id=deal_id, actor=pipeline_user())
    return version.pk if version else None


@shared_task(name="contracts.contract_void_for_cancelled_deal")
def contract_void_for_cancelled_deal(deal_id: int) -> int | None:
    version = services.contract_void_for_cancelled_deal(deal_id=deal_id, actor=pipeline_user())
    return version.pk if version else None
