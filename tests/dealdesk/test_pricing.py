"""Worked examples for the pricing engine.

Every expected figure below was worked out by hand from the money rules (the arithmetic is in
the comments), not copied from the engine's output.
"""

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest

from dealdesk.pricing import (
    DealTerms,
    LineInput,
    PricingError,
    PricingResult,
    add_months,
    discount_pct_of,
    minor_unit,
    net_unit_price,
    price_deal,
    prorate,
    round_money,
)

D = Decimal


def line(
    key: str,
    net: str,
    *,
    list_price: str | None = None,
    quantity: str = "1",
    kind: str = "subscription",
    interval: str = "year",
    segment: int = 1,
) -> LineInput:
    return LineInput(
        key=key,
        kind=kind,
        billing_interval="one_time" if kind == "one_time" else interval,
        quantity=D(quantity),
        list_unit_price=D(list_price if list_price is not None else net),
        net_unit_price=D(net),
        segment_index=segment,
    )


BASE_TERMS = DealTerms(
    currency="USD", start_date=date(2025, 1, 1), term_months=12, billing_frequency="monthly"
)


def deal_terms(**overrides: object) -> DealTerms:
    return replace(BASE_TERMS, **overrides)


def charges_of(result: PricingResult, key: str) -> list[Decimal]:
    return [c.amount for p in result.periods for c in p.charges if c.line_key == key]


def period_table(result: PricingResult) -> list[tuple[date, date, Decimal]]:
    return [(p.start, p.end, p.total) for p in result.periods]


def test_single_product_billed_annually():
    # 10 seats at 1200.00/year list, 1080.00 net (10 % off), 24 months billed annually:
    # each year 10 * 1080 = 10800.00; list 10 * 1200 * 2 = 24000.00.
    result = price_deal(
        deal_terms(start_date=date(2025, 3, 1), term_months=24, billing_frequency="annual"),
        [line("seats", "1080.00", list_price="1200.00", quantity="10")],
    )

    assert period_table(result) == [
        (date(2025, 3, 1), date(2026, 3, 1), D("10800.00")),
        (date(2026, 3, 1), date(2027, 3, 1), D("10800.00")),
    ]
    assert not any(p.prorated for p in result.periods)
    assert result.line_totals == {"seats": D("10800.00")}
    assert result.lines_total == D("10800.00")
    assert result.tcv == D("21600.00")
    assert result.list_tcv == D("24000.00")
    assert result.acv == D("10800.00")  # 21600 * 12 / 24
    assert result.arr == D("10800.00")
    assert result.exit_arr == D("10800.00")
    assert result.first_year_value == D("10800.00")
    assert result.effective_discount_pct == D("10.00")
    assert result.service_end == date(2027, 3, 1)
    (segment,) = result.ramp
    assert (segment.index, segment.start, segment.end) == (1, date(2025, 3, 1), date(2027, 3, 1))
    assert segment.monthly_recurring == D(900)  # 10800 / 12
    assert segment.total == D("21600.00")


def test_yearly_price_billed_monthly_rounds_cumulatively():
    # 1000.00/year = 83.333.../month. Cumulative exact after k months is 83.333 * k; its
    # rounding is 83.33, 166.67, 250.00, 333.33, 416.67, 500.00, ... 1000.00, so the
    # differences alternate 83.33 / 83.34 and add up to exactly 1000.00.
    result = price_deal(deal_terms(), [line("platform", "1000.00")])

    assert charges_of(result, "platform") == [D("83.33"), D("83.34"), D("83.33")] * 4
    assert result.tcv == D("1000.00")
    assert [p.start for p in result.periods] == [date(2025, m, 1) for m in range(1, 13)]
    assert result.periods[-1].end == date(2026, 1, 1)
    assert result.line_totals == {"platform": D("1000.00")}


