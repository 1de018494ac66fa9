"""Properties of the pricing engine over generated deals (hypothesis).

Exact values are recomputed here month by month with `Fraction`, straight from the money
rules, so the engine's grouped Decimal arithmetic is checked against a naive reference.
"""

import math
from dataclasses import replace
from datetime import date
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from dealdesk.pricing import (
    DealTerms,
    LineInput,
    PricingResult,
    add_months,
    minor_unit,
    net_unit_price,
    price_deal,
    prorate,
)

# Modest example counts: the whole file should run in a few seconds.
FAST = settings(max_examples=60, deadline=None)
SLOW = settings(max_examples=30, deadline=None)

INTERVAL_MONTHS = {"month": 1, "quarter": 3, "year": 12}
PERIOD_MONTHS = {"monthly": 1, "quarterly": 3, "semiannual": 6, "annual": 12}


def money(low: int, high: int, places: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=low, max_value=high, places=places, allow_nan=False, allow_infinity=False
    )


@st.composite
def deals(
    draw: st.DrawFn, *, discount: str = "any", free: bool = True
) -> tuple[DealTerms, list[LineInput]]:
    """A deal; `discount` is "any" (net drawn freely, markups too), "ranged" or "none";
    `free`: whether it may have a free period (a concession beside the discount)."""
    term = draw(st.integers(min_value=1, max_value=60))
    terms = DealTerms(
        currency=draw(st.sampled_from(["USD", "EUR", "JPY", "KWD"])),
        start_date=draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))),
        term_months=term,
        billing_frequency=draw(st.sampled_from([*PERIOD_MONTHS, "upfront"])),
        uplift_pct=draw(st.sampled_from([Decimal(0), Decimal(3), Decimal("7.5")])),
        # Compounding monthly for years would outgrow the engine's 60 working digits and
        # "exact" would stop being exact; contracts uplift yearly or half-yearly.
        uplift_every_months=draw(st.sampled_from([6, 12, 24])),
        align_to_calendar=draw(st.booleans()),
        free_months=draw(st.integers(min_value=0, max_value=min(term, 24))) if free else 0,
        price_lock_months=draw(st.sampled_from([0, 0, 1, 12, 18, 24, 36])),
    )
    segments = math.ceil(term / 12)
    lines = []
    for n in range(draw(st.integers(min_value=0, max_value=5))):
        kind = draw(st.sampled_from(["subscription", "usage", "one_time"]))
        list_price = draw(money(0, 50_000, places=draw(st.integers(0, 6))))
        if discount == "none":
            net = net_unit_price(list_price, Decimal(0))
        elif discount == "ranged":
            net = net_unit_price(list_price, draw(money(0, 100, places=4)))
        else:
            net = draw(money(0, 50_000, places=draw(st.integers(0, 6))))
        lines.append(
            LineInput(
                key=f"line-{n}",
                kind=kind,
                billing_interval="one_time"
                if kind == "one_time"
                else draw(st.sampled_from(list(INTERVAL_MONTHS))),
                quantity=draw(money(0, 10_000, places=draw(st.integers(0, 4)))),
                list_unit_price=list_price,
                net_unit_price=net,
                segment_index=draw(st.integers(min_value=1, max_value=segments)),
            )
        )
    return terms, lines


def round_half_up(value: Fraction, currency: str) -> Decimal:
    places = minor_unit(currency)
    scaled = value * 10**places
    units = math.floor(abs(scaled) + Fraction(1, 2))
    return Decimal(units if scaled >= 0 else -units).scaleb(-places)


def service_anchor(terms: DealTerms) -> date:
    """Where service months are counted from: the start, or the first calendar boundary
    after it when billing is aligned to the calendar."""
    start = terms.start_date
    if not terms.align_to_calendar or terms.billing_frequency == "upfront":
        return start
    months = PERIOD_MONTHS[terms.billing_frequency]
    into = (start.month - 1) % months
    if start.day == 1 and into == 0:
        return start
    return add_months(start.replace(day=1), months - into)


