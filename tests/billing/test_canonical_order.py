"""The canonical order and its invoice plan, built from an executed contract's snapshot only
(snapshots from tests/billing/snapshots.py; the last test checks that builder against a real
contract)."""

import json
from collections.abc import Callable
from dataclasses import fields, replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from billing.canonical_order import CanonicalOrder, OrderMismatch, canonical_order, order_to_json
from billing.diff import diff_records
from billing.invoice_plan import BillingStart
from contracts.snapshot_types import ContractSnapshot
from tests.billing.snapshots import (
    ONBOARDING,
    SEATS,
    SIGNED_ON,
    TERMS,
    clause,
    contract_snapshot,
    order_of,
)


def tampered(
    snapshot: ContractSnapshot, change: Callable[[dict[str, Any]], None]
) -> ContractSnapshot:
    data = snapshot.to_json()
    change(data)
    return ContractSnapshot.from_json(data)


def issue_dates(order: CanonicalOrder) -> list[date | None]:
    return [invoice.issue_on for invoice in order.invoices]


def billed(order: CanonicalOrder) -> list[list[tuple[str, Decimal]]]:
    return [[(line.line_key, line.amount) for line in inv.lines] for inv in order.invoices]


# --- what the order carries ------------------------------------------------------------------


def test_the_order_carries_the_contract_as_signed():
    snapshot = contract_snapshot(TERMS, [SEATS, ONBOARDING])
    order = canonical_order(snapshot, signed_on=SIGNED_ON)

    assert order.contract_reference == "006T00000000001-2"
    assert order.contract_version == 2
    assert order.contract_hash == snapshot.content_hash
    assert (order.deal_id, order.deal_crm_id) == (7, "006T00000000001")
    entity = order.billing_entity
    assert entity.legal_name == "Acme Logistics, Inc."
    assert entity.address == "1 Main St\nSpringfield, IL 62701\nUS"
    assert (entity.tax_id, entity.billing_email) == ("US-12-3456789", "ap@acme.test")
    assert order.currency == "USD"
    assert order.billing_frequency == "quarterly"
    assert order.billing_start == BillingStart(mode="on_signature")
    assert (order.service_start, order.service_end) == (date(2026, 1, 1), date(2027, 1, 1))
    assert order.service_last_day == date(2026, 12, 31)
    seats, onboarding = order.lines
    assert (seats.key, seats.sku, seats.name) == ("line-1", "SKU-seats", "Product seats")
    assert (seats.segment, seats.interval, seats.one_time) == (1, "month", False)
    # The unit amount as signed, digits and all: never rounded to cents.
    assert str(seats.net_unit_amount) == "39.375000000000"
    assert seats.quantity == 10
    assert seats.term_total == Decimal("4725.00")
    assert (onboarding.key, onboarding.one_time, onboarding.interval) == (
        "line-2",
        True,
        "one_time",
    )
    assert onboarding.term_total == Decimal("4500.00")
    assert order.tcv == Decimal("9225.00")
    assert [(s.index, s.start, s.last_day, s.total) for s in order.ramp] == [
        (1, date(2026, 1, 1), date(2026, 12, 31), Decimal("9225.00"))
    ]
    assert (order.free_months, order.uplift, order.price_lock_months) == (0, None, 0)


def test_invoices_are_in_advance_per_period_with_one_time_fees_on_the_first():
    order = order_of(lines=[SEATS, ONBOARDING])

    assert [(i.index, i.period_start, i.last_day) for i in order.invoices] == [
        (1, date(2026, 1, 1), date(2026, 3, 31)),
        (2, date(2026, 4, 1), date(2026, 6, 30)),
        (3, date(2026, 7, 1), date(2026, 9, 30)),
        (4, date(2026, 10, 1), date(2026, 12, 31)),
    ]
    assert billed(order) == [
        [("line-1", Decimal("1181.25")), ("line-2", Decimal("4500.00"))],
        [("line-1", Decimal("1181.25"))],
        [("line-1", Decimal("1181.25"))],
        [("line-1", Decimal("1181.25"))],
    ]
    first = order.invoices[0]
    assert first.total == Decimal("5681.25")
    assert first.period_end == date(2026, 4, 1)
    assert first.currency == "USD"
    line = first.lines[1]
    assert (line.sku, line.description, line.quantity) == (
        "SKU-onboarding",
        "Product onboarding",
        1,
    )
    assert sum(i.total for i in order.invoices) == order.tcv