def test_three_year_ramp_billed_annually():
    # Year 1: 10 * 1000 = 10000; year 2: 20 * 950 = 19000; year 3: 30 * 900 = 27000.
    # List: (10 + 20 + 30) * 1000 = 60000. ACV 56000 * 12 / 36 = 18666.666... -> 18666.67.
    # Discount (1 - 56000 / 60000) * 100 = 6.666... -> 6.67.
    result = price_deal(
        deal_terms(term_months=36, billing_frequency="annual"),
        [
            line("y1", "1000", list_price="1000", quantity="10", segment=1),
            line("y2", "950", list_price="1000", quantity="20", segment=2),
            line("y3", "900", list_price="1000", quantity="30", segment=3),
        ],
    )

    assert [[(c.line_key, c.amount) for c in p.charges] for p in result.periods] == [
        [("y1", D("10000.00"))],
        [("y2", D("19000.00"))],
        [("y3", D("27000.00"))],
    ]
    assert result.tcv == D("56000.00")
    assert result.list_tcv == D("60000.00")
    assert result.acv == D("18666.67")
    assert result.arr == D("10000.00")
    assert result.exit_arr == D("27000.00")
    assert result.first_year_value == D("10000.00")
    assert result.effective_discount_pct == D("6.67")
    assert [(s.index, s.start, s.end, s.total) for s in result.ramp] == [
        (1, date(2025, 1, 1), date(2026, 1, 1), D("10000.00")),
        (2, date(2026, 1, 1), date(2027, 1, 1), D("19000.00")),
        (3, date(2027, 1, 1), date(2028, 1, 1), D("27000.00")),
    ]
    assert [s.monthly_recurring for s in result.ramp] == [
        D(10000) / 12,
        D(19000) / 12,
        D(2250),
    ]


def test_last_ramp_segment_holds_to_the_end_of_term():
    # 30 months, segments 1 and 2: segment 2 (1200/year = 100/month) runs months 12..29,
    # 18 months = 1800.00, billed 1200.00 in year 2 and 600.00 in the short last period.
    result = price_deal(
        deal_terms(term_months=30, billing_frequency="annual"),
        [line("y1", "600", segment=1), line("y2", "1200", segment=2)],
    )

    assert period_table(result) == [
        (date(2025, 1, 1), date(2026, 1, 1), D("600.00")),
        (date(2026, 1, 1), date(2027, 1, 1), D("1200.00")),
        (date(2027, 1, 1), date(2027, 7, 1), D("600.00")),
    ]
    assert result.ramp[1].end == date(2027, 7, 1)
    assert result.exit_arr == D("1200.00")


def test_upfront_bills_the_whole_term_at_once():
    # 36 months upfront from Jan 31: 5 * 100/month * 36 = 18000.00 and
    # 2 * 300/quarter * 12 quarters = 7200.00; list 5 * 120 * 36 + 7200 = 28800.00.
    # ARR 12 * (500 + 200) = 8400.00; discount (1 - 25200 / 28800) * 100 = 12.50.
    result = price_deal(
        deal_terms(start_date=date(2025, 1, 31), term_months=36, billing_frequency="upfront"),
        [
            line("seats", "100", list_price="120", quantity="5", interval="month"),
            line("support", "300", quantity="2", interval="quarter"),
        ],
    )

    assert period_table(result) == [(date(2025, 1, 31), date(2028, 1, 31), D("25200.00"))]
    assert charges_of(result, "seats") == [D("18000.00")]
    assert charges_of(result, "support") == [D("7200.00")]
    assert result.list_tcv == D("28800.00")
    assert result.acv == D("8400.00")
    assert result.arr == D("8400.00")
    assert result.first_year_value == D("8400.00")
    assert result.effective_discount_pct == D("12.50")
    assert result.service_end == date(2028, 1, 31)


