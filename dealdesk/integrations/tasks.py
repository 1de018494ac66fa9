"""Celery tasks of the integrations layer: deliver outbox messages, handle webhook events,
and the sweep beat runs every minute."""

from celery import shared_task

from dealdesk.integrations import outbox, webhooks


@shared_task(name="integrations.outbox_deliver")
def outbox_deliver(message_ids: list[int]) -> None:
    outbox.outbox_deliver_many(message_ids)


@shared_task(name="integrations.webhook_process")
def webhook_process(event_pk: int, attempts: int | None = None) -> None:
    webhooks.webhook_process(event_pk, attempts)


@shared_task(name="integrations.sweep")
def sweep() -> dict:
    return {"outbox": outbox.outbox_sweep(), "webhooks": webhooks.webhook_sweep()}
