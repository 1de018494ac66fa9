"""Notes restating the deal's own terms are standard paper; notes asking for others are not."""

from datetime import date

import pytest

from dealdesk.patterns import DealFacts, LineFacts, classify, notes_ask_for_custom_terms


def deal(notes: str, **terms) -> DealFacts:
    return DealFacts(
        ae_notes=notes,
        account_has_msa=False,
        lines=[LineFacts("PLAT", "subscription", 1)],
        **{
            "term_months": 12,
            "payment_terms": 30,
            "billing_frequency": "annual",
            "currency": "USD",
            "start_date": date(2027, 1, 1),
            **terms,
        },
    )


@pytest.mark.parametrize(
    "notes",
    [
        "Net 30, standard paper",
        "Payment terms: net-30. Annual billing, billed annually.",
        "12 month term, invoiced in USD",
        "A term of one year starting 2027-01-01",
        "Start date: January 1, 2027; 12-month subscription",
        "Great call with their CFO, standard paper",
    ],
)
def test_notes_restating_the_deals_own_terms_are_standard_paper(notes):
    assert not notes_ask_for_custom_terms(deal(notes))
    assert classify(deal(notes)).code == "simple"


@pytest.mark.parametrize(
    ("notes", "terms"),
    [
        ("Net 60, standard paper", {}),
        ("Net 30, standard paper", {"payment_terms": 45}),
        ("annual billing", {"billing_frequency": "monthly"}),
        ("billed quarterly", {}),
        ("24-month term", {}),
        ("12 month term", {"term_months": 24}),
        ("invoiced in EUR", {}),
        ("starting 1 March 2027", {}),
        ("Net 30 and 5% annual uplift", {}),  # the restated term hides nothing else
        ("first 2 months free", {}),
        ("paid in ACH", {}),  # a payment method, not a currency
    ],
)
def test_notes_asking_for_different_terms_are_custom(notes, terms):
    assert notes_ask_for_custom_terms(deal(notes, **terms))
    assert classify(deal(notes, **terms)).code == "custom_terms"


def test_a_deal_whose_own_terms_are_unknown_treats_every_mention_as_a_request():
    facts = DealFacts(
        term_months=12,
        ae_notes="Net 30",
        account_has_msa=False,
        lines=[LineFacts("P", "subscription", 1)],
    )
    assert notes_ask_for_custom_terms(facts)