def test_uplift_compounds_every_twelve_months():
    # 12000/year with 7 % every 12 months: 12000, 12000 * 1.07 = 12840,
    # 12000 * 1.07**2 = 12000 * 1.1449 = 13738.80. TCV 38578.80, ACV / 3 = 12859.60.
    result = price_deal(
        deal_terms(term_months=36, billing_frequency="annual", uplift_pct=D(7)),
        [line("platform", "12000")],
    )

    assert charges_of(result, "platform") == [D("12000.00"), D("12840.00"), D("13738.80")]
    assert result.tcv == D("38578.80")
    assert result.list_tcv == D("38578.80")  # the list schedule is uplifted too
    assert result.acv == D("12859.60")
    assert result.arr == D("12000.00")
    assert result.exit_arr == D("13738.80")
    assert result.first_year_value == D("12000.00")
    assert result.effective_discount_pct == D("0.00")
    assert result.ramp[0].monthly_recurring == D(1000)  # before uplift


def test_uplift_applies_per_service_month_within_a_period():
    # 1200/year = 100/month, 10 % every 6 months, billed annually:
    # year 1 = 6 * 100 + 6 * 110 = 1260.00; year 2 = 6 * 121 + 6 * 133.1 = 1524.60.
    # Exit ARR 1200 * 1.1**3 = 1597.20.
    result = price_deal(
        deal_terms(
            term_months=24,
            billing_frequency="annual",
            uplift_pct=D(10),
            uplift_every_months=6,
        ),
        [line("platform", "1200")],
    )

    assert charges_of(result, "platform") == [D("1260.00"), D("1524.60")]
    assert result.exit_arr == D("1597.20")
    assert result.first_year_value == D("1260.00")


def test_uplift_billed_monthly_steps_on_anniversaries():
    # 1000/month, 7 %: months 0..11 at 1000.00, 12..23 at 1070.00, 24..35 at 1144.90.
    result = price_deal(
        deal_terms(term_months=36, uplift_pct=D(7)),
        [line("platform", "1000", interval="month")],
    )

    assert charges_of(result, "platform") == (
        [D("1000.00")] * 12 + [D("1070.00")] * 12 + [D("1144.90")] * 12
    )
    assert result.tcv == D("38578.80")


def test_calendar_aligned_monthly_start_mid_month_has_a_prorated_stub():
    # Start Jan 15, a 31-day month: stub [Jan 15, Feb 1) is 17 of 31 days,
    # 310.00 * 17 / 31 = 170.00, plus the implementation fee in full. Then 12 whole months
    # from Feb 1 at 310.00; service ends Feb 1 next year.
    # TCV 170 + 500 + 12 * 310 = 4390.00; ARR 12 * 310 = 3720.00.
    result = price_deal(
        deal_terms(start_date=date(2025, 1, 15), align_to_calendar=True),
        [
            line("seats", "310", interval="month"),
            line("implementation", "500", kind="one_time"),
        ],
    )

    stub, *full = result.periods
    assert (stub.start, stub.end, stub.prorated) == (date(2025, 1, 15), date(2025, 2, 1), True)
    assert [(c.line_key, c.amount) for c in stub.charges] == [
        ("seats", D("170.00")),
        ("implementation", D("500.00")),
    ]
    assert stub.total == D("670.00")
    assert len(full) == 12
    assert full[0].start == date(2025, 2, 1)
    assert all(p.total == D("310.00") and not p.prorated for p in full)
    assert result.service_end == date(2026, 2, 1)
    assert result.tcv == D("4390.00")
    assert result.acv == D("4390.00")
    assert result.arr == D("3720.00")
    assert result.first_year_value == D("4390.00")  # stub + months 0..11 + the fee
    assert result.ramp[0].start == date(2025, 1, 15)


