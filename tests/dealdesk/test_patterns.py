import pytest

from dealdesk.patterns import DealFacts, LineFacts, classify

SUB = "subscription"


def facts(lines, *, term=12, notes="", msa=False) -> DealFacts:
    return DealFacts(
        term_months=term,
        ae_notes=notes,
        account_has_msa=msa,
        lines=[LineFacts(sku, kind, seg) for sku, kind, seg in lines],
    )


@pytest.mark.parametrize(
    ("deal", "code"),
    [
        (facts([("PLAT", SUB, 1)]), "simple"),
        (facts([("PLAT", SUB, 1), ("PLAT", SUB, 1)]), "simple"),
        (facts([("PLAT", SUB, 1), ("SEAT", SUB, 1)]), "multi_product"),
        (facts([("PLAT", SUB, 1), ("IMPL", "one_time", 1)]), "multi_product"),
        (facts([("SEAT", SUB, 1), ("SEAT", SUB, 2), ("SEAT", SUB, 3)], term=36), "multi_year_ramp"),
        (facts([("PLAT", SUB, 1)], notes="Net 60, PO required"), "custom_terms"),
        (facts([("PLAT", SUB, 1)], notes="T4C w/ 90 days notice"), "custom_terms"),
        (facts([("PLAT", SUB, 1)], notes="Great call, standard paper"), "simple"),
        (facts([("PLAT", SUB, 1)], notes="Net 60", msa=True), "enterprise_msa"),
        (facts([("API", "usage", 1)]), "simple"),
    ],
)
def test_classification(deal, code):
    assert classify(deal).code == code


@pytest.mark.parametrize(
    ("deal", "reason"),
    [
        (facts([]), "the deal has no lines"),
        (facts([("PLAT", SUB, 1)], term=72), "outside the 1–60 months"),
        (facts([("TRAIN", "one_time", 1)]), "no recurring line"),
        (facts([("NEW", "", 1)]), "NEW have no billing setup"),
        (facts([("S", SUB, 1), ("S", SUB, 3)], term=36), "do not run 1..n without gaps"),
        (facts([("S", SUB, 1), ("S", SUB, 2)], term=12), "starts after the 12-month term"),
    ],
)
def test_deals_that_fit_no_pattern_say_why(deal, reason):
    result = classify(deal)
    assert result.code is None
    assert reason in result.reason
