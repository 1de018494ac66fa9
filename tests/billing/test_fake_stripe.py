"""The fake Stripe behaves as Stripe does for what billing uses: the real SDK (through our
`stripe_client()`) against it, and its wire format and idempotency checked byte for byte."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests
import stripe

from billing.ledger.stripe_client import stripe_client
from tests.billing.fake_stripe import API_KEY, _Answer, decode_form, fake_stripe

DAY = 86400


@pytest.fixture
def fake(settings):
    with fake_stripe(settings) as fake:
        yield fake
    assert fake.crashes == []  # the fake's own bugs never pass as Stripe's 500s


@pytest.fixture
def api(fake):
    return stripe_client().v1


@pytest.fixture
def customer(api):
    return api.customers.create({"email": "ap@acme.test", "metadata": {"deal": "42"}})


@pytest.fixture
def product(api):
    return api.products.create({"name": "Platform seat"})


def monthly_price(api, product, amount="1250", **params):
    return api.prices.create(
        {
            "currency": "eur",
            "product": product.id,
            "unit_amount_decimal": amount,
            "recurring": {"interval": "month"},
            **params,
        }
    )


def one_time_price(api, product, amount=50000):
    return api.prices.create({"currency": "eur", "product": product.id, "unit_amount": amount})


def schedule_params(customer, phases, **extra):
    return {
        "customer": customer.id,
        "start_date": "now",
        "end_behavior": "release",
        "default_settings": {
            "collection_method": "send_invoice",
            "invoice_settings": {"days_until_due": 30},
        },
        "metadata": {"deal": "42", "contract_version": "7"},
        "phases": phases,
        **extra,
    }


def refused(call) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        call()
    return caught.value


def month_of(timestamp: int) -> tuple[int, int, int]:
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.year, moment.month, moment.day


# --- the wire format ------------------------------------------------------------------------


def test_form_nesting_decodes_to_hashes_and_arrays():
    body = (
        "customer=cus_1&phases[0][items][0][price]=price_1&phases[0][items][0][quantity]=3"
        "&phases[0][items][1][price]=price_2&phases[1][duration][interval]=month"
        "&lookup_keys[]=a&lookup_keys[]=b&metadata[0]=kept+as+a+key&empty="
    )

    assert decode_form(body) == {
        "customer": "cus_1",
        "phases": [
            {"items": [{"price": "price_1", "quantity": "3"}, {"price": "price_2"}]},
            {"duration": {"interval": "month"}},
        ],
        "lookup_keys": ["a", "b"],
        "metadata": {"0": "kept as a key"},
        "empty": "",
    }


@pytest.mark.parametrize("body", ["a[0]=x&a[2]=y", "a=x&a[b]=y", "a=1&a=2", "a]=1"])
def test_malformed_forms_are_refused(body):
    with pytest.raises(_Answer) as caught:
        decode_form(body)
    assert caught.value.status == 400


def test_every_call_needs_the_api_key(fake):
    wrong = stripe.StripeClient("sk_test_wrong", base_addresses={"api": fake.url})

    with pytest.raises(stripe.AuthenticationError):
        wrong.v1.customers.create({"email": "x@acme.test"})
    assert requests.get(f"{fake.url}/v1/customers", timeout=5).status_code == 401
    assert fake.customers == {}


# --- idempotency ----------------------------------------------------------------------------


def post(fake, path: str, data: dict, key: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {API_KEY}", "Idempotency-Key": key}
    return requests.post(f"{fake.url}{path}", data=data, headers=headers, timeout=5)


def test_a_key_replays_the_first_answer_byte_for_byte_for_24_hours(fake):
    first = post(fake, "/v1/customers", {"email": "a@acme.test"}, "k1")
    fake.advance_clock(23 * 3600)
    again = post(fake, "/v1/customers", {"email": "a@acme.test"}, "k1")
    other = post(fake, "/v1/customers", {"email": "b@acme.test"}, "k1")
    fake.advance_clock(2 * 3600)
    later = post(fake, "/v1/customers", {"email": "a@acme.test"}, "k1")

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (other.status_code, other.json()["error"]["type"]) == (400, "idempotency_error")
    assert later.json()["id"] != first.json()["id"]  # the key was forgotten after 24 h
    assert fake.created["customer"] == 2


def test_a_request_refused_before_it_ran_is_not_kept(fake):
    refused_first = post(fake, "/v1/customers", {"emial": "typo@acme.test"}, "k2")
    fake.fail_next(1, 503)
    unavailable = post(fake, "/v1/customers", {"email": "a@acme.test"}, "k3")
    fixed = post(fake, "/v1/customers", {"email": "a@acme.test"}, "k3")

    assert refused_first.json()["error"]["code"] == "parameter_unknown"
    assert post(fake, "/v1/customers", {"emial": "typo@acme.test"}, "k2").status_code == 400
    assert unavailable.status_code == 503
    assert fixed.status_code == 200
    assert "Idempotent-Replayed" not in fixed.headers
    assert fake.created["customer"] == 1


# --- customers, products, prices ------------------------------------------------------------


def test_customers_are_found_by_email_and_by_metadata(api, customer):
    api.customers.create({"email": "other@acme.test", "metadata": {"deal": "43"}})
    api.customers.update(customer.id, {"metadata": {"contract": "7", "deal": ""}})

    by_email = api.customers.list({"email": "ap@acme.test"})
    by_metadata = api.customers.search({"query": "metadata['contract']:'7'"})

    assert [c.id for c in by_email.data] == [customer.id]
    assert [c.id for c in by_metadata.data] == [customer.id]
    assert api.customers.retrieve(customer.id).metadata.to_dict() == {"contract": "7"}


def test_lookup_keys_are_unique_until_transferred(api, product):
    first = monthly_price(api, product, lookup_key="platform-seat")

    clash = refused(lambda: monthly_price(api, product, lookup_key="platform-seat"))
    second = monthly_price(
        api, product, "1300", lookup_key="platform-seat", transfer_lookup_key=True
    )
    found = api.prices.list({"lookup_keys": ["platform-seat", "nothing"]})

    assert clash.code == "resource_already_exists"
    assert [p.id for p in found.data] == [second.id]
    assert api.prices.retrieve(first.id).lookup_key is None


def test_unit_amount_decimal_keeps_twelve_decimals_and_refuses_thirteen(api, product):
    price = monthly_price(api, product, "0.123456789012")

    too_fine = refused(lambda: monthly_price(api, product, "0.1234567890123"))

    assert price.unit_amount_decimal == Decimal("0.123456789012")
    assert price.unit_amount is None  # a fractional minor unit has no integer form
    assert too_fine.param == "unit_amount_decimal"


# --- subscription schedules -----------------------------------------------------------------


def test_a_three_phase_ramp_by_duration_starts_its_subscription(api, fake, customer, product):
    year_1 = monthly_price(api, product, "1000")
    phases = [
        {"items": [{"price": year_1.id, "quantity": 10}], "duration": {"interval": "year"}},
        {
            "items": [
                {
                    "price_data": {
                        "currency": "eur",
                        "product": product.id,
                        "unit_amount_decimal": "1050.5",
                        "recurring": {"interval": "month"},
                    },
                    "quantity": 10,
                }
            ],
            "duration": {"interval": "month", "interval_count": 12},
        },
        {
            "items": [{"price": year_1.id, "quantity": 12}],
            "duration": {"interval": "year"},
            "add_invoice_items": [{"price": one_time_price(api, product).id}],
        },
    ]

    schedule = api.subscription_schedules.create(schedule_params(customer, phases))

    assert schedule.status == "active"
    starts = [month_of(p.start_date) for p in schedule.phases]
    first = starts[0]
    assert starts[1:] == [(first[0] + 1, first[1], first[2]), (first[0] + 2, first[1], first[2])]
    assert [p.collection_method for p in schedule.phases] == ["send_invoice"] * 3
    assert schedule.phases[1].items[0].quantity == 10
    subscription = api.subscriptions.retrieve(schedule.subscription)
    assert (subscription.schedule, subscription.status) == (schedule.id, "active")
    assert subscription.metadata.to_dict() == {"deal": "42", "contract_version": "7"}
    assert [(i.price.id, i.quantity) for i in subscription["items"].data] == [(year_1.id, 10)]
    invoice = api.invoices.retrieve(subscription.latest_invoice)
    assert invoice.billing_reason == "subscription_create"
    assert invoice.parent.subscription_details.subscription == subscription.id
    assert invoice.total == 10 * 1000
    assert fake.event_types()[-4:] == [
        "subscription_schedule.created",
        "customer.subscription.created",
        "subscription_schedule.updated",
        "invoice.created",
    ]


def test_phases_iterations_is_refused_like_this_api_version_does(api, fake, customer, product):
    price = monthly_price(api, product)

    error = refused(
        lambda: api.subscription_schedules.create(
            schedule_params(customer, [{"items": [{"price": price.id}], "iterations": 12}])
        )
    )

    assert (error.code, error.param) == ("parameter_unknown", "phases[0][iterations]")
    assert fake.schedules == {}
    assert fake.subscriptions == {}


def test_more_than_20_items_or_add_invoice_items_in_a_phase_are_refused(
    api, fake, customer, product
):
    prices = [monthly_price(api, product, str(100 + n)) for n in range(21)]
    fee = one_time_price(api, product)
    twenty_one = [{"price": p.id} for p in prices]
    fees = [{"price": fee.id}] * 21

    items = refused(
        lambda: api.subscription_schedules.create(
            schedule_params(customer, [{"items": twenty_one}])
        )
    )
    extras = refused(
        lambda: api.subscription_schedules.create(
            schedule_params(customer, [{"items": twenty_one[:20], "add_invoice_items": fees}])
        )
    )
    twenty = api.subscription_schedules.create(
        schedule_params(customer, [{"items": twenty_one[:20]}])
    )

    assert items.param == "phases[0][items]"
    assert extras.param == "phases[0][add_invoice_items]"
    assert len(api.subscriptions.retrieve(twenty.subscription)["items"].data) == 20
    assert len(fake.schedules) == 1


def test_the_subscriptions_first_invoice_pages_its_lines_and_finalizes_itself(
    api, fake, customer, product
):
    prices = [monthly_price(api, product, str(100 + n)) for n in range(15)]
    schedule = api.subscription_schedules.create(
        schedule_params(customer, [{"items": [{"price": p.id} for p in prices]}])
    )
    invoice_id = api.subscriptions.retrieve(schedule.subscription).latest_invoice

    invoice = api.invoices.retrieve(invoice_id)
    lines = list(api.invoices.line_items.list(invoice_id, {"limit": 4}).auto_paging_iter())
    fake.advance_clock(3600)

    assert (len(invoice.lines.data), invoice.lines.has_more) == (10, True)
    assert [line.pricing.price_details.price for line in lines] == [p.id for p in prices]
    assert api.invoices.retrieve(invoice_id).status == "open"
    assert "invoice.finalized" in fake.event_types()


# --- invoices -------------------------------------------------------------------------------


def test_an_invoice_takes_pending_items_only_when_told_to(api, customer, product):
    fee = api.invoice_items.create(
        {"customer": customer.id, "pricing": {"price": one_time_price(api, product).id}}
    )
    setup = api.invoice_items.create(
        {"customer": customer.id, "amount": 12345, "currency": "eur", "description": "Setup"}
    )
    terms = {"customer": customer.id, "collection_method": "send_invoice", "days_until_due": 30}

    without = api.invoices.create(terms)
    including = api.invoices.create({**terms, "pending_invoice_items_behavior": "include"})
    nothing_left = api.invoices.create({**terms, "pending_invoice_items_behavior": "include"})

    assert (without.total, without.lines.data) == (0, [])
    assert including.total == 50000 + 12345
    items = [line.parent.invoice_item_details.invoice_item for line in including.lines.data]
    assert items == [fee.id, setup.id]
    assert api.invoice_items.retrieve(fee.id).invoice == including.id
    assert nothing_left.total == 0


def test_an_invoice_takes_four_custom_fields_not_five(api, fake, customer):
    fields = [{"name": f"Field {n}", "value": f"value {n}"} for n in range(5)]
    terms = {"customer": customer.id, "collection_method": "send_invoice", "days_until_due": 30}

    five = refused(lambda: api.invoices.create({**terms, "custom_fields": fields}))
    four = api.invoices.create({**terms, "custom_fields": fields[:4]})

    assert five.param == "custom_fields"
    assert [f.name for f in four.custom_fields] == ["Field 0", "Field 1", "Field 2", "Field 3"]
    assert len(fake.invoices) == 1


def test_finalize_send_pay_emits_its_events_in_order_with_the_2026_shape(
    api, fake, customer, product
):
    api.invoice_items.create(
        {"customer": customer.id, "pricing": {"price": one_time_price(api, product).id}}
    )
    invoice = api.invoices.create(
        {
            "customer": customer.id,
            "collection_method": "send_invoice",
            "days_until_due": 30,
            "pending_invoice_items_behavior": "include",
            "custom_fields": [{"name": "PO number", "value": "PO-2026-17"}],
            "metadata": {"deal": "42"},
        }
    )
    before = len(fake.events)

    opened = api.invoices.finalize_invoice(invoice.id)
    api.invoices.send_invoice(invoice.id)
    paid = api.invoices.pay(invoice.id, {"paid_out_of_band": True})

    assert opened.number
    assert opened.due_date == opened.status_transitions.finalized_at + 30 * DAY
    assert (paid.status, paid.amount_paid, paid.amount_remaining) == ("paid", 50000, 0)
    raw = fake.invoices[invoice.id]
    assert "subscription" not in raw
    assert "paid" not in raw
    line = paid.lines.data[0]
    assert line.pricing.unit_amount_decimal == Decimal("50000")
    payments = api.invoice_payments.list({"invoice": invoice.id}).data
    assert [(p.status, p.amount_paid, p.invoice) for p in payments] == [("paid", 50000, invoice.id)]
    assert fake.event_types()[before:] == [
        "invoice.finalized",
        "invoice.sent",
        "invoice_payment.paid",
        "invoice.paid",
        "invoice.payment_succeeded",
    ]


def test_void_uncollectible_and_declined_payments(api, fake, customer, product):
    def open_invoice():
        api.invoice_items.create({"customer": customer.id, "amount": 100, "currency": "eur"})
        created = api.invoices.create(
            {"customer": customer.id, "pending_invoice_items_behavior": "include"}
        )
        return api.invoices.finalize_invoice(created.id)

    voided = api.invoices.void_invoice(open_invoice().id)
    doubtful = api.invoices.mark_uncollectible(open_invoice().id)
    declined = open_invoice()
    fake.decline_next_payment()
    with pytest.raises(stripe.CardError) as decline:
        api.invoices.pay(declined.id)

    assert voided.status == "void"
    assert doubtful.status == "uncollectible"
    assert refused(lambda: api.invoices.pay(voided.id)).code == "status_transition_invalid"
    assert decline.value.code == "card_declined"
    assert api.invoices.retrieve(declined.id).status == "open"
    assert fake.event_types()[-1] == "invoice.payment_failed"
    assert api.invoices.pay(declined.id).status == "paid"


# --- events ---------------------------------------------------------------------------------


def test_events_list_newest_first_by_time_type_and_page(api, fake):
    api.customers.create({"email": "early@acme.test"})
    since = fake.now()
    fake.advance_clock(10)
    later = [api.customers.create({"email": f"c{n}@acme.test"}) for n in range(5)]
    api.customers.update(later[0].id, {"name": "Acme"})

    recent = api.events.list({"created": {"gt": since}, "limit": 2})
    every = list(recent.auto_paging_iter())
    updates = api.events.list({"types": ["customer.updated"]})

    assert recent.has_more
    assert [e.type for e in every] == ["customer.updated"] + ["customer.created"] * 5
    assert [e.data.object.id for e in every[1:]] == [c.id for c in reversed(later)]
    assert [e.data.object.name for e in updates.data] == ["Acme"]
    assert updates.data[0].data.previous_attributes.to_dict() == {"name": None}
    assert api.events.retrieve(every[0].id).type == "customer.updated"


def test_a_webhook_delivery_is_what_the_sdk_verifies(api, fake):
    api.customers.create({"email": "ap@acme.test"})
    event_id = fake.events[-1]["id"]

    body, headers = fake.webhook(event_id)
    event = stripe.Webhook.construct_event(
        body, headers["Stripe-Signature"], fake.webhook_secrets[0]
    )

    assert (event.id, event.type, event.data.object.email) == (
        event_id,
        "customer.created",
        "ap@acme.test",
    )
