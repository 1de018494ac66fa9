"""The canonical order as Stripe requests (`billing.ledger.stripe_mapping`), without Stripe:
each request is turned into the objects Stripe would hold (`held`) and read through the same
view `read_back` uses, so every amount Stripe would bill is checked against the contract's
invoice plan to the minor unit."""

import dataclasses
import itertools
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings

from billing.diff import diff_records, minor_units
from billing.ledger.stripe_mapping import (
    PO_FIELD,
    billing_phases,
    order_billing_view,
    product_id,
    schedule_params,
    stripe_billing_view,
    timestamp,
)
from dealdesk.pricing import DealTerms, LineInput
from tests.billing.snapshots import ONBOARDING, SEATS, TERMS, clause, order_of
from tests.billing.test_invoice_plan_properties import contracts

ANNUAL = dataclasses.replace(TERMS, billing_frequency="annual")
MONTHLY = dataclasses.replace(TERMS, billing_frequency="monthly", term_months=24)


def line(key: str, **fields: Any) -> LineInput:
    return dataclasses.replace(SEATS, key=key, **fields)


def requests_of(order, record_key: str = "record-1") -> list[dict]:
    products = {line.sku: product_id(line.sku) for line in order.lines}
    return schedule_params(order, customer="cus_1", products=products, record_key=record_key)


def held(requests: list[dict]) -> list[dict]:
    """The schedules Stripe holds after these create requests, phases chained from the
    start and prices expanded, as `read_back` fetches them."""
    schedules = []
    for request in requests:
        start, phases = request["start_date"], []
        for phase in request["phases"]:
            phases.append(
                {
                    "start_date": start,
                    "end_date": phase["end_date"],
                    "collection_method": phase["collection_method"],
                    "invoice_settings": phase["invoice_settings"],
                    "items": [_held_item(item) for item in phase["items"]],
                    "add_invoice_items": [
                        _held_item(item) for item in phase.get("add_invoice_items", [])
                    ],
                }
            )
            start = phase["end_date"]
        schedules.append({"metadata": request["metadata"], "phases": phases})
    return schedules


def _held_item(item: dict) -> dict:
    data = item["price_data"]
    price = {**data, "recurring": data.get("recurring")}
    return {"price": price, "quantity": item["quantity"], "metadata": item.get("metadata", {})}


def stripe_view(order, schedules: list[dict]) -> dict:
    return stripe_billing_view(
        customer={"metadata": {"account": order.billing_entity.crm_id}},
        schedules=schedules,
        skus={product_id(line.sku): line.sku for line in order.lines},
    )


def billed(order) -> list[tuple[str, str, dict[str, int]]]:
    """What Stripe would bill for the order's requests: (period start, end, line → amount)."""
    view = stripe_view(order, held(requests_of(order)))
    return [
        (
            invoice["period_start"],
            invoice["period_end"],
            {charge["line_key"]: charge["amount"] for charge in invoice["lines"]},
        )
        for invoice in view["invoices"]
    ]


def planned(order) -> list[tuple[str, str, dict[str, int]]]:
    return [
        (
            invoice.period_start.isoformat(),
            invoice.period_end.isoformat(),
            {c.line_key: minor_units(c.amount, order.currency) for c in invoice.lines},
        )
        for invoice in order.invoices
    ]


def phases_of(request: dict) -> list[dict]:
    return request["phases"]


def recurring(item: dict) -> tuple[str, int]:
    r = item["price_data"]["recurring"]
    return r["interval"], r["interval_count"]


# --- the shape of the requests ------------------------------------------------------------