def test_calendar_aligned_quarterly_stub_is_prorated_by_days():
    # Start Feb 10, 2025: the quarter is [Jan 1, Apr 1) = 90 days, served [Feb 10, Apr 1)
    # = 19 + 31 = 50 days: 900.00 * 50 / 90 = 500.00. Then 4 quarters from Apr 1.
    result = price_deal(
        deal_terms(
            start_date=date(2025, 2, 10), billing_frequency="quarterly", align_to_calendar=True
        ),
        [line("support", "900", interval="quarter")],
    )

    assert period_table(result) == [
        (date(2025, 2, 10), date(2025, 4, 1), D("500.00")),
        (date(2025, 4, 1), date(2025, 7, 1), D("900.00")),
        (date(2025, 7, 1), date(2025, 10, 1), D("900.00")),
        (date(2025, 10, 1), date(2026, 1, 1), D("900.00")),
        (date(2026, 1, 1), date(2026, 4, 1), D("900.00")),
    ]
    assert result.tcv == D("4100.00")


def test_calendar_alignment_on_a_boundary_or_upfront_has_no_stub():
    on_boundary = price_deal(
        deal_terms(
            start_date=date(2025, 4, 1), billing_frequency="quarterly", align_to_calendar=True
        ),
        [line("support", "900", interval="quarter")],
    )
    upfront = price_deal(
        deal_terms(
            start_date=date(2025, 1, 15), billing_frequency="upfront", align_to_calendar=True
        ),
        [line("support", "900", interval="quarter")],
    )

    assert on_boundary.periods[0].start == date(2025, 4, 1)
    assert not any(p.prorated for p in on_boundary.periods)
    assert period_table(upfront) == [(date(2025, 1, 15), date(2026, 1, 15), D("3600.00"))]


def test_anniversary_periods_clamp_to_month_end_from_the_start_date():
    # Each period starts at start + k months (not the previous end + 1 month), so Jan 31
    # gives Feb 28, then Mar 31 again.
    result = price_deal(
        deal_terms(start_date=date(2025, 1, 31), term_months=3),
        [line("seats", "10", interval="month")],
    )

    assert [(p.start, p.end) for p in result.periods] == [
        (date(2025, 1, 31), date(2025, 2, 28)),
        (date(2025, 2, 28), date(2025, 3, 31)),
        (date(2025, 3, 31), date(2025, 4, 30)),
    ]


def test_short_last_period_bills_only_its_months():
    # 14 months billed quarterly: four quarters of 300.00 and a 2-month period of 200.00.
    result = price_deal(
        deal_terms(term_months=14, billing_frequency="quarterly"), [line("platform", "1200")]
    )

    assert period_table(result)[-1] == (date(2026, 1, 1), date(2026, 3, 1), D("200.00"))
    assert charges_of(result, "platform") == [D("300.00")] * 4 + [D("200.00")]
    assert result.tcv == D("1400.00")


def test_jpy_has_no_minor_unit():
    # 10000 JPY/year monthly: 833.33... a month, cumulative rounding to whole yen gives
    # 833, 1667, 2500, ... so charges alternate 833 / 834 and add up to 10000.
    result = price_deal(deal_terms(currency="JPY"), [line("platform", "10000")])

    amounts = charges_of(result, "platform")
    assert amounts == [D(833), D(834), D(833)] * 4
    assert all(a.as_tuple().exponent == 0 for a in amounts)
    assert result.tcv == D(10000)
    assert str(result.tcv) == "10000"


def test_kwd_has_three_decimals():
    # 100.000 KWD/year monthly: 8.3333... a month; cumulative 8.333, 16.667, 25.000, ...
    result = price_deal(deal_terms(currency="KWD"), [line("platform", "100")])

    amounts = charges_of(result, "platform")
    assert amounts[:3] == [D("8.333"), D("8.334"), D("8.333")]
    assert all(a.as_tuple().exponent == -3 for a in amounts)
    assert str(result.tcv) == "100.000"


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("0.125", "USD", "0.13"),  # half up, not half even
        ("0.135", "USD", "0.14"),
        ("-0.125", "USD", "-0.13"),  # half away from zero
        ("2.5", "JPY", "3"),
        ("1.0005", "KWD", "1.001"),
        ("1.0004", "BHD", "1.000"),
        ("7", "EUR", "7.00"),
    ],
)
def test_round_money_rounds_half_up_to_the_minor_unit(amount, currency, expected):
    rounded = round_money(D(amount), currency)

    assert str(rounded) == expected


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [
        ("USD", 2),
        ("EUR", 2),
        ("GBP", 2),
        ("CAD", 2),
        ("AUD", 2),
        ("CHF", 2),
        ("SEK", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("KWD", 3),
        ("BHD", 3),
        ("OMR", 3),
        ("JOD", 3),
        ("TND", 3),
    ],
)
def test_minor_unit_follows_iso_4217(currency, exponent):
    assert minor_unit(currency) == exponent