# --- clauses ----------------------------------------------------------------------------------


def test_payment_terms_come_from_the_clause_else_the_deal():
    without = order_of(payment_terms=45)
    net_60 = order_of(payment_terms=45, clauses=[clause("payment_terms", net_days=60)])

    assert without.payment_terms == 45
    assert [i.due_on for i in without.invoices][:2] == [date(2026, 2, 15), date(2026, 5, 16)]
    assert net_60.payment_terms == 60
    assert [i.due_on for i in net_60.invoices][:2] == [date(2026, 3, 2), date(2026, 5, 31)]


@pytest.mark.parametrize(
    ("clauses", "required", "po_number"),
    [
        ([], False, ""),
        ([clause("purchase_order_required", po_number="PO-4711")], True, "PO-4711"),
        ([clause("purchase_order_required", po_number=None)], True, ""),
    ],
)
def test_the_po_number_comes_from_the_purchase_order_clause(clauses, required, po_number):
    order = order_of(clauses=clauses)

    assert (order.purchase_order_required, order.po_number) == (required, po_number)


def test_the_payment_method_comes_from_its_clause():
    assert order_of().payment_method == ""
    assert order_of(clauses=[clause("payment_method", method="wire")]).payment_method == "wire"


@pytest.mark.parametrize(
    ("start", "signed_on", "go_live_on", "first_issue"),
    [
        # No clause: on signature, but not before service starts.
        (None, date(2025, 12, 15), None, date(2026, 1, 1)),
        (None, date(2026, 1, 10), None, date(2026, 1, 10)),
        ({"mode": "on_signature"}, date(2026, 1, 10), None, date(2026, 1, 10)),
        ({"mode": "fixed_date", "date": "2026-02-01"}, date(2026, 1, 10), None, date(2026, 2, 1)),
        ({"mode": "days_after_signature", "days": 14}, date(2026, 1, 10), None, date(2026, 1, 24)),
        ({"mode": "on_go_live"}, date(2025, 12, 1), date(2026, 3, 1), date(2026, 3, 1)),
    ],
)
def test_the_first_invoice_follows_the_billing_start(start, signed_on, go_live_on, first_issue):
    clauses = [clause("billing_start", **start)] if start else []
    order = order_of(clauses=clauses, signed_on=signed_on, go_live_on=go_live_on)

    assert order.billing_start.mode == (start or {"mode": "on_signature"})["mode"]
    assert issue_dates(order) == [
        first_issue,
        date(2026, 4, 1),
        date(2026, 7, 1),
        date(2026, 10, 1),
    ]
    assert order.invoices[0].due_on == date.fromordinal(first_issue.toordinal() + 30)


def test_the_billing_start_clause_is_kept_in_the_order():
    order = order_of(clauses=[clause("billing_start", mode="fixed_date", date="2026-02-01")])

    assert order.billing_start == BillingStart(mode="fixed_date", date=date(2026, 2, 1))


def test_on_go_live_billing_waits_while_the_go_live_date_is_unknown():
    order = order_of(clauses=[clause("billing_start", mode="on_go_live")])

    assert order.go_live_on is None
    assert len(order.invoices) == 4
    assert issue_dates(order) == [None] * 4
    assert [i.due_on for i in order.invoices] == [None] * 4


def test_no_invoice_is_issued_before_a_late_go_live():
    monthly = replace(TERMS, billing_frequency="monthly")
    order = order_of(
        monthly,
        clauses=[clause("billing_start", mode="on_go_live")],
        go_live_on=date(2026, 4, 15),
    )

    # January to April are invoiced together on go-live, then each month on its first day.
    assert issue_dates(order)[:6] == [date(2026, 4, 15)] * 4 + [date(2026, 5, 1), date(2026, 6, 1)]


