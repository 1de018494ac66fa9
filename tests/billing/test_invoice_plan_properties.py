"""Properties of the invoice plan over generated contracts (hypothesis): 1,150 of them a run.

Each contract is priced by the engine and written as a ContractSnapshot, as drafting does
(tests/billing/test_canonical_order.contract_snapshot), then billed from the snapshot alone:
terms of 1 to 60 months billed monthly to upfront, ramps, uplifts, price locks, free months,
mid-month starts with a prorated calendar stub, one-time fees, in USD, EUR, JPY (no
decimals) and KWD, BHD (three).
"""

import dataclasses
import json
import math
import typing
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from billing.canonical_order import CanonicalOrder, canonical_order, order_to_json
from billing.diff import diff_records, from_minor_units, minor_units
from dealdesk.pricing import DealTerms, LineInput, add_months, minor_unit
from tests.billing.snapshots import clause, contract_snapshot

CURRENCIES = ["USD", "EUR", "JPY", "KWD", "BHD"]
FREQUENCIES = ["monthly", "quarterly", "semiannual", "annual", "upfront"]
PERIOD_MONTHS = {"monthly": 1, "quarterly": 3, "semiannual": 6, "annual": 12}


def money(high: int, places: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=0, max_value=high, places=places, allow_nan=False, allow_infinity=False
    )


@st.composite
def billing_starts(draw: st.DrawFn) -> dict[str, Any] | None:
    mode = draw(
        st.sampled_from([None, "on_signature", "fixed_date", "days_after_signature", "on_go_live"])
    )
    if mode is None:
        return None
    params: dict[str, Any] = {"mode": mode}
    if mode == "fixed_date":
        params["date"] = draw(st.dates(date(2019, 10, 1), date(2031, 3, 31))).isoformat()
    if mode == "days_after_signature":
        params["days"] = draw(st.integers(0, 120))
    return params


@st.composite
def contracts(draw: st.DrawFn) -> tuple[CanonicalOrder, DealTerms]:
    """An executed contract's order, and the terms it was priced with."""
    term = draw(st.integers(1, 60))
    terms = DealTerms(
        currency=draw(st.sampled_from(CURRENCIES)),
        start_date=draw(st.dates(date(2020, 1, 1), date(2030, 12, 31))),
        term_months=term,
        billing_frequency=draw(st.sampled_from(FREQUENCIES)),
        uplift_pct=draw(st.sampled_from([Decimal(0), Decimal(3), Decimal("7.5"), Decimal("4.25")])),
        uplift_every_months=draw(st.sampled_from([6, 12, 24])),
        align_to_calendar=draw(st.booleans()),
        free_months=draw(st.integers(0, min(term, 24))),
        price_lock_months=draw(st.sampled_from([0, 0, 1, 12, 18, 24, 36])),
    )
    lines = []
    for n in range(draw(st.integers(1, 6))):
        one_time = draw(st.booleans()) and draw(st.booleans())  # a quarter of them
        lines.append(
            LineInput(
                key=f"l{n}",
                kind="one_time" if one_time else draw(st.sampled_from(["subscription", "usage"])),
                billing_interval="one_time"
                if one_time
                else draw(st.sampled_from(["month", "quarter", "year"])),
                quantity=draw(money(10_000, places=draw(st.integers(0, 4)))) or Decimal(1),
                list_unit_price=Decimal("50000"),
                net_unit_price=draw(money(50_000, places=draw(st.integers(0, 6)))),
                segment_index=draw(st.integers(1, math.ceil(term / 12))),
            )
        )
    clauses = []
    if start := draw(billing_starts()):
        clauses.append(clause("billing_start", **start))
    if draw(st.booleans()):
        clauses.append(clause("payment_terms", net_days=draw(st.integers(0, 90))))
    if draw(st.booleans()):
        clauses.append(
            clause("purchase_order_required", po_number=draw(st.sampled_from([None, "PO-1"])))
        )
    snapshot = contract_snapshot(
        terms, lines, clauses=clauses, payment_terms=draw(st.sampled_from([0, 30, 45, 60]))
    )
    signed_on = terms.start_date + timedelta(days=draw(st.integers(-60, 60)))
    go_live_on = draw(st.none() | st.dates(date(2019, 11, 1), date(2031, 6, 30)))
    return canonical_order(snapshot, signed_on=signed_on, go_live_on=go_live_on), terms


