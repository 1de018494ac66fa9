"""The shipped approval matrix, case by case: which rules fire, and what they open."""

from dataclasses import replace
from decimal import Decimal

import pytest

from approvals.default_policy import DEFAULT_RULES
from approvals.policy import POLICY_CURRENCY, PolicyFacts, Rule, evaluate, required_approvals

CLEAN = PolicyFacts(
    currency="USD",
    tcv=Decimal("120000.00"),
    tcv_in_policy_currency=Decimal("120000.00"),
    max_discount_pct=Decimal("0"),
    max_discount_line="line 1 (PLAT-PRO)",
    lines_below_floor=(),
    term_months=12,
    payment_net_days=30,
    pattern="simple",
    clause_types=frozenset(),
    banned_clause_types=frozenset(),
    review_clause_types=frozenset(),
)

DD = "Deal Desk: discount above 10 %"
VP = "VP Sales: discount above 20 %"
CFO_DISCOUNT = "CFO: discount above 35 %"
CFO_TCV = "CFO: TCV above 500,000 USD"
CFO_FLOOR = "CFO: price below floor"
BANNED = "Legal: banned clause"
OTHER = "Legal: unclassified term"
NONSTANDARD = "Legal: non-standard clause"
NET = "Finance: payment terms beyond net 60"
FREE = "Finance: free period"
TERM = "Finance: term above 36 months"


def _pct(text: str) -> dict:
    return {"max_discount_pct": Decimal(text)}


def _tcv(usd: str, currency: str = "USD", local: str | None = None) -> dict:
    return {
        "currency": currency,
        "tcv": Decimal(local or usd),
        "tcv_in_policy_currency": Decimal(usd),
    }


def _clauses(*types: str, banned=(), review=()) -> dict:
    return {
        "clause_types": frozenset(types),
        "banned_clause_types": frozenset(banned),
        "review_clause_types": frozenset(review),
    }


CASES = [
    ("standard deal needs nobody", {}, set()),
    ("0 % discount", _pct("0"), set()),
    ("10 % is not above 10 %", _pct("10"), set()),
    ("10.01 %", _pct("10.01"), {DD}),
    ("15 %", _pct("15"), {DD}),
    ("20 % is not above 20 %", _pct("20"), {DD}),
    ("20.5 %", _pct("20.5"), {DD, VP}),
    ("35 % is not above 35 %", _pct("35"), {DD, VP}),
    ("35.01 %", _pct("35.01"), {DD, VP, CFO_DISCOUNT}),
    ("100 % free", _pct("100"), {DD, VP, CFO_DISCOUNT}),
    ("TCV 500,000 is not above", _tcv("500000"), set()),
    ("TCV 500,000.01", _tcv("500000.01"), {CFO_TCV}),
    ("TCV 2.4M", _tcv("2400000"), {CFO_TCV}),
    ("EUR deal converted above", _tcv("540000", "EUR", "500000"), {CFO_TCV}),
    ("JPY deal converted below", _tcv("400000", "JPY", "60000000"), set()),
    (
        "no exchange rate: TCV rule applies",
        {"currency": "KWD", "tcv": Decimal("1000"), "tcv_in_policy_currency": None},
        {CFO_TCV},
    ),
    ("big TCV and big discount", {**_tcv("900000"), **_pct("40")}, {DD, VP, CFO_DISCOUNT, CFO_TCV}),
    (
        "below floor",
        {"lines_below_floor": ("line 2 (SEAT): 31.00 below floor 35.00",)},
        {CFO_FLOOR},
    ),
    ("net 60 is not beyond", {"payment_net_days": 60}, set()),
    ("net 61", {"payment_net_days": 61}, {NET}),
    ("net 90", {"payment_net_days": 90}, {NET}),
    ("term 36 months", {"term_months": 36}, set()),
    ("term 48 months", {"term_months": 48}, {TERM}),
    ("free period clause", _clauses("free_period"), {FREE}),
    ("banned MFN", _clauses("most_favored_nation", banned=["most_favored_nation"]), {BANNED}),
    (
        "MFN allowed by a legal exception is not banned",
        _clauses("most_favored_nation"),
        set(),
    ),
    ("other clause", _clauses("other"), {OTHER}),
    (
        "non-standard liability cap",
        _clauses("liability_cap", review=["liability_cap"]),
        {NONSTANDARD},
    ),
    ("standard payment terms clause", _clauses("payment_terms"), set()),
    (
        "banned and other together",
        _clauses("exclusivity", "other", banned=["exclusivity"]),
        {BANNED, OTHER},
    ),
    (
        "everything at once",
        {
            **_pct("50"),
            **_tcv("750000"),
            "payment_net_days": 90,
            "term_months": 60,
            **_clauses(
                "free_period", "other", "unlimited_liability", banned=["unlimited_liability"]
            ),
        },
        {DD, VP, CFO_DISCOUNT, CFO_TCV, NET, TERM, FREE, OTHER, BANNED},
    ),
    ("pattern alone opens nothing", {"pattern": "enterprise_msa"}, set()),
]


@pytest.mark.parametrize(
    ("overrides", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_default_matrix(overrides, expected):
    fired = evaluate(DEFAULT_RULES, replace(CLEAN, **overrides))
    assert {f.rule.name for f in fired} == expected


def test_the_matrix_has_enough_cases():
    assert len(CASES) >= 30


def test_requests_group_by_step_and_group_with_every_reason():
    facts = replace(CLEAN, **_pct("40"), **_tcv("650000"), payment_net_days=75)
    approvals = required_approvals(evaluate(DEFAULT_RULES, facts))
    assert [(a.step, a.group) for a in approvals] == [
        (1, "Deal Desk"),
        (1, "Finance"),
        (2, "Executive"),
        (3, "CFO"),
    ]
    cfo = approvals[-1]
    assert cfo.reasons == [
        "CFO: TCV above 500,000 USD: TCV 650,000.00 USD is above 500,000.00 USD",
        "CFO: discount above 35 %: discount 40 % on line 1 (PLAT-PRO) is above 35 %",
    ]


def test_reasons_show_the_deal_currency_and_the_policy_currency():
    facts = replace(CLEAN, **_tcv("540000", "EUR", "500000"))
    (fired,) = evaluate(DEFAULT_RULES, facts)
    assert fired.reasons == (
        f"TCV 500,000.00 EUR (540,000.00 {POLICY_CURRENCY}) is above 500,000.00 USD",
    )


def test_a_rule_fires_only_when_all_its_conditions_hold():
    rule = Rule(
        "Finance: long ramp deals",
        1,
        "Finance",
        term_months_above=24,
        patterns=frozenset({"multi_year_ramp"}),
    )
    assert not evaluate([rule], replace(CLEAN, term_months=36))
    assert not evaluate([rule], replace(CLEAN, pattern="multi_year_ramp"))
    (fired,) = evaluate([rule], replace(CLEAN, term_months=36, pattern="multi_year_ramp"))
    assert fired.reasons == ("term 36 months is above 24", "deal pattern is multi_year_ramp")


def test_a_rule_without_conditions_applies_to_every_deal():
    (fired,) = evaluate([Rule("Deal Desk: every deal", 1, "Deal Desk")], CLEAN)
    assert fired.reasons == ("applies to every deal",)