def test_free_months_are_not_invoiced():
    monthly = replace(TERMS, billing_frequency="monthly", free_months=2)
    order = order_of(monthly)

    assert order.free_months == 2
    assert len(order.invoices) == 10
    assert order.invoices[0].period_start == date(2026, 3, 1)
    assert order.invoices[0].index == 1
    assert {inv.total for inv in order.invoices} == {Decimal("393.75")}
    assert order.tcv == sum(inv.total for inv in order.invoices) == Decimal("3937.50")


def test_a_partly_free_period_bills_only_its_paid_months():
    order = order_of(replace(TERMS, free_months=2))

    assert billed(order)[0] == [("line-1", Decimal("393.75"))]  # March only
    assert order.invoices[0].period_start == date(2026, 1, 1)


def test_a_wholly_free_first_period_still_bills_its_one_time_fee():
    order = order_of(replace(TERMS, free_months=3), lines=[SEATS, ONBOARDING])

    # The free quarter's seats are no invoice line: its invoice holds the onboarding fee only.
    assert billed(order)[0] == [("line-2", Decimal("4500.00"))]
    assert billed(order)[1] == [("line-1", Decimal("1181.25"))]
    assert len(order.invoices) == 4


def test_a_ramp_bills_each_year_at_its_own_lines():
    year_two = replace(SEATS, key="seats-y2", quantity=Decimal("20"), segment_index=2)
    order = order_of(
        replace(TERMS, term_months=24, billing_frequency="annual"), lines=[SEATS, year_two]
    )

    assert [(line.key, line.segment) for line in order.lines] == [("line-1", 1), ("line-2", 2)]
    assert billed(order) == [
        [("line-1", Decimal("4725.00"))],
        [("line-2", Decimal("9450.00"))],
    ]
    assert [(s.index, s.start, s.total) for s in order.ramp] == [
        (1, date(2026, 1, 1), Decimal("4725.00")),
        (2, date(2027, 1, 1), Decimal("9450.00")),
    ]


def test_an_uplift_compounds_on_its_dates():
    terms = replace(TERMS, term_months=36, billing_frequency="annual", uplift_pct=Decimal("5"))
    order = order_of(terms)

    assert order.uplift.pct == 5
    assert order.uplift.every_months == 12
    assert order.uplift.takes_effect_on == (date(2027, 1, 1), date(2028, 1, 1))
    # 4,725.00, then × 1.05, then × 1.05² = 5,209.3125.
    assert [i.total for i in order.invoices] == [
        Decimal("4725.00"),
        Decimal("4961.25"),
        Decimal("5209.31"),
    ]


def test_a_price_lock_skips_the_uplifts_inside_it():
    terms = replace(
        TERMS,
        term_months=36,
        billing_frequency="annual",
        uplift_pct=Decimal("5"),
        price_lock_months=13,
    )
    order = order_of(terms)

    assert order.price_lock_months == 13
    assert order.uplift.takes_effect_on == (date(2028, 1, 1),)
    # Skipped, not caught up: year 3 is one uplift above year 1.
    assert [i.total for i in order.invoices] == [
        Decimal("4725.00"),
        Decimal("4725.00"),
        Decimal("4961.25"),
    ]


def test_a_calendar_stub_is_prorated_by_days():
    aligned = replace(
        TERMS, start_date=date(2026, 1, 15), billing_frequency="monthly", align_to_calendar=True
    )
    order = order_of(aligned, signed_on=date(2026, 1, 15))

    first = order.invoices[0]
    assert (first.period_start, first.last_day) == (date(2026, 1, 15), date(2026, 1, 31))
    # 17 of January's 31 days of 393.75 = 215.927… → 215.93.
    assert first.total == Decimal("215.93")
    assert first.issue_on == date(2026, 1, 15)
    assert order.invoices[1].period_start == date(2026, 2, 1)
    assert len(order.invoices) == 13
    assert order.service_end == date(2027, 2, 1)
    assert sum(i.total for i in order.invoices) == order.tcv