def service_anchor(terms: DealTerms) -> date:
    """Where service months count from: the start, or the calendar boundary after it when
    billing is aligned to the calendar (docs: dealdesk/pricing.py)."""
    start = terms.start_date
    if not terms.align_to_calendar or terms.billing_frequency == "upfront":
        return start
    months = PERIOD_MONTHS[terms.billing_frequency]
    into = (start.month - 1) % months
    if start.day == 1 and into == 0:
        return start
    return add_months(start.replace(day=1), months - into)


def walk(value: Any) -> list[Any]:
    """Every leaf value of the order's dataclasses and tuples."""
    if dataclasses.is_dataclass(value):
        return [leaf for f in dataclasses.fields(value) for leaf in walk(getattr(value, f.name))]
    if isinstance(value, tuple):
        return [leaf for item in value for leaf in walk(item)]
    return [value]


@settings(max_examples=400, deadline=None)
@given(contracts())
def test_the_invoices_add_up_to_the_tcv_to_the_minor_unit(contract):
    order, _ = contract

    assert sum((invoice.total for invoice in order.invoices), Decimal(0)) == order.tcv
    for invoice in order.invoices:
        assert invoice.total == sum(line.amount for line in invoice.lines)
    for line in order.lines:
        charged = [
            il.amount for inv in order.invoices for il in inv.lines if il.line_key == line.key
        ]
        assert sum(charged, Decimal(0)) == line.term_total, line
    assert [invoice.index for invoice in order.invoices] == list(range(1, len(order.invoices) + 1))


@settings(max_examples=300, deadline=None)
@given(contracts())
def test_every_invoice_line_is_an_order_line_in_whole_minor_units_and_no_float(contract):
    order, _ = contract
    keys = {line.key for line in order.lines}
    places = minor_unit(order.currency)

    for invoice in order.invoices:
        assert invoice.currency == order.currency
        for line in invoice.lines:
            assert line.line_key in keys
            assert -line.amount.as_tuple().exponent <= places, line.amount
            assert from_minor_units(minor_units(line.amount, order.currency), order.currency) == (
                line.amount
            )
        assert -invoice.total.as_tuple().exponent <= places
    leaves = walk(order)
    assert not [leaf for leaf in leaves if isinstance(leaf, float)]
    invoice_lines = [line for invoice in order.invoices for line in invoice.lines]
    items = [order, order.uplift, *order.lines, *order.ramp, *order.invoices, *invoice_lines]
    for item in filter(None, items):
        for name, hint in typing.get_type_hints(type(item)).items():
            if hint is Decimal:
                assert type(getattr(item, name)) is Decimal, (type(item).__name__, name)


@settings(max_examples=200, deadline=None)
@given(contracts())
def test_free_months_are_never_charged(contract):
    order, terms = contract
    anchor = service_anchor(terms)
    free_until = add_months(anchor, terms.free_months)

    for invoice in order.invoices:
        assert invoice.total > 0
        assert all(line.amount > 0 for line in invoice.lines)
        if anchor <= invoice.period_start and invoice.period_end <= free_until:
            # A wholly free period is an invoice only for a one-time fee.
            charged = {line.line_key for line in invoice.lines}
            assert all(line.one_time for line in order.lines if line.key in charged), invoice


@settings(max_examples=150, deadline=None)
@given(contracts())
def test_issue_and_due_dates_follow_the_billing_start_and_the_payment_terms(contract):
    order, _ = contract
    if not order.invoices:
        return
    start = order.billing_start
    first = order.invoices[0]
    expected = {
        "on_signature": max(order.signed_on, first.period_start),
        "fixed_date": start.date,
        "days_after_signature": order.signed_on + timedelta(days=start.days or 0),
        "on_go_live": order.go_live_on,
    }[start.mode]

    assert first.issue_on == expected
    for invoice in order.invoices:
        if expected is None:
            assert invoice.issue_on is invoice.due_on is None
            continue
        assert invoice.issue_on >= expected
        if invoice.index > 1:
            assert invoice.issue_on == max(invoice.period_start, expected)
        assert invoice.due_on == invoice.issue_on + timedelta(days=order.payment_terms)
    issued = [invoice.issue_on for invoice in order.invoices]
    assert issued == sorted(issued, key=lambda day: day or date.min)


@settings(max_examples=100, deadline=None)
@given(contracts())
def test_the_order_survives_json_and_diffs_empty_with_itself(contract):
    order, _ = contract
    data = order_to_json(order)
    read_back = json.loads(json.dumps(data))

    assert read_back == data
    assert diff_records(data, read_back) == []
