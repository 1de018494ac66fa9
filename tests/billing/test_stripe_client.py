"""Our Stripe client (`billing.ledger.stripe_client`) and webhook verification
(`billing.ledger.stripe_webhooks`), through the real `stripe` SDK against the local fake."""

import json
import socket

import pytest
import stripe
from django.test import RequestFactory

from billing.ledger.stripe_client import (
    IDEMPOTENCY_KEY_LIMIT,
    idempotency_key,
    stripe_call,
    stripe_client,
)
from billing.ledger.stripe_webhooks import StripeWebhooks
from dealdesk.integrations.errors import IntegrationError
from dealdesk.integrations.models import IntegrationCall, WebhookEvent
from dealdesk.integrations.retry import with_retries
from dealdesk.integrations.webhooks import InvalidWebhook
from tests.billing.fake_stripe import API_VERSION, fake_stripe

S = IntegrationCall.Status


@pytest.fixture
def fake(settings):
    with fake_stripe(settings, webhook_secrets=["whsec_new", "whsec_old"]) as fake:
        yield fake
    assert fake.crashes == []  # the fake's own bugs never pass as Stripe's 500s


def create_customer(key: str, **params):
    client = stripe_client()
    params = {"email": "ap@acme.test", "metadata": {"deal": "42"}, **params}
    return stripe_call(
        "customer_create",
        lambda: client.v1.customers.create(params, options={"idempotency_key": key}),
        idempotency_key=key,
    )


def failure_of(call) -> IntegrationError:
    with pytest.raises(IntegrationError) as caught:
        call()
    return caught.value


# --- the client and its error translation -------------------------------------------------


@pytest.mark.django_db
def test_500_three_times_then_success_makes_one_customer_and_logs_every_try(fake):
    fake.fail_next(3, 500)
    key = idempotency_key("deal", 42, "customer")

    customer = with_retries(
        lambda: create_customer(key), retries=3, backoff_seconds=0, sleep=lambda _: None
    )

    assert list(fake.customers) == [customer.id]
    assert fake.created["customer"] == 1
    calls = IntegrationCall.objects.filter(vendor="stripe", operation="customer_create")
    assert list(calls.order_by("pk").values_list("status", "idempotency_key")) == [
        (S.FAILED_RETRYABLE, key),
        (S.FAILED_RETRYABLE, key),
        (S.FAILED_RETRYABLE, key),
        (S.SUCCEEDED, key),
    ]
    # Every try carried the same key and the pinned API version.
    posts = [r for r in fake.requests if r["method"] == "POST"]
    assert {(r["idempotency_key"], r["stripe_version"]) for r in posts} == {(key, API_VERSION)}


@pytest.mark.django_db
def test_a_lost_response_is_replayed_by_the_retry_with_the_same_key(fake):
    fake.fail_next(1, 500, applied=True)
    key = idempotency_key("deal", 7, "customer")

    error = failure_of(lambda: create_customer(key))
    assert error.retryable
    assert fake.created["customer"] == 1  # Stripe did the work; we never heard

    customer = create_customer(key)

    assert list(fake.customers) == [customer.id]
    assert fake.created["customer"] == 1


@pytest.mark.django_db
def test_a_rate_limit_is_retryable_after_the_time_stripe_asks(fake):
    fake.rate_limit_next(1, retry_after=7)

    error = failure_of(lambda: create_customer("k-rate"))

    assert (error.retryable, error.code, error.retry_after) == (True, "rate_limit", 7.0)
    assert fake.customers == {}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "should_retry", "retryable"),
    [(500, None, True), (503, None, True), (500, False, False), (400, True, True)],
)
def test_stripe_should_retry_wins_over_the_status(fake, status, should_retry, retryable):
    fake.fail_next(1, status, should_retry=should_retry)

    error = failure_of(lambda: create_customer("k-verdict"))

    assert error.retryable is retryable
    assert error.retry_after is None
    assert fake.customers == {}


@pytest.mark.django_db
def test_a_refused_request_is_permanent_with_stripes_code(fake):
    client = stripe_client()

    unknown = failure_of(
        lambda: stripe_call("customer_get", lambda: client.v1.customers.retrieve("cus_nope"))
    )
    bad = failure_of(lambda: create_customer("k-bad", iterations="12"))

    assert (unknown.retryable, unknown.code) == (False, "resource_missing")
    assert "No such customer" in str(unknown)
    assert (bad.retryable, bad.code) == (False, "parameter_unknown")
    assert fake.customers == {}
    failed = IntegrationCall.objects.filter(vendor="stripe", status=S.FAILED)
    assert failed.count() == 2


@pytest.mark.django_db
def test_one_key_for_two_different_requests_is_refused_for_good(fake):
    create_customer("k-same", email="first@acme.test")

    error = failure_of(lambda: create_customer("k-same", email="second@acme.test"))

    assert (error.retryable, error.code) == (False, "idempotency_error")
    assert [c["email"] for c in fake.customers.values()] == ["first@acme.test"]


@pytest.mark.django_db
def test_no_answer_at_all_is_a_retryable_network_error(settings):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.STRIPE_API_KEY = "sk_test_x"
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{port}"

    error = failure_of(lambda: create_customer("k-down"))

    assert (error.retryable, error.code) == (True, "network")