def uplifts_by(terms: DealTerms, month: int) -> int:
    """Uplift dates (every `uplift_every_months` months) from the price lock's end to `month`."""
    every = terms.uplift_every_months
    return len([d for d in range(every, month + 1, every) if d >= terms.price_lock_months])


def exact_by_period(
    terms: DealTerms, lines: list[LineInput], line: LineInput, result: PricingResult
) -> list[Fraction]:
    """The line's exact charge in each period of `result`, from the rules, month by month."""
    period_len = (
        terms.term_months
        if terms.billing_frequency == "upfront"
        else PERIOD_MONTHS[terms.billing_frequency]
    )
    anchor = service_anchor(terms)
    stub = anchor != terms.start_date
    values = [Fraction(0)] * len(result.periods)
    base = Fraction(line.quantity) * Fraction(line.net_unit_price)
    if line.kind == "one_time":
        first_month = add_months(anchor, (line.segment_index - 1) * 12)
        for i, period in enumerate(result.periods):
            if period.start <= first_month < period.end or (i == 0 and line.segment_index == 1):
                values[i] = base
                return values
        raise AssertionError("no period holds the line's segment")

    rate = base / INTERVAL_MONTHS[line.billing_interval]
    if stub and line.segment_index == 1:
        end = anchor
        start = add_months(end, -period_len)
        values[0] = (
            rate * period_len * (end - terms.start_date).days / (end - start).days
        )  # a day-count share of a full period
    last_segment = max((ln.segment_index for ln in lines if ln.kind != "one_time"), default=1)
    step = 1 + Fraction(terms.uplift_pct) / 100
    for month in range(terms.term_months):
        if min(month // 12 + 1, last_segment) != line.segment_index:
            continue
        month_start = add_months(anchor, month)
        (i,) = [i for i, p in enumerate(result.periods) if p.start <= month_start < p.end]
        if month >= terms.free_months:  # the free period's months are billed at zero
            values[i] += rate * step ** uplifts_by(terms, month)
    return values


def all_charges(result: PricingResult) -> list[Decimal]:
    return [charge.amount for period in result.periods for charge in period.charges]


@FAST
@given(deals())
def test_charges_over_the_term_sum_to_tcv(deal):
    result = price_deal(*deal)

    assert sum(all_charges(result)) == result.tcv
    assert sum(segment.total for segment in result.ramp) == result.tcv
    assert sum(result.term_totals.values()) == result.tcv


@SLOW
@given(deals())
def test_each_line_bills_its_rounded_exact_value(deal):
    terms, lines = deal
    result = price_deal(terms, lines)
    unit = Decimal(1).scaleb(-minor_unit(terms.currency))

    for line in lines:
        exact = exact_by_period(terms, lines, line, result)
        charged = [
            sum((c.amount for c in p.charges if c.line_key == line.key), Decimal(0))
            for p in result.periods
        ]
        assert sum(charged) == round_half_up(sum(exact), terms.currency), line
        # Cumulative rounding moves no charge more than one minor unit from its exact value.
        for amount, value in zip(charged, exact, strict=True):
            assert abs(Fraction(amount) - value) <= Fraction(unit), (line, amount, value)


@FAST
@given(deals())
def test_every_amount_is_in_minor_units(deal):
    terms, lines = deal
    result = price_deal(terms, lines)
    exponent = -minor_unit(terms.currency)

    figures = [result.tcv, result.list_tcv, result.acv, result.arr, result.exit_arr]
    figures += [result.first_year_value, result.lines_total, *result.line_totals.values()]
    figures += [p.total for p in result.periods] + [s.total for s in result.ramp]
    for amount in all_charges(result) + figures:
        assert amount.as_tuple().exponent == exponent, amount


@FAST
@given(
    amount=money(0, 1_000_000, places=4),
    period_start=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    days=st.integers(min_value=1, max_value=400),
    days_before=st.integers(min_value=0, max_value=400),
)
def test_a_full_period_prorates_to_the_full_price(amount, period_start, days, days_before):
    period_end = date.fromordinal(period_start.toordinal() + days)
    earlier = date.fromordinal(period_start.toordinal() - days_before)

    assert prorate(amount, period_start, period_end, period_start) == amount
    assert prorate(amount, period_start, period_end, earlier) == amount


@FAST
@given(deals(discount="none", free=False))
def test_no_discount_means_net_is_list_and_tcv_is_list_tcv(deal):
    terms, lines = deal
    result = price_deal(terms, lines)

    assert all(line.net_unit_price == line.list_unit_price for line in lines)
    assert result.effective_discount_pct == 0
    assert result.tcv == result.list_tcv


@FAST
@given(deals(discount="ranged"))
def test_discounts_never_raise_tcv_above_list(deal):
    result = price_deal(*deal)

    assert result.tcv <= result.list_tcv
    assert 0 <= result.effective_discount_pct <= 100


@FAST
@given(deals())
def test_period_totals_are_the_sums_of_their_charges(deal):
    result = price_deal(*deal)

    for period in result.periods:
        assert period.total == sum((c.amount for c in period.charges), Decimal(0))


@FAST
@given(deals())
def test_periods_are_contiguous_and_cover_the_service(deal):
    terms, _ = deal
    result = price_deal(*deal)
    periods = result.periods

    assert [p.index for p in periods] == list(range(len(periods)))
    assert all(p.start < p.end for p in periods)
    assert not any(p.prorated for p in periods[1:])
    # Every period is an invoice: something is charged in it (if only zero, when free).
    assert all(p.charges for p in periods)
    segments = {line.segment_index for line in deal[1] if line.kind != "one_time"}
    if segments:  # the last recurring segment bills to the end of term
        assert periods[-1].end == result.service_end
    if segments and segments == set(range(1, max(segments) + 1)):  # no year bills nothing
        assert periods[0].start == terms.start_date
        for earlier, later in pairwise(periods):
            assert earlier.end == later.start
    # The ramp covers the same span, segment after segment.
    assert result.ramp[0].start == terms.start_date
    assert result.ramp[-1].end == result.service_end
    for earlier, later in pairwise(result.ramp):
        assert earlier.end == later.start


@FAST
@given(deals())
def test_free_months_bill_no_recurring_charge(deal):
    terms, lines = deal
    result = price_deal(terms, lines)
    recurring = {line.key for line in lines if line.kind != "one_time"}
    anchor = service_anchor(terms)
    free_end = add_months(anchor, terms.free_months)

    for period in result.periods:
        if anchor <= period.start and period.end <= free_end:
            assert period.free_months == len(
                [
                    m
                    for m in range(terms.term_months)
                    if period.start <= add_months(anchor, m) < period.end
                ]
            )
            assert all(c.amount == 0 for c in period.charges if c.line_key in recurring)
        elif period.start >= free_end or period.prorated:
            assert period.free_months == 0


@FAST
@given(deals())
def test_every_figure_is_a_decimal_never_a_float(deal):
    result = price_deal(*deal)

    figures = [result.tcv, result.list_tcv, result.acv, result.arr, result.exit_arr]
    figures += [result.first_year_value, result.effective_discount_pct]
    figures += [*result.line_totals.values(), *result.line_year_values.values()]
    figures += [*result.term_totals.values(), *all_charges(result)]
    figures += [p.total for p in result.periods] + [s.total for s in result.ramp]
    assert all(type(figure) is Decimal for figure in figures)


@FAST
@given(deals())
def test_a_free_period_is_a_concession_against_list(deal):
    terms, lines = deal
    with_free = price_deal(terms, lines)
    without = price_deal(replace(terms, free_months=0), lines)

    assert with_free.list_tcv == without.list_tcv  # list value is never free
    assert with_free.tcv <= without.tcv or any(ln.net_unit_price < 0 for ln in lines)
    assert with_free.line_totals == without.line_totals  # the CRM's TotalPrice is unchanged