def test_uplift_dates_count_from_the_calendar_boundary_after_a_stub():
    aligned = replace(
        TERMS,
        start_date=date(2026, 1, 15),
        term_months=24,
        billing_frequency="monthly",
        align_to_calendar=True,
        uplift_pct=Decimal("3"),
    )
    order = order_of(aligned)

    assert order.uplift.takes_effect_on == (date(2027, 2, 1),)
    by_start = {i.period_start: i.total for i in order.invoices}
    assert by_start[date(2027, 1, 1)] == Decimal("393.75")
    assert by_start[date(2027, 2, 1)] == Decimal("405.56")  # 393.75 × 1.03 = 405.5625


# --- refusals ---------------------------------------------------------------------------------


def test_a_tampered_tcv_is_refused():
    snapshot = contract_snapshot(TERMS, [SEATS])
    changed = tampered(snapshot, lambda d: d["pricing"].update(tcv="4725.01"))

    with pytest.raises(OrderMismatch) as refused:
        canonical_order(changed, signed_on=SIGNED_ON)

    assert refused.value.differences == ("its TCV is 4725.01 USD but re-priced is 4725.00 USD",)
    assert "006T00000000001-2" in str(refused.value)


def test_a_period_total_the_engine_no_longer_gives_is_refused():
    snapshot = contract_snapshot(TERMS, [SEATS])

    def cent_more(data):
        data["pricing"]["periods"][1]["total"] = "1181.26"

    with pytest.raises(OrderMismatch) as refused:
        canonical_order(tampered(snapshot, cent_more), signed_on=SIGNED_ON)

    assert refused.value.differences == (
        "period 2 is 2026-04-01 – 2026-06-30 1181.26 USD "
        "but re-priced is 2026-04-01 – 2026-06-30 1181.25 USD",
    )


def test_a_price_change_since_signature_is_refused_not_billed():
    # As if the line's unit price were changed after signature while the totals stayed.
    snapshot = contract_snapshot(TERMS, [SEATS])
    repriced = tampered(snapshot, lambda d: d["lines"][0].update(net_unit_price="39.38"))

    with pytest.raises(OrderMismatch) as refused:
        canonical_order(repriced, signed_on=SIGNED_ON)

    differences = refused.value.differences
    assert (
        "line-1 (SKU-seats) term total is 4725.00 USD but re-priced is 4725.60 USD" in differences
    )
    assert "its TCV is 4725.00 USD but re-priced is 4725.60 USD" in differences
    assert len([d for d in differences if d.startswith("period ")]) == 4


def test_a_different_number_of_periods_is_refused():
    snapshot = contract_snapshot(TERMS, [SEATS])
    fewer = tampered(snapshot, lambda d: d["pricing"]["periods"].pop())

    with pytest.raises(OrderMismatch) as refused:
        canonical_order(fewer, signed_on=SIGNED_ON)

    assert refused.value.differences[0] == "it has 3 billing periods but re-priced has 4"


def test_a_billing_frequency_clause_against_the_schedule_is_refused():
    with pytest.raises(OrderMismatch) as refused:
        order_of(clauses=[clause("billing_frequency", interval="annual")])

    assert refused.value.differences == (
        "its billing_frequency clause says annual but its schedule is quarterly",
    )
    # One that says what the schedule does is fine.
    assert order_of(clauses=[clause("billing_frequency", interval="quarterly")]).invoices


@pytest.mark.parametrize(
    ("clauses", "difference"),
    [
        (
            [clause("payment_terms", net_days=30), clause("payment_terms", net_days=60)],
            "it has two payment_terms clauses",
        ),
        (
            [clause("billing_start", mode="fixed_date")],
            "its billing_start clause cannot be read (params: Value error, "
            "a fixed_date billing start needs a date)",
        ),
        (
            [clause("payment_method", method="cash")],
            "its payment_method clause cannot be read (method: Input should be 'ach', 'wire', "
            "'card' or 'check')",
        ),
    ],
)
def test_unreadable_or_contradicting_billing_clauses_are_refused(clauses, difference):
    with pytest.raises(OrderMismatch) as refused:
        order_of(clauses=clauses)

    assert refused.value.differences == (difference,)