def test_one_time_fee_is_charged_in_full_in_the_first_period():
    # Quarterly: 1200/year = 300.00 a quarter, plus 5000.00 implementation (list 6000) in Q1.
    # TCV 4 * 300 + 5000 = 6200.00; list 1200 + 6000 = 7200.00;
    # discount (1 - 6200 / 7200) * 100 = 13.888... -> 13.89.
    result = price_deal(
        deal_terms(billing_frequency="quarterly"),
        [
            line("platform", "1200"),
            line("implementation", "5000", list_price="6000", kind="one_time"),
        ],
    )

    assert [p.total for p in result.periods] == [
        D("5300.00"),
        D("300.00"),
        D("300.00"),
        D("300.00"),
    ]
    assert charges_of(result, "implementation") == [D("5000.00")]
    assert result.periods[0].charges[1].line_key == "implementation"
    assert result.tcv == D("6200.00")
    assert result.list_tcv == D("7200.00")
    assert result.first_year_value == D("6200.00")
    assert result.arr == D("1200.00")  # one-time lines are not recurring revenue
    assert result.effective_discount_pct == D("13.89")
    assert result.line_totals == {"platform": D("1200.00"), "implementation": D("5000.00")}


def test_one_time_line_in_segment_two_is_charged_when_segment_two_starts():
    # 24 months monthly: y1 1200/year (100.00 a month) in months 0..11, y2 2400/year
    # (200.00) in months 12..23, a 2000.00 training in segment 2, charged on 2026-01-01.
    result = price_deal(
        deal_terms(term_months=24),
        [
            line("y1", "1200", segment=1),
            line("y2", "2400", segment=2),
            line("training", "2000", kind="one_time", segment=2),
        ],
    )

    assert charges_of(result, "y1") == [D("100.00")] * 12
    assert charges_of(result, "y2") == [D("200.00")] * 12
    assert [p.index for p in result.periods if any(c.line_key == "y1" for c in p.charges)] == list(
        range(12)
    )
    training = [p for p in result.periods if any(c.line_key == "training" for c in p.charges)]
    assert [(p.index, p.start, p.total) for p in training] == [(12, date(2026, 1, 1), D("2200.00"))]
    assert result.tcv == D("5600.00")
    assert result.first_year_value == D("1200.00")  # training falls in year 2
    assert [s.total for s in result.ramp] == [D("1200.00"), D("4400.00")]
    assert result.exit_arr == D("2400.00")


def test_one_time_line_in_segment_two_of_an_upfront_deal_is_in_the_single_invoice():
    # Upfront has one period, so it holds segment 2's first month and the training; it is
    # invoiced at the start, so it counts in the first-year value: 1200 + 2000 = 3200.00.
    result = price_deal(
        deal_terms(term_months=24, billing_frequency="upfront"),
        [
            line("y1", "1200", segment=1),
            line("y2", "2400", segment=2),
            line("training", "2000", kind="one_time", segment=2),
        ],
    )

    (period,) = result.periods
    assert [(c.line_key, c.amount) for c in period.charges] == [
        ("y1", D("1200.00")),
        ("y2", D("2400.00")),
        ("training", D("2000.00")),
    ]
    assert result.first_year_value == D("3200.00")