def test_a_simple_annual_deal_is_one_phase_at_the_negotiated_price():
    order = order_of(ANNUAL)

    [request] = requests_of(order)

    assert request["customer"] == "cus_1"
    assert request["start_date"] == timestamp(date(2026, 1, 1))
    assert request["end_behavior"] == "cancel"
    assert request["default_settings"] == {
        "collection_method": "send_invoice",
        "invoice_settings": {"days_until_due": 30},
    }
    assert request["metadata"] == {
        "deal": "7",
        "deal_crm_id": "006T00000000001",
        "contract": "006T00000000001-2",
        "contract_version": "2",
        "record": "record-1",
        "part": "1/1",
    }
    [phase] = phases_of(request)
    assert phase["end_date"] == timestamp(date(2027, 1, 1))
    assert "iterations" not in phase
    assert "duration" not in phase
    assert (phase["collection_method"], phase["invoice_settings"]) == (
        "send_invoice",
        {"days_until_due": 30},
    )
    # 39.375 a month is 472.50 a seat a year: 47250 cents, exactly, for 10 seats.
    assert phase["items"] == [
        {
            "price_data": {
                "currency": "usd",
                "product": "dd-SKU-seats",
                "unit_amount_decimal": "47250",
                "recurring": {"interval": "month", "interval_count": 12},
            },
            "quantity": 10,
            "metadata": {"line": "line-1"},
        }
    ]
    assert billed(order) == [("2026-01-01", "2027-01-01", {"line-1": 472500})]


def test_a_monthly_ramp_changes_price_on_the_segment_boundary():
    order = order_of(
        MONTHLY,
        (
            line("y1", net_unit_price=Decimal("30")),
            line("y2", net_unit_price=Decimal("36"), segment_index=2),
        ),
    )

    [request] = requests_of(order)

    first, second = phases_of(request)
    assert first["end_date"] == timestamp(date(2027, 1, 1))
    assert second["end_date"] == timestamp(date(2028, 1, 1))
    amounts = [
        [(i["metadata"]["line"], i["price_data"]["unit_amount_decimal"]) for i in p["items"]]
        for p in (first, second)
    ]
    assert amounts == [[("line-1", "3000"), ("line-2", "0")], [("line-1", "0"), ("line-2", "3600")]]
    assert {recurring(i) for p in (first, second) for i in p["items"]} == {("month", 1)}
    assert billed(order) == planned(order)
    assert len(billed(order)) == 24


def test_an_uplift_is_a_new_phase_at_the_uplifted_price():
    order = order_of(dataclasses.replace(MONTHLY, uplift_pct=Decimal("5")), (line("s"),))

    units = [
        p["items"][0]["price_data"]["unit_amount_decimal"] for p in phases_of(*requests_of(order))
    ]

    # 393.75 a month, then 5 % more: 413.4375, billed by cumulative rounding 413.44, 413.43…
    assert units[0] == "3937.5"
    assert {Decimal(u) for u in units[1:]} == {Decimal("4134.4"), Decimal("4134.3")}
    assert billed(order) == planned(order)


def test_a_price_lock_holds_the_price_through_the_lock():
    terms = dataclasses.replace(
        MONTHLY, uplift_pct=Decimal("5"), uplift_every_months=6, price_lock_months=12
    )
    order = order_of(terms, (line("s", net_unit_price=Decimal("40")),))

    phases = phases_of(*requests_of(order))

    assert phases[0]["end_date"] == timestamp(date(2027, 1, 1))  # no uplift at month 6
    assert phases[0]["items"][0]["price_data"]["unit_amount_decimal"] == "4000"
    assert phases[1]["items"][0]["price_data"]["unit_amount_decimal"] == "4200"
    assert billed(order) == planned(order)


def test_free_months_are_a_phase_that_costs_nothing_and_no_invoice():
    order = order_of(dataclasses.replace(TERMS, billing_frequency="monthly", free_months=2))

    free, paid = phases_of(*requests_of(order))

    assert free["end_date"] == timestamp(date(2026, 3, 1))
    assert free["items"][0]["price_data"]["unit_amount_decimal"] == "0"
    assert free["items"][0]["quantity"] == 10  # the seats are there, at no charge
    assert paid["items"][0]["price_data"]["unit_amount_decimal"] == "3937.5"
    assert billed(order)[0][:2] == ("2026-03-01", "2026-04-01")
    assert billed(order) == planned(order)


