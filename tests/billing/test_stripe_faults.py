"""Stripe's faults (issue 15, "Faults"): a webhook storm from 20 threads has one effect,
every order of an event burst ends in the same state, a Stripe failing three times then
answering makes one customer, and a lost answer is replayed under the same key.
(Forged, stale and wrong-secret webhooks: test_stripe_webhooks.py; a missed webhook
recovered: test_stripe_sweep.py.)"""

import itertools
from collections import Counter
from functools import partial

import pytest
import requests
from django.db import transaction
from django.urls import reverse

from audit.models import AuditEvent
from billing import tasks
from billing.ledger.stripe_client import stripe_client
from billing.models import ARItem, BillingRecord, Invoice, Payment
from dealdesk.integrations.errors import IntegrationError
from dealdesk.integrations.models import IntegrationCall, WebhookEvent
from tests.billing.fake_stripe import fake_stripe
from tests.concurrency import at_once, raised


@pytest.fixture
def fake(settings):
    with fake_stripe(settings) as fake:
        yield fake
    assert fake.crashes == []


def paid_in_stripe(fake) -> dict:
    """The first invoice finalized, sent and paid in Stripe, none of it delivered yet."""
    fake.advance_clock(3600)
    (invoice_id,) = fake.invoices
    api = stripe_client().v1
    api.invoices.send_invoice(invoice_id)
    api.invoices.pay(invoice_id)
    # Stripe emits invoice.updated on most changes; the fake does not: one by hand.
    fake._emit("invoice.updated", fake._invoice_json(fake.invoices[invoice_id]))
    return fake.invoices[invoice_id]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_hundred_deliveries_from_20_threads_have_one_effect(fake, signed_deal, live_server):
    deal = signed_deal()
    paid_in_stripe(fake)
    url = live_server.url + reverse("billing:stripe-webhook")
    # Every event that pays the invoice, over and over: the inbox keeps each once, and the
    # handlers of different events converge on one payment.
    events = [
        e["id"]
        for e in fake.events
        if e["type"].startswith(("invoice.", "invoice_payment.", "charge."))
    ]
    deliveries = [
        fake.webhook(event_id) for event_id in itertools.islice(itertools.cycle(events), 100)
    ]

    def deliver(mine) -> list[int]:
        with requests.Session() as session:
            return [
                session.post(url, data=body, headers=headers, timeout=60).status_code
                for body, headers in mine
            ]

    outcomes = at_once(*(partial(deliver, deliveries[n::20]) for n in range(20)))
    assert raised(outcomes) == []
    assert [status for answers in outcomes for status in answers] == [200] * 100
    assert WebhookEvent.objects.filter(vendor="stripe").count() == len(set(events))
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"done"}
    (payment,) = Payment.objects.all()
    invoice = Invoice.objects.get(deal=deal)
    assert (invoice.state, invoice.amount_paid, payment.amount_applied) == (
        "paid",
        invoice.total,
        invoice.total,
    )
    assert AuditEvent.objects.filter(action="invoice.issued").count() == 1
    assert AuditEvent.objects.filter(action="invoice.paid").count() == 1
    deal.refresh_from_db()
    assert deal.state == "paid"


def test_every_order_of_a_four_event_burst_ends_in_the_same_state(
    fake, signed_deal, client, django_capture_on_commit_callbacks
):
    deal = signed_deal()
    paid_in_stripe(fake)
    burst = [
        next(e["id"] for e in fake.events if e["type"] == kind)
        for kind in ("invoice.finalized", "invoice.sent", "invoice.paid", "invoice.updated")
    ]
    baseline = AuditEvent.objects.count()

    def state() -> tuple:
        invoice = Invoice.objects.get(deal=deal)
        deal.refresh_from_db()
        return (
            invoice.state,
            invoice.number,
            invoice.amount_paid,
            deal.state,
            tuple(Payment.objects.values_list("external_id", "amount", "state")),
            tuple(ARItem.objects.values_list("key", "state")),
            tuple(
                sorted(
                    Counter(
                        AuditEvent.objects.order_by("pk")[baseline:].values_list(
                            "action", flat=True
                        )
                    ).items()
                )
            ),
        )

    outcomes = set()
    for order in itertools.permutations(burst):
        savepoint = transaction.savepoint()
        for event_id in order:
            body, headers = fake.webhook(event_id)
            with django_capture_on_commit_callbacks(execute=True):
                answer = client.post(
                    reverse("billing:stripe-webhook"),
                    data=body,
                    content_type="application/json",
                    headers={"Stripe-Signature": headers["Stripe-Signature"]},
                )
            assert answer.status_code == 200
        outcomes.add(state())
        transaction.savepoint_rollback(savepoint)

    (outcome,) = outcomes
    assert (outcome[0], outcome[3]) == ("paid", "paid")


def test_stripe_failing_three_times_then_answering_makes_one_customer(fake, signed_deal):
    fake.fail_next(3, 500, path="/v1/customers")
    deal = signed_deal()  # the pipeline's first try failed: the step waits for its retry
    assert deal.state == "signed"
    record = BillingRecord.objects.get(deal=deal)

    for _ in range(2):  # the second and third tries fail too
        with pytest.raises(IntegrationError) as failed:
            tasks.billing_start(deal.pk)
        assert failed.value.retryable
    assert fake.customers == {}
    tasks.billing_start(deal.pk)

    assert len(fake.customers) == 1
    deal.refresh_from_db()
    assert deal.state == "billing"
    keys = set(
        IntegrationCall.objects.filter(operation="customer_create").values_list(
            "idempotency_key", flat=True
        )
    )
    assert keys == {f"record-{record.pk}:customer"}


def test_a_lost_answer_is_replayed_by_the_retry_under_the_same_key(fake, signed_deal):
    fake.search_lag_seconds = 60  # the retry cannot find the customer yet: it asks again
    fake.fail_next(1, 500, applied=True, path="/v1/customers")
    deal = signed_deal()
    assert deal.state == "signed"
    assert len(fake.customers) == 1  # made, but its answer was lost

    tasks.billing_start(deal.pk)

    assert len(fake.customers) == 1
    creates = [r for r in fake.requests if r["method"] == "POST" and r["path"] == "/v1/customers"]
    assert len(creates) == 2
    assert creates[0]["idempotency_key"] == creates[1]["idempotency_key"]
    record = BillingRecord.objects.get(deal=deal)
    assert record.external_ids["customer"] == next(iter(fake.customers))
    deal.refresh_from_db()
    assert deal.state == "billing"


def test_a_schedule_whose_answer_was_lost_is_found_by_the_retry(fake, signed_deal):
    # The list of schedules already made passes; the create after it loses its answer.
    fake.fail_next(1, 500, applied=True, path="/v1/subscription_schedules", after=1)
    deal = signed_deal()
    assert deal.state == "signed"
    assert len(fake.schedules) == 1

    tasks.billing_start(deal.pk)

    assert len(fake.schedules) == 1
    assert BillingRecord.objects.get(deal=deal).external_ids["schedules"] == list(fake.schedules)
