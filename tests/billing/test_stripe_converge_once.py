"""Queued news of one Stripe invoice converges it once: one fetch sees what all of it
announces, and news stored before a committed fetch needs none of its own
(billing/stripe_sync/converged.py, a database row every worker reads), while news that arrives
after that fetch is still fetched and acted on."""

import datetime as dt

import pytest
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from billing.ledger.stripe_client import stripe_client
from billing.models import ARItem, ARReason, Invoice, Payment
from billing.stripe_sync.converged import (
    CLOCK_MARGIN,
    already_applied,
    converged_mark,
    fetched_since,
)
from billing.stripe_sync.events import stripe_event_handle
from dealdesk.integrations.models import IntegrationCall, WebhookEvent
from dealdesk.integrations.webhooks import webhook_process
from dealdesk.services import pipeline_user
from tests.billing.fake_stripe import fake_stripe

URL = "/billing/webhooks/stripe/"
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def fake(settings):
    with fake_stripe(settings) as fake:
        yield fake
    assert fake.crashes == []


@pytest.fixture
def queue(client, fake, django_capture_on_commit_callbacks):
    """queue() → every event Stripe emitted and we were not sent yet, stored in the inbox
    and left there (no relay): the pks, in Stripe's order."""
    sent: set[str] = set()

    def run() -> list[int]:
        for event in list(fake.events):
            if event["id"] in sent:
                continue
            sent.add(event["id"])
            body, headers = fake.webhook(event["id"])
            with django_capture_on_commit_callbacks(execute=False):
                answer = client.post(
                    URL,
                    data=body,
                    content_type="application/json",
                    headers={"Stripe-Signature": headers["Stripe-Signature"]},
                )
            assert answer.status_code == 200
        return list(
            WebhookEvent.objects.filter(status="pending")
            .order_by("pk")
            .values_list("pk", flat=True)
        )

    return run


@pytest.fixture
def work(django_capture_on_commit_callbacks):
    """work(pks) → each queued event's task run as the worker runs them, commits included
    (the first takes the others with it in its batch); every event ends done."""

    def run(pks: list[int]) -> None:
        for pk in pks:
            with django_capture_on_commit_callbacks(execute=True):
                webhook_process(pk, 0)  # as relayed: a first attempt
        for event in WebhookEvent.objects.filter(pk__in=pks):
            assert event.status == "done", event.handler_error

    return run


def invoice_fetches() -> int:
    return IntegrationCall.objects.filter(operation="invoice_get").count()


def test_a_burst_of_one_invoices_news_fetches_it_once(fake, signed_deal, queue, work):
    deal = signed_deal()
    fake.advance_clock(3600)  # the first invoice's draft finalizes itself
    (sin,) = fake.invoices.values()
    stripe_client().v1.invoices.send_invoice(sin["id"])
    stripe_client().v1.invoices.pay(sin["id"])
    queued = queue()
    # A backlog: stored a while before the worker gets to them (past the clock margin).
    WebhookEvent.objects.filter(pk__in=queued).update(received_at=F("received_at") - MINUTE)
    news = WebhookEvent.objects.filter(pk__in=queued, type__startswith="invoice")
    assert news.count() >= 5  # finalized, sent, paid, payment_succeeded, invoice_payment.paid
    before = invoice_fetches()

    work(queued)

    assert invoice_fetches() - before == 1
    invoice = Invoice.objects.get(deal=deal)
    assert (invoice.state, invoice.amount_paid) == ("paid", invoice.total)
    assert Payment.objects.count() == 1
    deal.refresh_from_db()
    assert deal.state == "paid"
    # Each event done exactly once, the skipped ones included.
    assert set(WebhookEvent.objects.values_list("status", "attempts")) == {("done", 1)}


def test_news_received_after_the_fetch_is_fetched_again(fake, signed_deal, queue, work):
    deal = signed_deal()
    fake.advance_clock(3600)
    (sin,) = fake.invoices.values()
    work(queue())  # finalized: converged (issued, owed)
    assert Invoice.objects.get(deal=deal).state == "issued"
    before = invoice_fetches()

    stripe_client().v1.invoices.pay(sin["id"])
    work(queue())  # stored after that fetch: each is fetched (within the clock margin, all)

    assert invoice_fetches() - before >= 1
    assert Invoice.objects.get(deal=deal).state == "paid"


def test_a_failed_payment_is_never_taken_as_seen(fake, signed_deal, queue, work):
    signed_deal()
    fake.advance_clock(3600)
    (sin,) = fake.invoices.values()
    work(queue())  # finalized: converged, so later-stored news of it counts as seen...
    before = invoice_fetches()
    # ...but a failed collection says more than the invoice's state: it is always handled.
    failed = WebhookEvent.objects.create(
        vendor="stripe",
        event_id="evt_failed_before_the_fetch",
        type="invoice.payment_failed",
        payload={"type": "invoice.payment_failed", "data": {"object": {"id": sin["id"]}}},
        received_at=timezone.now() - MINUTE,
    )

    assert stripe_event_handle(event_pk=failed.pk, actor=pipeline_user())

    assert invoice_fetches() - before == 1
    assert ARItem.objects.filter(reason=ARReason.PAYMENT_FAILED).count() == 1


@pytest.mark.django_db
def test_only_news_received_a_margin_before_a_committed_fetch_counts_as_seen():
    fetched_from = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
    converged_mark("in_margin", fetched_from)
    mark = fetched_since(["in_margin", "in_never_converged"])

    assert list(mark) == ["in_margin"]
    assert already_applied(mark["in_margin"], fetched_from - CLOCK_MARGIN)
    assert not already_applied(mark["in_margin"], fetched_from - CLOCK_MARGIN / 2)
    assert not already_applied(mark["in_margin"], fetched_from + CLOCK_MARGIN)
    assert not already_applied(None, fetched_from - dt.timedelta(days=1))
    # An older fetch's mark never moves the newer one back; a newer one moves it on.
    converged_mark("in_margin", fetched_from - dt.timedelta(hours=1))
    assert fetched_since(["in_margin"]) == {"in_margin": fetched_from}
    converged_mark("in_margin", fetched_from + MINUTE)
    assert fetched_since(["in_margin"]) == {"in_margin": fetched_from + MINUTE}


@pytest.mark.django_db
def test_a_converge_that_rolls_back_leaves_no_mark():
    fetched_from = timezone.now()

    def converge_failing() -> None:
        with transaction.atomic():
            converged_mark("in_rolled_back", fetched_from)
            raise RuntimeError("what the fetch applied failed to commit")

    with pytest.raises(RuntimeError):
        converge_failing()
    assert fetched_since(["in_rolled_back"]) == {}