def test_usage_line_is_a_committed_volume_per_interval():
    # 100000 API calls a month at 0.002 (list 0.0025): 200.00 a month, 600.00 a quarter.
    # List 100000 * 0.0025 * 12 = 3000.00; discount 20.00.
    result = price_deal(
        deal_terms(billing_frequency="quarterly"),
        [
            line(
                "api-calls",
                "0.002",
                list_price="0.0025",
                quantity="100000",
                kind="usage",
                interval="month",
            )
        ],
    )

    assert charges_of(result, "api-calls") == [D("600.00")] * 4
    assert result.line_totals == {"api-calls": D("200.00")}
    assert result.tcv == D("2400.00")
    assert result.list_tcv == D("3000.00")
    assert result.arr == D("2400.00")
    assert result.effective_discount_pct == D("20.00")


def test_net_above_list_is_priced_as_a_negative_discount():
    result = price_deal(deal_terms(), [line("seats", "110", list_price="100", interval="month")])

    assert result.tcv == D("1320.00")
    assert result.effective_discount_pct == D("-10.00")


def test_a_deal_without_lines_prices_to_zero():
    result = price_deal(deal_terms(billing_frequency="quarterly"), [])

    assert result.periods == ()  # nothing charged in any period: no invoices
    assert (result.tcv, result.list_tcv, result.arr, result.effective_discount_pct) == (
        D("0.00"),
        D("0.00"),
        D("0.00"),
        D("0.00"),
    )
    assert str(result.lines_total) == "0.00"


GOOD_LINE = line("seats", "100", interval="month")


@pytest.mark.parametrize(
    ("terms", "lines", "message"),
    [
        (deal_terms(currency="XYZ"), [GOOD_LINE], "unknown currency 'XYZ'"),
        (deal_terms(currency="usd"), [GOOD_LINE], "unknown currency 'usd'"),
        (deal_terms(term_months=0), [GOOD_LINE], "term_months"),
        (deal_terms(term_months=-12), [GOOD_LINE], "term_months"),
        (deal_terms(billing_frequency="weekly"), [GOOD_LINE], "unknown billing frequency"),
        (deal_terms(uplift_every_months=0), [GOOD_LINE], "uplift_every_months"),
        (deal_terms(uplift_pct=D(-1)), [GOOD_LINE], "uplift_pct"),
        (deal_terms(uplift_pct=0.05), [GOOD_LINE], "uplift_pct must be a Decimal"),
        (deal_terms(start_date=datetime(2025, 1, 1, 9)), [GOOD_LINE], "start_date"),  # noqa: DTZ001
        (deal_terms(), [replace(GOOD_LINE, quantity=D(-1))], "line 'seats': quantity -1"),
        (deal_terms(), [replace(GOOD_LINE, quantity=2.5)], "line 'seats': quantity must be"),
        (deal_terms(), [replace(GOOD_LINE, list_unit_price=D(-1))], "line 'seats': list_unit"),
        (deal_terms(), [replace(GOOD_LINE, net_unit_price=D(-1))], "line 'seats': net_unit"),
        (deal_terms(), [replace(GOOD_LINE, net_unit_price=D("NaN"))], "must be finite"),
        (deal_terms(), [replace(GOOD_LINE, kind="licence")], "line 'seats': unknown kind"),
        (deal_terms(), [replace(GOOD_LINE, kind="")], "line 'seats': unknown kind"),
        (deal_terms(), [replace(GOOD_LINE, billing_interval="week")], "billing interval"),
        (deal_terms(), [replace(GOOD_LINE, billing_interval="one_time")], "billing interval"),
        (
            deal_terms(),
            [replace(GOOD_LINE, kind="one_time", billing_interval="month")],
            "line 'seats': a one_time line",
        ),
        (deal_terms(), [replace(GOOD_LINE, segment_index=0)], "line 'seats': segment_index"),
        (deal_terms(), [replace(GOOD_LINE, segment_index=2)], "segment 2 starts after"),
        (deal_terms(), [GOOD_LINE, GOOD_LINE], "line 'seats': duplicate"),
        (deal_terms(), [replace(GOOD_LINE, key="")], "line key"),
    ],
)
def test_price_deal_refuses_bad_input(terms, lines, message):
    with pytest.raises(PricingError, match=message):
        price_deal(terms, lines)


