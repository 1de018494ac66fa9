"""The four gates, each with what passes and every reason it fails."""

from decimal import Decimal

from approvals.gates import (
    BillableFacts,
    BillableLine,
    Clause,
    CustomerFacts,
    Party,
    PricedLine,
    TermsFacts,
    billable,
    customer_verified,
    lines_below_floor,
    max_discount,
    pricing_tier,
    terms_compliance,
)

ACME = Party("001A", "Acme Logistics Inc.", "1 Main St, Springfield, IL 62701, US")


def test_customer_verified_when_the_contract_matches_the_crm_and_a_signer_exists():
    result = customer_verified(CustomerFacts(ACME, ACME, "Ada Lovelace", "ada@acme.test"))
    assert result.passed
    assert "signer Ada Lovelace <ada@acme.test>" in result.reasons[0]


def test_customer_verified_names_every_mismatch():
    crm = Party("001B", "Acme Logistics LLC", "9 Other Rd, Springfield, IL 62701, US")
    result = customer_verified(CustomerFacts(ACME, crm, "", ""))
    assert not result.passed
    assert result.reasons == (
        "CRM id on the contract '001A' differs from the CRM's '001B'",
        "legal name on the contract 'Acme Logistics Inc.' differs from the CRM's 'Acme Logistics LLC'",
        "billing address on the contract '1 Main St, Springfield, IL 62701, US' differs from the "
        "CRM's '9 Other Rd, Springfield, IL 62701, US'",
        "no signer contact with an e-mail address on the opportunity",
    )


def test_customer_verified_fails_when_the_crm_lost_the_account():
    result = customer_verified(CustomerFacts(ACME, None, "Ada", "ada@acme.test"))
    assert result.reasons == ("account 001A is not in the latest CRM data",)


def _line(label="line 1 (PLAT)", **kw):
    fields = {
        "in_catalog": True,
        "active": True,
        "billing_complete": True,
        "catalog_currency": "USD",
        "segment_index": 1,
    }
    return BillableLine(label, **{**fields, **kw})


def _billable(lines, priced="1000.00", crm="1000.00", term=12, currency="USD"):
    return billable(
        BillableFacts(
            currency=currency,
            term_months=term,
            lines=lines,
            priced_amount=Decimal(priced),
            crm_amount=None if crm is None else Decimal(crm),
        )
    )


def test_billable_passes_a_clean_deal():
    result = _billable([_line()])
    assert result.passed
    assert result.reasons == (
        "1 line on active catalog products; CRM amount 1,000.00 USD matches the lines' total, "
        "Salesforce's sum of TotalPrice",
    )
    assert _billable([_line(), _line("line 2 (SEAT)")]).reasons[0].startswith("2 lines on")


def test_billable_names_each_bad_line():
    result = _billable(
        [
            _line("line 1 (GONE)", in_catalog=False),
            _line("line 2 (OLD)", active=False),
            _line("line 3 (NEW)", billing_complete=False),
            _line("line 4 (EURO)", catalog_currency="EUR"),
        ]
    )
    assert result.reasons == (
        "line 1 (GONE) is not in the catalog",
        "line 2 (OLD) is an inactive catalog product",
        "line 3 (NEW): Finance has not completed its billing setup",
        "line 4 (EURO) is priced in EUR, the deal in USD",
    )


def test_billable_checks_ramp_segments_against_the_term():
    gap = _billable([_line(segment_index=1), _line(segment_index=3)], term=36)
    assert gap.reasons == ("ramp segments [1, 3] are not contiguous from 1",)
    late = _billable([_line(segment_index=1), _line(segment_index=2)], term=12)
    assert late.reasons == ("ramp segment 2 starts after the 12-month term ends",)


def test_billable_allows_rounding_but_not_a_price_difference():
    assert _billable([_line(), _line()], priced="1000.00", crm="1000.02").passed
    result = _billable([_line()], priced="1000.00", crm="1100.00")
    assert result.reasons == (
        "priced amount 1,000.00 USD differs from the CRM amount 1,100.00 by -100.00 (the priced "
        "amount is the lines' total, Salesforce's sum of TotalPrice)",
    )
    assert not _billable([_line()], crm=None).passed


def test_billable_tolerance_follows_the_currency_minor_unit():
    assert _billable(
        [_line(catalog_currency="JPY")], priced="1000", crm="1001", currency="JPY"
    ).passed
    assert not _billable(
        [_line(catalog_currency="JPY")], priced="1000", crm="1002", currency="JPY"
    ).passed


PRICED = [
    PricedLine("line 1 (PLAT)", Decimal("12.5"), Decimal("87.50"), Decimal("80")),
    PricedLine("line 2 (SEAT)", Decimal("30"), Decimal("31.00"), Decimal("35")),
]


def test_pricing_tier_reports_the_highest_discount_floor_breaches_and_approvals():
    assert max_discount(PRICED) == (Decimal("30"), "line 2 (SEAT)")
    assert lines_below_floor(PRICED) == ("line 2 (SEAT): net 31.00 below floor 35.00",)
    result = pricing_tier(PRICED, ["Deal Desk", "Executive"])
    assert result.passed
    assert result.reasons == (
        "highest discount 30% on line 2 (SEAT)",
        "line 2 (SEAT): net 31.00 below floor 35.00",
        "needs approval from Deal Desk, Executive",
    )


def test_pricing_tier_fails_only_on_prices_nobody_may_approve():
    bad = [PricedLine("line 1 (X)", Decimal("120"), Decimal("-20"), None)]
    assert pricing_tier(bad, []).reasons == (
        "line 1 (X): discount 120% is outside 0–100%",
        "line 1 (X): negative net price",
    )


def _terms(*clauses, banned=(), required=(), exceptions=()):
    return terms_compliance(
        TermsFacts(
            pattern="custom_terms",
            clauses=[Clause(t, p) for t, p in clauses],
            banned_types=frozenset(banned or {"most_favored_nation", "exclusivity"}),
            required_types=frozenset(required),
            legal_exceptions=frozenset(exceptions),
        )
    )


def test_terms_compliance_refuses_banned_clauses_unless_legal_excepted_them():
    result = _terms(("most_favored_nation", {}), ("payment_terms", {"net_days": 30}))
    assert result.reasons == ("banned clause most_favored_nation without a Legal exception",)
    allowed = _terms(("most_favored_nation", {}), exceptions=["most_favored_nation"])
    assert allowed.passed
    assert allowed.reasons == (
        "1 clause type, banned ones excepted by Legal, required clauses present",
        "banned clause most_favored_nation allowed by a Legal exception",
    )
    clean = _terms(("payment_terms", {"net_days": 30}), ("governing_law", {}))
    assert clean.reasons == ("2 clause types, none banned, required clauses present",)
    assert "banned clause most_favored_nation allowed by a Legal exception" in allowed.reasons


def test_terms_compliance_requires_the_patterns_clauses_and_limits():
    result = _terms(
        ("payment_terms", {"net_days": 150}),
        ("free_period", {"months": 9}),
        required=["governing_law"],
    )
    assert result.reasons == (
        "pattern custom_terms requires a governing_law clause",
        "payment terms net 150 exceed the net 120 limit",
        "a free period of 9 months exceeds 6",
    )
