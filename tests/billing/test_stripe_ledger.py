"""The order created in Stripe and read back (`billing.ledger.stripe_ledger`): the real SDK
against the local fake, retries included."""

import dataclasses
import itertools
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings

from billing.diff import diff_records, minor_units
from billing.ledger.stripe_ledger import StripeIds, create_in_stripe, read_back
from billing.ledger.stripe_mapping import PO_FIELD, order_billing_view, timestamp
from dealdesk.integrations.errors import IntegrationError
from dealdesk.integrations.models import IntegrationCall
from tests.billing.fake_stripe import fake_stripe
from tests.billing.snapshots import ONBOARDING, SEATS, TERMS, clause, order_of
from tests.billing.test_invoice_plan_properties import contracts

pytestmark = pytest.mark.django_db

MONTHLY = dataclasses.replace(TERMS, billing_frequency="monthly", term_months=24)


@pytest.fixture
def fake(settings):
    with fake_stripe(settings) as fake:
        yield fake
    assert fake.crashes == []  # the fake's own bugs never pass as Stripe's 500s


def line(key: str, **fields):
    return dataclasses.replace(SEATS, key=key, **fields)


def created_objects(fake) -> dict[str, int]:
    return {kind: fake.created[kind] for kind in ("customer", "product", "subscription_schedule")}


ORDERS = {
    "annual": lambda: order_of(dataclasses.replace(TERMS, billing_frequency="annual")),
    "monthly ramp": lambda: order_of(
        MONTHLY,
        (
            line("y1", net_unit_price=Decimal("30")),
            line("y2", net_unit_price=Decimal("36"), segment_index=2),
        ),
    ),
    "uplift": lambda: order_of(dataclasses.replace(MONTHLY, uplift_pct=Decimal("4.25"))),
    "free months": lambda: order_of(dataclasses.replace(MONTHLY, free_months=3)),
    "price lock": lambda: order_of(
        dataclasses.replace(
            MONTHLY, uplift_pct=Decimal(5), uplift_every_months=6, price_lock_months=12
        )
    ),
    "one-time fee": lambda: order_of(lines=(SEATS, ONBOARDING)),
    "PO number": lambda: order_of(
        lines=(SEATS, ONBOARDING), clauses=[clause("purchase_order_required", po_number="PO-77")]
    ),
    "JPY": lambda: order_of(
        dataclasses.replace(TERMS, currency="JPY"), (line("s", net_unit_price=Decimal("1234")),)
    ),
    "KWD": lambda: order_of(
        dataclasses.replace(TERMS, currency="KWD"),
        (line("s", net_unit_price=Decimal("12.345")), ONBOARDING),
    ),
    "mid-month start": lambda: order_of(
        dataclasses.replace(TERMS, start_date=date(2026, 1, 17), align_to_calendar=True)
    ),
    "upfront, three years": lambda: order_of(
        dataclasses.replace(TERMS, billing_frequency="upfront", term_months=36), (SEATS, ONBOARDING)
    ),
    "fractional quantity": lambda: order_of(lines=(line("tb", quantity=Decimal("2.5")),)),
}


@pytest.mark.parametrize("name", list(ORDERS))
def test_stripe_holds_exactly_the_contract(fake, name):
    order = ORDERS[name]()

    ids = create_in_stripe(order, record_key="record-1")

    assert diff_records(order_billing_view(order), read_back(ids)) == []
    assert list(fake.customers) == [ids.customer]
    assert list(fake.schedules) == list(ids.schedules)


