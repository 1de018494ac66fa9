"""A contract's pricing clauses as the pricing engine's terms, read defensively."""

from decimal import Decimal

import pytest

from dealdesk.pricing import PricingError
from dealdesk.selectors import deal_agreed_clauses, deal_lines, deal_pricing, pricing_clause_terms
from tests.dealdesk.factories import DealFactory, DealLineFactory, ProductFactory


def test_pricing_clauses_become_terms_and_others_are_ignored():
    terms = pricing_clause_terms(
        [
            ("payment_terms", {"net_days": 60}),
            ("free_period", {"months": 2}),
            ("price_uplift", {"pct": "3.5", "every_months": 24}),
            ("price_lock", {"months": 12}),
        ]
    )
    assert terms == {
        "free_months": 2,
        "uplift_pct": Decimal("3.5"),
        "uplift_every_months": 24,
        "price_lock_months": 12,
    }
    assert pricing_clause_terms([("price_uplift", {"pct": "5"})])["uplift_every_months"] == 12


@pytest.mark.parametrize(
    ("clauses", "message"),
    [
        ([("free_period", {"months": 1}), ("free_period", {"months": 3})], "two free_period"),
        ([("free_period", {})], "cannot be read"),
        ([("price_uplift", {"pct": "five"})], "cannot be read"),
        ([("price_lock", {"months": "a year"})], "cannot be read"),
    ],
)
def test_contradicting_or_unreadable_pricing_clauses_are_refused(clauses, message):
    with pytest.raises(PricingError, match=message):
        pricing_clause_terms(clauses)


def test_a_float_uplift_is_read_as_written_never_as_binary():
    assert pricing_clause_terms([("price_uplift", {"pct": 0.1})])["uplift_pct"] == Decimal("0.1")


@pytest.mark.django_db
def test_a_deal_without_a_contract_is_priced_without_clauses():
    deal = DealFactory(billing_frequency="monthly")
    DealLineFactory(deal=deal, product=ProductFactory(list_price=Decimal("1200")))
    assert deal_agreed_clauses(deal) == []
    lines = deal_lines(deal=deal)
    assert deal_pricing(deal, lines).tcv == Decimal("1200.00")
    free = deal_pricing(deal, lines, clauses=[("free_period", {"months": 3})])
    assert free.tcv == Decimal("900.00")
    assert [p.total for p in free.periods[:4]] == [Decimal("0.00")] * 3 + [Decimal("100.00")]