@pytest.mark.django_db
def test_a_wrong_api_key_is_permanent(fake, settings):
    settings.STRIPE_API_KEY = "sk_test_wrong"

    error = failure_of(lambda: create_customer("k-auth"))

    assert (error.retryable, error.code) == (False, "api_key_invalid")
    assert fake.customers == {}


def test_no_api_key_is_a_configuration_error(settings):
    settings.STRIPE_API_KEY = ""

    error = failure_of(stripe_client)

    assert (error.retryable, error.code) == (False, "not_configured")


def test_idempotency_keys_join_our_ids_and_hash_past_stripes_limit():
    assert idempotency_key("deal", 42, "schedule", 3) == "deal:42:schedule:3"
    long_a = idempotency_key("deal", "x" * 300, "a")
    long_b = idempotency_key("deal", "x" * 300, "b")
    assert len(long_a) <= IDEMPOTENCY_KEY_LIMIT
    assert len(long_b) <= IDEMPOTENCY_KEY_LIMIT
    assert long_a != long_b
    assert long_a.startswith("deal:xxx")
    assert long_a == idempotency_key("deal", "x" * 300, "a")  # stable across retries
    for bad in [(), ("deal", ""), ("deal", "a:b")]:
        with pytest.raises(ValueError, match="non-empty"):
            idempotency_key(*bad)


# --- webhooks -------------------------------------------------------------------------------


def customer_event(fake) -> str:
    stripe_client().v1.customers.create({"email": "ap@acme.test"})
    return fake.events[-1]["id"]


def delivery(body: bytes, headers: dict[str, str]):
    return RequestFactory().post(
        "/webhooks/stripe/", data=body, content_type="application/json", headers=headers
    )


def test_a_signed_event_is_verified_with_its_id_type_and_payload(fake):
    event_id = customer_event(fake)

    verified = StripeWebhooks().verify(delivery(*fake.webhook(event_id)))

    assert (verified.event_id, verified.type) == (event_id, "customer.created")
    assert verified.payload == fake.event(event_id)


def test_the_second_secret_of_a_rotation_verifies_too(fake):
    event_id = customer_event(fake)

    verified = StripeWebhooks().verify(delivery(*fake.webhook(event_id, secret="whsec_old")))

    assert verified.event_id == event_id


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda body, headers: (body.replace(b"ap@acme", b"xx@acme"), headers), "does not match"),
        (lambda body, headers: (body, {}), "no Stripe-Signature header"),
    ],
)
def test_a_forged_or_unsigned_event_is_refused(fake, tamper, message):
    body, headers = fake.webhook(customer_event(fake))

    with pytest.raises(InvalidWebhook, match=message):
        StripeWebhooks().verify(delivery(*tamper(body, headers)))


def test_an_event_signed_with_an_unknown_secret_is_refused(fake):
    body, headers = fake.webhook(customer_event(fake), secret="whsec_attacker")

    with pytest.raises(InvalidWebhook, match="does not match"):
        StripeWebhooks().verify(delivery(body, headers))


def test_a_stale_signature_is_refused_as_a_replay(fake):
    import time

    event_id = customer_event(fake)
    fresh = StripeWebhooks().verify(
        delivery(*fake.webhook(event_id, timestamp=int(time.time()) - 290))
    )
    assert fresh.event_id == event_id

    with pytest.raises(InvalidWebhook, match="older than 300 s"):
        StripeWebhooks().verify(delivery(*fake.webhook(event_id, timestamp=int(time.time()) - 301)))


def test_without_a_configured_secret_every_event_is_refused(fake, settings):
    body, headers = fake.webhook(customer_event(fake))
    settings.STRIPE_WEBHOOK_SECRET = []

    with pytest.raises(InvalidWebhook, match="no Stripe webhook signing secret"):
        StripeWebhooks().verify(delivery(body, headers))


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"not json", "not a JSON event"), (b"[1, 2]", "not a JSON object"), (b"{}", "no id")],
)
def test_a_signed_body_that_is_not_an_event_is_refused(fake, body, message):
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), "whsec_new")

    with pytest.raises(InvalidWebhook, match=message):
        StripeWebhooks().verify(delivery(body, {"Stripe-Signature": header}))


@pytest.mark.django_db
def test_the_webhook_endpoint_stores_a_genuine_event_once_and_refuses_a_forgery(
    fake, settings, client
):
    settings.WEBHOOK_VENDORS = {"stripe": "billing.ledger.stripe_webhooks.StripeWebhooks"}
    event_id = customer_event(fake)
    body, headers = fake.webhook(event_id)
    forged = json.dumps({**json.loads(body), "id": "evt_forged"}).encode()

    refused = client.post("/webhooks/stripe/", forged, "application/json", headers=headers)
    first = client.post("/webhooks/stripe/", body, "application/json", headers=headers)
    again = client.post("/webhooks/stripe/", body, "application/json", headers=headers)

    assert refused.status_code == 400
    assert (first.status_code, again.json()["duplicate"]) == (200, True)
    stored = WebhookEvent.objects.get()
    assert (stored.vendor, stored.event_id, stored.type) == ("stripe", event_id, "customer.created")
    assert stored.signature_verified
    assert stored.payload["data"]["object"]["email"] == "ap@acme.test"
