"""Queued Stripe events handled in batches (`webhook_process` takes the queue's first attempts
with its own event; `billing.stripe_sync.events.stripe_events_handle`): one fetch per object
for all of its news, whatever their order and repeats; an object that fails fails only its own
events, which are retried one by one while the others stay done and are not applied again."""

import pytest
from django.db.models import Count
from django.utils import timezone

from audit.models import AuditEvent
from billing.ledger.stripe_client import stripe_client
from billing.models import Invoice, Payment
from dealdesk.integrations.models import IntegrationCall, WebhookEvent
from dealdesk.integrations.webhooks import (
    VerifiedEvent,
    webhook_process,
    webhook_receive,
    webhook_sweep,
)
from tests.billing.fake_stripe import fake_stripe

URL = "/billing/webhooks/stripe/"


@pytest.fixture
def fake(settings):
    with fake_stripe(settings) as fake:
        yield fake
    assert fake.crashes == []


@pytest.fixture
def store(client, fake, django_capture_on_commit_callbacks):
    """store(event_ids) → each event delivered as a signed webhook in the order given and
    left queued (no relay): the answers' `duplicate` flags."""

    def run(event_ids: list[str]) -> list[bool]:
        duplicates = []
        for event_id in event_ids:
            body, headers = fake.webhook(event_id)
            with django_capture_on_commit_callbacks(execute=False):
                answer = client.post(
                    URL,
                    data=body,
                    content_type="application/json",
                    headers={"Stripe-Signature": headers["Stripe-Signature"]},
                )
            assert answer.status_code == 200
            duplicates.append(answer.json()["duplicate"])
        return duplicates

    return run


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    """run_tasks() → every queued event's task run in the order the events were stored, as
    one worker runs them; how many of the tasks handled their own event."""

    def run() -> int:
        queued = WebhookEvent.objects.filter(status="pending").order_by("pk")
        handled = 0
        for pk in list(queued.values_list("pk", flat=True)):
            with django_capture_on_commit_callbacks(execute=True):
                handled += webhook_process(pk, 0)  # as relayed: a first attempt
        return handled

    return run


def paid_in_stripe(fake, signed_deal) -> tuple:
    deal = signed_deal()
    fake.advance_clock(3600)  # the first invoice's draft finalizes itself
    invoice = next(i for i in fake.invoices.values() if i["status"] == "open")
    stripe_client().v1.invoices.send_invoice(invoice["id"])
    stripe_client().v1.invoices.pay(invoice["id"])
    return deal, invoice["id"]


def actions() -> dict[str, int]:
    return dict(AuditEvent.objects.values_list("action").annotate(n=Count("pk")))


def test_a_batch_of_repeated_out_of_order_news_converges_each_invoice_once(
    fake, signed_deal, store, run_tasks, django_capture_on_commit_callbacks
):
    deal, invoice_id = paid_in_stripe(fake, signed_deal)
    newest_first = [event["id"] for event in reversed(fake.events)]
    paid = next(e for e in fake.events if e["type"] == "invoice.paid")
    assert not any(store(newest_first))
    assert all(store([paid["id"]]))  # a delivery repeated: acknowledged, stored once
    with django_capture_on_commit_callbacks(execute=False):  # the same news, another id
        webhook_receive(
            vendor="stripe",
            event=VerifiedEvent(
                event_id="evt_same_news_again", type=paid["type"], payload={**paid, "id": "x"}
            ),
        )
    before = IntegrationCall.objects.filter(operation="invoice_get").count()

    assert run_tasks() == 1  # the first task's batch took every other event with it

    assert IntegrationCall.objects.filter(operation="invoice_get").count() - before == 1
    invoice = Invoice.objects.get(deal=deal)
    assert (invoice.external_id, invoice.state, invoice.amount_paid) == (
        invoice_id,
        "paid",
        invoice.total,
    )
    assert Payment.objects.count() == 1
    deal.refresh_from_db()
    assert deal.state == "paid"
    done = actions()
    assert (done["invoice.issued"], done["invoice.paid"]) == (1, 1)
    # Each event marked done exactly once, in its first attempt.
    assert set(WebhookEvent.objects.values_list("status", "attempts")) == {("done", 1)}
    assert WebhookEvent.objects.count() == len(fake.events) + 1


def test_one_object_failing_in_a_batch_fails_only_its_own_events(
    fake, signed_deal, store, run_tasks, django_capture_on_commit_callbacks
):
    failing_deal, failing_invoice = paid_in_stripe(fake, signed_deal)
    other_deal, other_invoice = paid_in_stripe(fake, signed_deal)
    store([event["id"] for event in fake.events])
    fake.fail_next(1, 500, path=f"/v1/invoices/{failing_invoice}")

    run_tasks()

    def news_of(invoice_id: str):
        return WebhookEvent.objects.filter(payload__data__object__id=invoice_id)

    failed = news_of(failing_invoice)
    assert failed.count() >= 4  # created, finalized, sent, paid, ...
    assert {(e.status, e.attempts) for e in failed} == {("pending", 1)}
    assert all("500" in e.handler_error for e in failed)
    assert not Invoice.objects.filter(deal=failing_deal).exists()
    assert {(e.status, e.attempts) for e in news_of(other_invoice)} == {("done", 1)}
    assert Invoice.objects.get(deal=other_deal).state == "paid"
    other_done = WebhookEvent.objects.filter(status="done").count()
    applied = actions()

    # Their backoff ends: the sweep sends each again, and each is retried on its own.
    WebhookEvent.objects.filter(status="pending").update(next_attempt_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        webhook_sweep()

    assert {(e.status, e.attempts) for e in news_of(failing_invoice)} == {("done", 2)}
    assert Invoice.objects.get(deal=failing_deal).state == "paid"
    assert Payment.objects.count() == 2
    after = actions()
    # The failing deal's invoice issued and paid once; nothing of the other applied again.
    assert after["invoice.issued"] - applied.get("invoice.issued", 0) == 1
    assert after["invoice.paid"] - applied["invoice.paid"] == 1
    assert WebhookEvent.objects.filter(status="done", attempts=1).count() == other_done