@pytest.mark.parametrize("discount", [D(-1), D("100.01"), D(101)])
def test_net_unit_price_refuses_a_discount_outside_0_to_100(discount):
    with pytest.raises(PricingError, match=r"outside 0\.\.100"):
        net_unit_price(D(100), discount)


def test_unknown_currency_is_refused_by_the_money_helpers():
    with pytest.raises(PricingError, match="unknown currency"):
        minor_unit("ABC")
    with pytest.raises(PricingError, match="unknown currency"):
        round_money(D(1), "ABC")


def test_prorate_refuses_an_empty_period():
    with pytest.raises(PricingError, match="empty period"):
        prorate(D(100), date(2025, 2, 1), date(2025, 2, 1), date(2025, 2, 1))


def test_pricing_error_is_a_value_error():
    assert issubclass(PricingError, ValueError)


@pytest.mark.parametrize(
    ("list_price", "discount", "expected"),
    [
        ("100", "15", "85"),
        ("99.99", "12.5", "87.49125"),  # 99.99 * 0.875, kept unrounded
        ("50", "0", "50"),
        ("50", "100", "0"),
    ],
)
def test_net_unit_price(list_price, discount, expected):
    assert net_unit_price(D(list_price), D(discount)) == D(expected)


@pytest.mark.parametrize(
    ("list_price", "net", "expected"),
    [
        ("100", "85", "15.0000"),
        ("3", "2", "33.3333"),  # (1 - 2/3) * 100 = 33.333...
        ("99.99", "87.49", "12.5013"),  # (1 - 0.87498749...) * 100 = 12.50125012... half up
        ("0", "0", "0.0000"),
        ("100", "110", "-10.0000"),
    ],
)
def test_discount_pct_of(list_price, net, expected):
    assert str(discount_pct_of(D(list_price), D(net))) == expected


def test_prorate_by_days():
    # 17 of 31 days of January.
    assert prorate(D(310), date(2025, 1, 1), date(2025, 2, 1), date(2025, 1, 15)) == D(170)
    assert prorate(D(310), date(2025, 1, 1), date(2025, 2, 1), date(2025, 1, 1)) == D(310)
    assert prorate(D(310), date(2025, 1, 1), date(2025, 2, 1), date(2024, 12, 1)) == D(310)
    assert prorate(D(310), date(2025, 1, 1), date(2025, 2, 1), date(2025, 2, 1)) == 0


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2025, 3, 31), 1, date(2025, 4, 30)),
        (date(2025, 1, 31), 13, date(2026, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2025, 3, 31), -1, date(2025, 2, 28)),
        (date(2025, 1, 15), -13, date(2023, 12, 15)),
        (date(2025, 5, 10), 0, date(2025, 5, 10)),
    ],
)
def test_add_months_clamps_to_the_end_of_month(start, months, expected):
    assert add_months(start, months) == expected


# Pricing clauses: free period, uplift, price lock ----------------------------------------


def test_first_two_months_free_are_billed_at_zero_within_the_term():
    # 3825.00/month, 12 months billed monthly, first 2 months free: 10 billed months,
    # 10 * 3825 = 38250.00; the term still ends 2027-12-31; list is the full 12 * 3825.
    result = price_deal(
        deal_terms(start_date=date(2027, 1, 1), free_months=2),
        [line("plat", "3825.00", interval="month")],
    )

    assert charges_of(result, "plat") == [D("0.00")] * 2 + [D("3825.00")] * 10
    assert [p.free_months for p in result.periods] == [1, 1] + [0] * 10
    assert result.tcv == D("38250.00")
    assert result.term_totals == {"plat": D("38250.00")}
    assert result.acv == D("38250.00")  # 38250 * 12 / 12
    assert result.first_year_value == D("38250.00")
    assert result.list_tcv == D("45900.00")
    assert result.effective_discount_pct == D("16.67")  # 2 of 12 months: a concession
    assert result.line_totals == {"plat": D("3825.00")}  # TotalPrice knows no free months
    assert result.line_year_values == {"plat": D("45900.00")}
    assert result.service_last_day == date(2027, 12, 31)