def test_a_one_time_fee_is_an_invoice_item_of_the_first_period_only():
    order = order_of(lines=(SEATS, ONBOARDING))

    first, rest = phases_of(*requests_of(order))

    assert first["end_date"] == timestamp(date(2026, 4, 1))
    assert first["add_invoice_items"] == [
        {
            "price_data": {
                "currency": "usd",
                "product": "dd-SKU-onboarding",
                "unit_amount_decimal": "450000",
            },
            "quantity": 1,
            "metadata": {"line": "line-2"},
        }
    ]
    assert "add_invoice_items" not in rest
    assert billed(order)[0] == ("2026-01-01", "2026-04-01", {"line-1": 118125, "line-2": 450000})
    assert billed(order) == planned(order)


def test_the_po_number_is_an_invoice_custom_field_of_every_phase():
    order = order_of(
        lines=(SEATS, ONBOARDING),
        clauses=[clause("purchase_order_required", po_number="PO-4471")],
    )

    phases = phases_of(*requests_of(order))

    assert [p["invoice_settings"]["custom_fields"] for p in phases] == [
        [{"name": PO_FIELD, "value": "PO-4471"}]
    ] * 2
    assert order_billing_view(order)["po_number"] == "PO-4471"


@pytest.mark.parametrize(
    ("currency", "unit", "expected_unit", "first_amount"),
    [
        # 10 × 1,234 yen a month, three months a quarter: 37,020 yen, no decimals.
        ("JPY", Decimal("1234"), "3702", 37020),
        # 10 × 39.375 KWD: 3 decimals, amounts in fils.
        ("KWD", Decimal("39.375"), "118125", 1181250),
    ],
)
def test_zero_and_three_decimal_currencies_are_in_their_minor_units(
    currency, unit, expected_unit, first_amount
):
    order = order_of(
        dataclasses.replace(TERMS, currency=currency), (line("s", net_unit_price=unit),)
    )

    [phase] = phases_of(*requests_of(order))

    assert phase["items"][0]["price_data"]["currency"] == currency.lower()
    assert phase["items"][0]["price_data"]["unit_amount_decimal"] == expected_unit
    assert billed(order)[0][2] == {"line-1": first_amount}
    assert billed(order) == planned(order)


def test_a_mid_month_start_bills_its_calendar_stub_as_a_phase_of_days():
    terms = dataclasses.replace(TERMS, start_date=date(2026, 1, 17), align_to_calendar=True)
    order = order_of(terms)

    phases = phases_of(*requests_of(order))

    stub = phases[0]
    assert stub["end_date"] == timestamp(date(2026, 4, 1))
    assert recurring(stub["items"][0]) == ("day", 74)
    assert billed(order) == planned(order)


def test_upfront_over_a_year_is_billed_once_as_invoice_items():
    terms = dataclasses.replace(TERMS, billing_frequency="upfront", term_months=36)
    order = order_of(terms, (SEATS, ONBOARDING))

    [phase] = phases_of(*requests_of(order))

    # Stripe recurs at most yearly: the items run at zero, the term's charge goes on the
    # first invoice.
    assert phase["end_date"] == timestamp(date(2029, 1, 1))
    assert [i["price_data"]["unit_amount_decimal"] for i in phase["items"]] == ["0"]
    assert [i["price_data"]["unit_amount_decimal"] for i in phase["add_invoice_items"]] == [
        "141750",  # a seat's three years, for 10 seats
        "450000",
    ]
    assert billed(order) == [("2026-01-01", "2029-01-01", {"line-1": 14175_00, "line-2": 4500_00})]


def test_a_fractional_quantity_is_billed_as_one_lot_of_it():
    order = order_of(lines=(line("tb", quantity=Decimal("2.5"), net_unit_price=Decimal("10")),))

    [item] = phases_of(*requests_of(order))[0]["items"]

    assert (item["quantity"], item["metadata"]) == (1, {"line": "line-1", "lot": "2.5"})
    assert item["price_data"]["unit_amount_decimal"] == "7500"  # 2.5 × 10 × 3 months
    assert stripe_view(order, held(requests_of(order)))["lines"][0]["quantity"] == "2.5"
    assert (
        diff_records(order_billing_view(order), stripe_view(order, held(requests_of(order)))) == []
    )


