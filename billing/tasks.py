"""Thin Celery wrappers: take ids, act as the pipeline's service user, call one service."""

from celery import shared_task

from billing import invoice_delivery, services
from billing.models import Invoice
from billing.stripe_sync import events, sweep
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
    if Invoice.objects.filter(pk=invoice_id).exclude(external_id="").exists():
        return 0  # the billing system's own invoice: Stripe drew and sent it
    return invoice_delivery.invoice_deliver(invoice_id=invoice_id, actor=pipeline_user())


@shared_task(name="billing.stripe_event_handle")
def stripe_event_handle(event_pk: int) -> bool:
    return events.stripe_event_handle(event_pk=event_pk, actor=pipeline_user())


def stripe_events_handle(event_pks: list[int]) -> dict[int, Exception]:
    """The inbox's batch handler (not a task: the inbox's worker task calls it in process
    with the events it claimed): the events that failed, with their failure."""
    return events.stripe_events_handle(event_pks=event_pks, actor=pipeline_user()).failed


@shared_task(name="billing.stripe_sweep")
def stripe_sweep() -> int:
    return sweep.stripe_sweep()
