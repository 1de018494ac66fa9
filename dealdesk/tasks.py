"""Thin Celery wrappers: take ids, act as the pipeline's service user, call one service."""

from celery import shared_task

from dealdesk import notifications, services


@shared_task(name="dealdesk.deal_classify_and_price")
def deal_classify_and_price(deal_id: int) -> str:
    deal = services.deal_classify_and_price(deal_id=deal_id, actor=services.pipeline_user())
    return deal.state


@shared_task(name="dealdesk.deal_notify_deal_desk")
def deal_notify_deal_desk(deal_id: int) -> int:
    return notifications.deal_notify_deal_desk(deal_id=deal_id)
