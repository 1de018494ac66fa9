"""Thin Celery wrappers: take ids, act as the pipeline's service user, call one service."""

from celery import shared_task

from billing import invoice_delivery, services
from dealdesk.services import pipeline_user


@shared_task(name="billing.billing_start")
def billing_start(deal_id: int) -> str | None:
    record = services.billing_start(deal_id=deal_id, actor=pipeline_user())
    return record.state if record else None


@shared_task(name="billing.invoices_issue_for_deal")
def invoices_issue_for_deal(deal_id: int) -> int:
    return services.invoices_issue_for_deal(deal_id=deal_id, actor=pipeline_user())


@shared_task(name="billing.issue_due")
def issue_due() -> int:
    return services.invoices_issue_due(actor=pipeline_user())


@shared_task(name="billing.invoice_deliver")
def invoice_deliver(invoice_id: int) -> int:
    return invoice_delivery.invoice_deliver(invoice_id=invoice_id, actor=pipeline_user())