def test_two_hundred_lines_are_split_across_schedules_with_one_start_and_terms():
    lines = [
        line(f"l{n}", quantity=Decimal(n % 7 + 1), net_unit_price=Decimal(f"{n}.25"))
        for n in range(1, 191)
    ] + [
        dataclasses.replace(ONBOARDING, key=f"fee{n}", net_unit_price=Decimal(n))
        for n in range(1, 11)
    ]
    order = order_of(MONTHLY, lines, clauses=[clause("purchase_order_required", po_number="PO-9")])

    requests = requests_of(order)

    assert len(requests) == 10
    assert {r["start_date"] for r in requests} == {timestamp(date(2026, 1, 1))}
    assert {tuple(p["end_date"] for p in r["phases"]) for r in requests} == {
        tuple(p["end_date"] for p in requests[0]["phases"])
    }
    assert all(len(p["items"]) <= 20 for r in requests for p in r["phases"])
    assert all(len(p.get("add_invoice_items", [])) <= 20 for r in requests for p in r["phases"])
    assert [r["metadata"]["part"] for r in requests] == [f"{n}/10" for n in range(1, 11)]
    view = stripe_view(order, held(requests))
    assert len(view["lines"]) == 200
    assert diff_records(order_billing_view(order), view) == []
    assert sum(c["amount"] for i in view["invoices"] for c in i["lines"]) == minor_units(
        order.tcv, "USD"
    )


def test_the_view_names_what_stripe_holds_differently():
    order = order_of(lines=(SEATS, ONBOARDING))
    schedules = held(requests_of(order))
    schedules[0]["phases"][1]["items"][0]["quantity"] = 11
    schedules[0]["phases"][0]["invoice_settings"] = {"days_until_due": 45}

    paths = [d.path for d in diff_records(order_billing_view(order), stripe_view(order, schedules))]

    assert "lines[0].quantity" in paths
    assert "invoices[1].lines[0].amount" in paths
    assert "payment_terms" in paths


def test_the_phases_cover_the_term_end_to_end():
    order = order_of(dataclasses.replace(MONTHLY, free_months=3, uplift_pct=Decimal(3)))

    phases = billing_phases(order)

    assert phases[0].start == order.service_start
    assert phases[-1].end == order.service_end
    assert all(a.end == b.start for a, b in itertools.pairwise(phases))


# --- over generated contracts ------------------------------------------------------------


@settings(max_examples=1000, deadline=None)
@given(contracts())
def test_stripe_bills_every_generated_contract_exactly(generated):
    order, _terms = generated
    requests = requests_of(order)

    view = stripe_view(order, held(requests))

    assert billed(order) == planned(order)
    assert sum(c["amount"] for i in view["invoices"] for c in i["lines"]) == minor_units(
        order.tcv, order.currency
    )
    assert diff_records(order_billing_view(order), view) == []
    phases = [p for r in requests for p in r["phases"]]
    assert all(len(p["items"]) <= 20 for p in phases)
    assert all(len(p.get("add_invoice_items", [])) <= 20 for p in phases)
    units = [
        i["price_data"]["unit_amount_decimal"]
        for p in phases
        for i in [*p["items"], *p.get("add_invoice_items", [])]
    ]
    assert all(-Decimal(u).as_tuple().exponent <= 12 for u in units)


def test_usd_cents_that_do_not_divide_keep_the_charge_exact():
    # One seat for 100.00 a year, billed monthly: 8.333… a month, by cumulative rounding.
    order = order_of(
        DealTerms(
            currency="USD",
            start_date=date(2026, 1, 1),
            term_months=12,
            billing_frequency="monthly",
        ),
        (line("s", quantity=Decimal(1), net_unit_price=Decimal("100"), billing_interval="year"),),
    )

    assert billed(order) == planned(order)
    assert {amounts["line-1"] for _, _, amounts in billed(order)} == {833, 834}
    assert len(phases_of(*requests_of(order))) > 1