def test_a_contract_the_engine_cannot_price_is_refused():
    snapshot = contract_snapshot(TERMS, [SEATS])
    two_free_periods = tampered(
        snapshot,
        lambda d: d["clauses"].extend([clause("free_period", months=1)] * 2),
    )

    with pytest.raises(OrderMismatch) as refused:
        canonical_order(two_free_periods, signed_on=SIGNED_ON)

    assert refused.value.differences == (
        "it cannot be priced again: the contract has two free_period clauses: keep one",
    )


def test_a_contract_drafted_before_line_term_totals_still_bills():
    snapshot = contract_snapshot(TERMS, [SEATS, ONBOARDING])
    legacy = tampered(snapshot, lambda d: [line.pop("term_total") for line in d["lines"]])

    order = canonical_order(legacy, signed_on=SIGNED_ON)

    assert [line.term_total for line in order.lines] == [Decimal("4725.00"), Decimal("4500.00")]


# --- JSON -------------------------------------------------------------------------------------


def test_the_order_as_json_is_plain_and_in_field_order():
    order = order_of(
        lines=[SEATS, ONBOARDING],
        clauses=[clause("billing_start", mode="on_go_live")],
    )

    data = order_to_json(order)

    assert list(data) == [f.name for f in fields(CanonicalOrder)]
    assert data["contract_version"] == 2
    assert data["tcv"] == "9225.00"
    assert data["signed_on"] == "2025-12-15"
    assert data["go_live_on"] is None
    assert data["uplift"] is None
    assert data["billing_start"] == {"mode": "on_go_live", "date": None, "days": None}
    assert data["lines"][0]["net_unit_amount"] == "39.375000000000"
    assert data["lines"][0]["quantity"] == "10.0000"
    assert data["invoices"][0]["lines"][1] == {
        "line_key": "line-2",
        "sku": "SKU-onboarding",
        "description": "Product onboarding",
        "quantity": "1.0000",
        "amount": "4500.00",
    }
    assert data["invoices"][0]["issue_on"] is None
    assert json.loads(json.dumps(data)) == data
    assert diff_records(data, json.loads(json.dumps(data))) == []


def test_an_uplift_and_dates_are_written_as_text():
    order = order_of(replace(TERMS, term_months=24, uplift_pct=Decimal("3.5")))

    data = order_to_json(order)

    assert data["uplift"] == {"pct": "3.5", "every_months": 12, "takes_effect_on": ["2027-01-01"]}
    assert data["invoices"][0]["period_end"] == "2026-04-01"
    assert data["invoices"][0]["due_on"] == "2026-01-31"


# --- against a real contract -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_real_executed_contract_snapshot_bills_as_drafted(
    pipeline_user, django_capture_on_commit_callbacks, settings, tmp_path
):
    from tests.dealdesk.pricing_deals import create_free_period_deal

    settings.MEDIA_ROOT = tmp_path / "media"
    with django_capture_on_commit_callbacks(execute=True):
        deal = create_free_period_deal(pipeline_user)
    snapshot = deal.contract_versions.get().typed_snapshot

    order = canonical_order(snapshot, signed_on=date(2026, 12, 20))

    # 3,825.00 a month for 12 months from 2027-01-01, first 2 months free, net 30.
    assert order.tcv == Decimal("38250.00")
    assert order.free_months == 2
    assert len(order.invoices) == 10
    assert order.invoices[0].period_start == date(2027, 3, 1)
    assert order.invoices[0].issue_on == date(2027, 3, 1)
    assert order.invoices[0].due_on == date(2027, 3, 31)
    assert [line.sku for line in order.lines] == ["PLAT-MONTHLY"]
    assert {line.line_key for inv in order.invoices for line in inv.lines} == {"line-1"}
    assert order.billing_entity.legal_name == "Fjord Freight AS"
