"""The nightly Stripe sweep (`billing.stripe_sweep`): every event since the cursor fed through
the webhook inbox, so a webhook Stripe never delivered is still handled; the cursor moves
only past pages that were stored."""

import pytest
from django.conf import settings as django_settings

from billing.ledger.stripe_client import stripe_client
from billing.models import EventCursor, Invoice
from billing.tasks import stripe_sweep
from dealdesk.integrations.errors import IntegrationError
from dealdesk.integrations.models import WebhookEvent
from tests.billing.fake_stripe import fake_stripe


@pytest.fixture
def fake(settings):
    with fake_stripe(settings) as fake:
        yield fake
    assert fake.crashes == []


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    def run() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return stripe_sweep()

    return run


def cursor() -> str:
    return EventCursor.objects.get(source="stripe").last_event_id


def emit(fake, n: int) -> None:
    for number in range(n):
        fake._emit("customer.updated", {"id": f"cus_{number}", "object": "customer"})


def test_the_beat_runs_the_sweep_nightly():
    entry = django_settings.CELERY_BEAT_SCHEDULE["billing-stripe-sweep"]
    assert entry["task"] == "billing.stripe_sweep"


def test_webhooks_never_delivered_are_recovered_by_the_sweep(fake, signed_deal, sweep):
    deal = signed_deal()
    fake.advance_clock(3600)
    stripe_client().v1.invoices.pay(next(iter(fake.invoices)))

    assert sweep() == len(fake.events)

    invoice = Invoice.objects.get(deal=deal)
    assert invoice.state == "paid"
    deal.refresh_from_db()
    assert deal.state == "paid"
    assert cursor() == fake.events[-1]["id"]
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"done"}
    assert sweep() == 0  # nothing since


@pytest.mark.django_db
def test_an_event_already_delivered_is_not_stored_twice(fake, sweep, client):
    emit(fake, 3)
    body, headers = fake.webhook(fake.events[1]["id"])
    client.post(
        "/billing/webhooks/stripe/",
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": headers["Stripe-Signature"]},
    )

    assert sweep() == 2
    assert WebhookEvent.objects.count() == 3


@pytest.mark.django_db
def test_the_sweep_pages_through_events_oldest_first_from_its_cursor(fake, sweep):
    emit(fake, 250)
    assert sweep() == 250
    assert cursor() == fake.events[-1]["id"]
    emit(fake, 230)

    assert sweep() == 230

    stored = list(WebhookEvent.objects.order_by("pk").values_list("event_id", flat=True))
    assert stored == [event["id"] for event in fake.events]
    assert cursor() == fake.events[-1]["id"]


@pytest.mark.django_db
def test_the_cursor_moves_only_past_pages_that_were_stored(fake, sweep):
    emit(fake, 1)
    sweep()
    emit(fake, 150)
    fake.fail_next(1, 500, path="/v1/events", after=1)  # the second page fails

    with pytest.raises(IntegrationError):
        sweep()

    assert WebhookEvent.objects.count() == 101
    assert cursor() == fake.events[100]["id"]
    assert sweep() == 50
    assert cursor() == fake.events[-1]["id"]


@pytest.mark.django_db
def test_a_cursor_stripe_no_longer_keeps_starts_again_from_its_time(fake, sweep):
    emit(fake, 2)
    EventCursor.objects.create(source="stripe", last_event_id="evt_gone")

    assert sweep() == 2
    assert cursor() == fake.events[-1]["id"]
