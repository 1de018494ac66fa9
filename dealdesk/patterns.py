"""Deal pattern classification: which standard shape a deal has, or why it has none.

Pure functions over plain facts, so the rules read top to bottom and test without a database.
A deal that fits no pattern goes to manual review with the reason returned here.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

SIMPLE = "simple"
MULTI_PRODUCT = "multi_product"
MULTI_YEAR_RAMP = "multi_year_ramp"
CUSTOM_TERMS = "custom_terms"
ENTERPRISE_MSA = "enterprise_msa"

# (code, name, requires legal review, description) — seeded by a data migration.
PATTERNS = [
    (SIMPLE, "Simple single product", False, "One recurring product, standard paper."),
    (MULTI_PRODUCT, "Multi-product", False, "Several products on one order form."),
    (MULTI_YEAR_RAMP, "Multi-year ramp", False, "Prices or quantities step up by year."),
    (CUSTOM_TERMS, "Custom terms", True, "The AE notes ask for non-standard terms."),
    (ENTERPRISE_MSA, "Enterprise with MSA", True, "Order form under a master agreement."),
]

MAX_TERM_MONTHS = 60

# Words AEs use when a customer negotiated terms beyond standard paper. Clause extraction
# (contracts) reads the notes properly; this only decides whether legal must look at all.
_TERM_WORDS = re.compile(
    r"\b(net\s*-?\d+|net\d+|auto[- ]?renew\w*|renewal|terminat\w*|t4c|sla|uptime|liabilit\w*|"
    r"indemn\w*|mfn|most[- ]favou?red|exclusiv\w*|governing law|jurisdiction|residency|"
    r"data (?:must )?(?:stay|reside)|po\s*#|p\.?o\.? (?:required|number)|purchase order|"
    r"price (?:lock|cap|hold)|uplift|escalat\w*|free (?:months?|period)|opt[- ]out|pilot|"
    r"payment terms|wire|ach|credit card|billing start|go[- ]live)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class LineFacts:
    sku: str
    kind: str
    segment_index: int


@dataclass(frozen=True)
class DealFacts:
    term_months: int
    ae_notes: str
    account_has_msa: bool
    lines: Sequence[LineFacts]


@dataclass(frozen=True)
class Classification:
    code: str | None
    reason: str


def notes_ask_for_custom_terms(notes: str) -> bool:
    return bool(_TERM_WORDS.search(notes or ""))


def classify(facts: DealFacts) -> Classification:
    """The first pattern that fits, most specific first; code None with the reason otherwise."""
    problem = _unfit_reason(facts)
    if problem:
        return Classification(None, problem)
    skus = {line.sku for line in facts.lines}
    segments = {line.segment_index for line in facts.lines}
    if facts.account_has_msa:
        return Classification(ENTERPRISE_MSA, "the account has a master agreement on file")
    if notes_ask_for_custom_terms(facts.ae_notes):
        return Classification(CUSTOM_TERMS, "the AE notes ask for non-standard terms")
    if len(segments) > 1:
        return Classification(MULTI_YEAR_RAMP, f"{len(segments)} ramp segments")
    if len(skus) > 1:
        return Classification(MULTI_PRODUCT, f"{len(skus)} products")
    return Classification(SIMPLE, "one recurring product on standard terms")


def _unfit_reason(facts: DealFacts) -> str:
    if not facts.lines:
        return "the deal has no lines"
    if not 1 <= facts.term_months <= MAX_TERM_MONTHS:
        return (
            f"a term of {facts.term_months} months is outside the 1–{MAX_TERM_MONTHS} months "
            "the standard patterns cover"
        )
    incomplete = sorted({line.sku for line in facts.lines if not line.kind})
    if incomplete:
        return f"catalog product(s) {', '.join(incomplete)} have no billing setup yet"
    if not any(line.kind in ("subscription", "usage") for line in facts.lines):
        return "the deal has no recurring line; one-time-only deals need a person"
    segments = sorted({line.segment_index for line in facts.lines})
    if segments != list(range(1, len(segments) + 1)):
        return f"ramp segments {segments} do not run 1..n without gaps"
    years = -(-facts.term_months // 12)
    if segments[-1] > years:
        return f"ramp segment {segments[-1]} starts after the {facts.term_months}-month term ends"
    return ""