def test_a_simple_deal_in_stripe_carries_our_ids_terms_and_price(fake):
    order = order_of(
        dataclasses.replace(TERMS, billing_frequency="annual"),
        clauses=[clause("purchase_order_required", po_number="PO-4471")],
    )

    ids = create_in_stripe(order, record_key="record-1")

    customer = fake.customers[ids.customer]
    assert (customer["name"], customer["email"]) == ("Acme Logistics, Inc.", "ap@acme.test")
    assert customer["metadata"] == {"account": "001T00000000001", "deal": "7"}
    assert ids.products == {"SKU-seats": "dd-SKU-seats"}
    assert fake.products["dd-SKU-seats"]["metadata"] == {"sku": "SKU-seats"}
    [schedule] = fake.schedules.values()
    assert schedule["metadata"]["contract"] == "006T00000000001-2"
    assert schedule["metadata"]["record"] == "record-1"
    [phase] = schedule["phases"]
    assert (phase["start_date"], phase["end_date"]) == (
        timestamp(date(2026, 1, 1)),
        timestamp(date(2027, 1, 1)),
    )
    assert phase["collection_method"] == "send_invoice"
    assert phase["invoice_settings"]["days_until_due"] == 30
    assert phase["invoice_settings"]["custom_fields"] == [{"name": PO_FIELD, "value": "PO-4471"}]
    [item] = phase["items"]
    price = fake.prices[item["price"]]
    assert (price["unit_amount_decimal"], price["currency"], item["quantity"]) == (
        "47250",
        "usd",
        10,
    )
    # Every creating call carried a key made of our ids.
    keys = set(
        IntegrationCall.objects.exclude(idempotency_key="").values_list(
            "idempotency_key", flat=True
        )
    )
    assert keys == {"record-1:customer", "product:dd-SKU-seats", "record-1:schedule:1"}


def test_a_catalog_sku_bills_on_the_catalog_product_found_by_lookup_key(fake):
    from billing.ledger.stripe_client import stripe_client

    api = stripe_client().v1
    catalog = api.products.create({"name": "Platform seat"})
    api.prices.create(
        {
            "currency": "usd",
            "product": catalog.id,
            "unit_amount": 4500,
            "recurring": {"interval": "month"},
            "lookup_key": "SKU-seats",
        }
    )
    order = order_of()

    ids = create_in_stripe(order, record_key="record-1")

    assert ids.products == {"SKU-seats": catalog.id}
    assert list(fake.products) == [catalog.id]  # no product of our own
    assert diff_records(order_billing_view(order), read_back(ids)) == []


def test_a_two_hundred_line_deal_is_split_across_schedules_on_one_customer(fake):
    lines = [
        line(f"l{n}", quantity=Decimal(n % 7 + 1), net_unit_price=Decimal(f"{n}.25"))
        for n in range(1, 191)
    ] + [dataclasses.replace(ONBOARDING, key=f"fee{n}") for n in range(1, 11)]
    order = order_of(MONTHLY, lines, clauses=[clause("purchase_order_required", po_number="PO-9")])

    ids = create_in_stripe(order, record_key="record-200")

    assert len(ids.schedules) == 10
    schedules = [fake.schedules[s] for s in ids.schedules]
    assert {s["customer"] for s in schedules} == {ids.customer}
    assert (
        len({tuple((p["start_date"], p["end_date"]) for p in s["phases"]) for s in schedules}) == 1
    )
    view = read_back(ids)
    assert diff_records(order_billing_view(order), view) == []
    assert sum(c["amount"] for i in view["invoices"] for c in i["lines"]) == minor_units(
        order.tcv, "USD"
    )


def test_500_three_times_then_success_makes_one_customer(fake):
    order = order_of()
    fake.fail_next(3, 500, path="/v1/customers")

    for _ in range(3):
        with pytest.raises(IntegrationError) as failed:
            create_in_stripe(order, record_key="record-1")
        assert failed.value.retryable
    assert fake.customers == {}
    ids = create_in_stripe(order, record_key="record-1")

    assert list(fake.customers) == [ids.customer]
    assert created_objects(fake) == {"customer": 1, "product": 1, "subscription_schedule": 1}


@pytest.mark.parametrize("path", ["/v1/customers", "/v1/products", "/v1/subscription_schedules"])
def test_a_lost_answer_is_replayed_by_the_retry_with_the_same_ids(fake, path):
    order = order_of(lines=(SEATS, ONBOARDING))
    fake.fail_next(1, 500, applied=True, path=path)

    with pytest.raises(IntegrationError):
        create_in_stripe(order, record_key="record-1")
    ids = create_in_stripe(order, record_key="record-1")
    again = create_in_stripe(order, record_key="record-1")

    # The work the lost answer did is found or replayed: nothing is made twice.
    assert created_objects(fake) == {"customer": 1, "product": 2, "subscription_schedule": 1}
    assert again == ids
    assert list(fake.schedules) == list(ids.schedules)


