"""A clause is grounded only by a quote that is long enough and states its numbers."""

import pytest

from contracts.extraction.validate import validate_clauses

NOTES = (
    "Net 120 agreed with procurement. 2 months free at the start. 99.9 uptime SLA, 10% credit. "
    "5% annual uplift. 2-year price lock. net forty-five days for the EU entity. "
    "liability capped at 12 months fees. T4C 60d. 3 months notice to terminate. net45"
)


@pytest.mark.parametrize(
    ("clause", "unstated"),
    [
        ({"type": "payment_terms", "params": {"net_days": 30}, "quote": "Net 120"}, "net_days 30"),
        (
            {"type": "free_period", "params": {"months": 3}, "quote": "2 months free"},
            "months 3",
        ),
        (
            {
                "type": "sla_credit",
                "params": {"uptime_pct": "99.95", "credit_pct": "10"},
                "quote": "99.9 uptime SLA, 10% credit",
            },
            "uptime_pct 99.95",
        ),
        (
            {"type": "price_uplift", "params": {"pct": "7"}, "quote": "5% annual uplift"},
            "pct 7",
        ),
        (
            {"type": "price_lock", "params": {"months": 12}, "quote": "2-year price lock"},
            "months 12",
        ),
    ],
)
def test_a_clause_whose_params_contradict_its_quote_is_dropped_as_ungrounded(clause, unstated):
    kept, dropped = validate_clauses(NOTES, [clause])
    assert kept == []
    assert dropped == [{**clause, "reason": f"ungrounded: quote does not state {unstated}"}]


@pytest.mark.parametrize("quote", ["120", "EU", "net", "T4C"])
def test_a_quote_of_a_few_characters_grounds_nothing(quote):
    clause = {"type": "most_favored_nation", "params": {}, "quote": quote}
    kept, dropped = validate_clauses(NOTES, [clause])
    assert kept == []
    assert dropped == [{**clause, "reason": "ungrounded: quote is too short"}]


@pytest.mark.parametrize(
    "clause",
    [
        {"type": "payment_terms", "params": {"net_days": 120}, "quote": "Net 120"},
        {"type": "payment_terms", "params": {"net_days": 45}, "quote": "net forty-five days"},
        {"type": "payment_terms", "params": {"net_days": 45}, "quote": "net45"},
        {"type": "price_lock", "params": {"months": 24}, "quote": "2-year price lock"},
        {
            "type": "liability_cap",
            "params": {"multiple_of_fees": "1"},
            "quote": "liability capped at 12 months fees",
        },
        {
            "type": "termination_for_convenience",
            "params": {"notice_days": 90},
            "quote": "3 months notice to terminate",
        },
        {
            "type": "price_uplift",
            "params": {"pct": "5", "every_months": 12},
            "quote": "5% annual uplift",
        },
    ],
)
def test_a_quote_that_states_the_params_in_the_notes_own_words_is_kept(clause):
    kept, dropped = validate_clauses(NOTES, [clause])
    assert dropped == []
    assert [(c["type"], c["quote"]) for c in kept] == [(clause["type"], clause["quote"])]