def test_free_months_inside_a_longer_period_reduce_only_that_invoice():
    # 1200.00/year billed quarterly (300.00 a quarter), 2 free months: the first quarter
    # bills 1 month, 100.00; one-time fees are not part of the free period.
    result = price_deal(
        deal_terms(billing_frequency="quarterly", free_months=2),
        [line("plat", "1200.00"), line("setup", "500.00", kind="one_time")],
    )

    assert [p.total for p in result.periods] == [D("600.00"), D("300.00"), D("300.00"), D("300.00")]
    assert [p.free_months for p in result.periods] == [2, 0, 0, 0]
    assert result.tcv == D("1500.00")


def test_a_price_lock_skips_the_uplifts_inside_it_without_catching_up():
    # 1000.00/year, 48 months billed annually, 5 % yearly uplift, price locked 24 months:
    # years 1-2 at 1000.00, year 3 one uplift (1050.00), year 4 two (1102.50).
    result = price_deal(
        deal_terms(
            term_months=48, billing_frequency="annual", uplift_pct=D(5), price_lock_months=24
        ),
        [line("plat", "1000.00")],
    )

    assert [p.total for p in result.periods] == [
        D("1000.00"),
        D("1000.00"),
        D("1050.00"),
        D("1102.50"),
    ]
    assert result.exit_arr == D("1102.50")


def test_a_lock_ending_between_uplift_dates_waits_for_the_next_one():
    # Locked 18 months: the month-12 uplift is skipped, the month-24 one applies once.
    result = price_deal(
        deal_terms(
            term_months=36, billing_frequency="annual", uplift_pct=D(10), price_lock_months=18
        ),
        [line("plat", "1000.00")],
    )

    assert [p.total for p in result.periods] == [D("1000.00"), D("1000.00"), D("1100.00")]


def test_a_one_time_only_deal_billed_monthly_has_one_invoice():
    result = price_deal(
        deal_terms(billing_frequency="monthly"),
        [line("setup", "5000.00", kind="one_time"), line("train", "1200.00", kind="one_time")],
    )

    assert period_table(result) == [(date(2025, 1, 1), date(2025, 2, 1), D("6200.00"))]
    assert result.tcv == D("6200.00")
    assert result.line_year_values == {}  # one-time lines have no year


def test_periods_and_ramp_segments_know_their_last_day():
    result = price_deal(
        deal_terms(start_date=date(2027, 1, 1), term_months=24, billing_frequency="annual"),
        [line("plat", "100.00", segment=1), line("plat-2", "120.00", segment=2)],
    )

    assert [(p.start, p.last_day) for p in result.periods] == [
        (date(2027, 1, 1), date(2027, 12, 31)),
        (date(2028, 1, 1), date(2028, 12, 31)),
    ]
    assert [s.last_day for s in result.ramp] == [date(2027, 12, 31), date(2028, 12, 31)]
    assert result.service_last_day == date(2028, 12, 31)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"free_months": 13}, "free period of 13 months is longer than the 12-month term"),
        ({"free_months": -1}, "free_months must be a whole number of 0 or more"),
        ({"free_months": True}, "free_months must be a whole number"),
        ({"price_lock_months": 1.5}, "price_lock_months must be a whole number"),
    ],
)
def test_pricing_clause_terms_are_checked(overrides, message):
    with pytest.raises(PricingError, match=message):
        price_deal(deal_terms(**overrides), [GOOD_LINE])