def test_a_schedule_a_lost_answer_made_is_found_again_not_posted_twice(fake):
    order = order_of()
    # The list of schedules already made passes; the create after it loses its answer.
    fake.fail_next(1, 500, applied=True, path="/v1/subscription_schedules", after=1)
    with pytest.raises(IntegrationError):
        create_in_stripe(order, record_key="record-1")
    [schedule_id] = fake.schedules

    ids = create_in_stripe(order, record_key="record-1")

    assert ids.schedules == (schedule_id,)
    schedule_posts = [
        r
        for r in fake.requests
        if r["method"] == "POST" and r["path"] == "/v1/subscription_schedules"
    ]
    assert [r["idempotency_key"] for r in schedule_posts] == ["record-1:schedule:1"]


def test_a_retry_after_stripe_forgot_the_key_still_finds_the_schedule(fake):
    order = order_of()
    first = create_in_stripe(order, record_key="record-1")
    fake.advance_clock(25 * 3600)  # idempotency keys are kept for 24 h

    again = create_in_stripe(order, record_key="record-1")

    assert again.schedules == first.schedules
    assert len(fake.schedules) == 1


def test_a_customer_create_retried_before_search_sees_it_is_replayed_by_stripe(fake):
    order = order_of()
    fake.search_lag_seconds = 60
    fake.fail_next(1, 500, applied=True, path="/v1/customers")
    with pytest.raises(IntegrationError):
        create_in_stripe(order, record_key="record-1")

    ids = create_in_stripe(order, record_key="record-1")

    assert list(fake.customers) == [ids.customer]
    posts = [r for r in fake.requests if r["method"] == "POST" and r["path"] == "/v1/customers"]
    assert [r["idempotency_key"] for r in posts] == ["record-1:customer"] * 2


def test_a_second_deal_of_the_account_bills_on_its_customer(fake):
    first = create_in_stripe(order_of(), record_key="record-1")

    second = create_in_stripe(order_of(lines=(SEATS, ONBOARDING)), record_key="record-2")

    assert second.customer == first.customer
    assert len(fake.customers) == 1
    assert len(set(first.schedules + second.schedules)) == 2


def test_a_quantity_changed_in_stripe_is_named_by_the_diff(fake):
    order = order_of(MONTHLY)
    ids = create_in_stripe(order, record_key="record-1")
    [schedule] = fake.schedules.values()
    schedule["phases"][0]["items"][0]["quantity"] = 11  # someone edits it in the dashboard

    differences = diff_records(order_billing_view(order), read_back(ids))

    paths = [d.path for d in differences]
    assert "lines[0].quantity" in paths
    assert "invoices[0].lines[0].amount" in paths
    quantity = next(d for d in differences if d.path == "lines[0].quantity")
    assert (quantity.expected, quantity.actual) == ("10", "11")


def test_an_invoice_item_added_by_hand_is_named_by_the_diff(fake):
    from billing.ledger.stripe_client import stripe_client

    order = order_of()
    ids = create_in_stripe(order, record_key="record-1")
    stripe_client().v1.invoice_items.create(
        {"customer": ids.customer, "amount": 9900, "currency": "usd", "description": "extra"}
    )

    differences = diff_records(order_billing_view(order), read_back(ids))

    assert [(d.path, d.kind) for d in differences] == [("pending_invoice_items[0]", "extra")]


def test_ids_of_nothing_in_stripe_fail_permanently(fake):
    with pytest.raises(IntegrationError) as failed:
        read_back(StripeIds(customer="cus_nope"))

    assert (failed.value.retryable, failed.value.code) == (False, "resource_missing")


_records = itertools.count(1)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(generated=contracts())
def test_every_generated_contract_reads_back_from_stripe_as_signed(fake, generated):
    order, _terms = generated

    ids = create_in_stripe(order, record_key=f"record-{next(_records)}")

    view = read_back(ids)
    assert diff_records(order_billing_view(order), view) == []
    assert sum(c["amount"] for i in view["invoices"] for c in i["lines"]) == minor_units(
        order.tcv, order.currency
    )
