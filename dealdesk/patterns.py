"""Deal pattern classification: which standard shape a deal has, or why it has none.

Pure functions over plain facts, so the rules read top to bottom and test without a database.
A deal that fits no pattern goes to manual review with the reason returned here.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from dealdesk.pricing import CURRENCY_CODES

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
# Terms the deal already carries (payment terms, billing frequency, term, currency, start
# date) are judged apart, against the deal's own values (_RESTATABLE).
_TERM_WORDS = re.compile(
    r"\b(auto[- ]?renew\w*|renewal|terminat\w*|t4c|sla|uptime|liabilit\w*|"
    r"indemn\w*|mfn|most[- ]favou?red|exclusiv\w*|governing law|jurisdiction|residency|"
    r"data (?:must )?(?:stay|reside)|po\s*#|p\.?o\.? (?:required|number)|purchase order|"
    r"price (?:lock|cap|hold)|uplift|escalat\w*|free (?:months?|period)|months? free|"
    r"opt[- ]out|pilot|payment terms|wire|ach|credit card|billing start|go[- ]live)\b",
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
    # The deal's own terms, which notes may restate without asking for anything. Left
    # unknown (None, ""), any mention of that term counts as a request.
    payment_terms: int | None = None  # net days
    billing_frequency: str = ""
    currency: str = ""
    start_date: date | None = None


@dataclass(frozen=True)
class Classification:
    code: str | None
    reason: str


_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "twelve": 12, "eighteen": 18, "twenty-four": 24, "thirty-six": 36,
}  # fmt: skip
_NUMBER = r"\d{1,3}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
_FREQUENCY_WORDS = {
    "monthly": "monthly",
    "quarterly": "quarterly",
    "semiannual": "semiannual",
    "semiannually": "semiannual",
    "annual": "annual",
    "annually": "annual",
    "yearly": "annual",
    "upfront": "upfront",
}
_FREQUENCY = r"monthly|quarterly|semi-?annual(?:ly)?|annual(?:ly)?|yearly|up-?front|up front"
_MONTH_NAMES = r"jan\w*|feb\w*|mar\w*|apr\w*|may|jun\w*|jul\w*|aug\w*|sep\w*|oct\w*|nov\w*|dec\w*"
_DATE = (
    rf"\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}\s+(?:{_MONTH_NAMES})\s+\d{{4}}"
    rf"|(?:{_MONTH_NAMES})\s+\d{{1,2}},?\s+\d{{4}}"
)


def _number(text: str) -> int:
    return int(text) if text.isdigit() else _NUMBER_WORDS[text.lower()]


def _date(text: str) -> date | None:
    text = " ".join(text.replace(",", " ").split())
    for layout in ("%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y"):
        try:
            return datetime.strptime(text, layout).date()  # noqa: DTZ007 - a day, no time
        except ValueError:
            continue
    return None  # "1 Sept 2027": not a date we read, so not one we can call the deal's


def _frequency(text: str) -> str:
    return _FREQUENCY_WORDS.get(re.sub(r"[- ]", "", text.lower()), "")


# (mention, does it differ from the deal's own value?). A mention that restates the deal
# ("Net 30" on a net-30 deal) is standard paper; one that differs asks for something.
_RESTATABLE: list[tuple[re.Pattern[str], Callable[[re.Match[str], DealFacts], bool]]] = [
    (
        re.compile(r"\b(?:payment terms\s*(?:of|are|:)?\s*)?net\s*-?\s*(?P<days>\d{1,3})\b", re.I),
        lambda m, deal: int(m["days"]) != deal.payment_terms,
    ),
    (
        re.compile(
            rf"\b(?:(?:billed|invoiced|paid|payable)\s+(?P<after>{_FREQUENCY})"
            rf"|(?P<before>{_FREQUENCY})\s+(?:billing|invoicing|invoices?|payments?))\b",
            re.I,
        ),
        lambda m, deal: _frequency(m["after"] or m["before"]) != deal.billing_frequency,
    ),
    (
        re.compile(
            rf"\b(?:term\s+of\s+(?P<n1>{_NUMBER})[\s-]*(?P<u1>months?|years?)"
            rf"|(?P<n2>{_NUMBER})[\s-]*(?P<u2>months?|years?|yr)\s+"
            r"(?:term|contract|subscription|commitment|agreement))\b",
            re.I,
        ),
        lambda m, deal: (
            _number(m["n1"] or m["n2"])
            * (1 if (m["u1"] or m["u2"]).lower().startswith("m") else 12)
            != deal.term_months
        ),
    ),
    (
        # Codes only, upper case: "paid in ACH" is a payment method, not a currency.
        re.compile(rf"\b(?:in|currency:?)\s+(?P<code>{'|'.join(sorted(CURRENCY_CODES))})\b"),
        lambda m, deal: m["code"] != deal.currency,
    ),
    (
        re.compile(
            rf"\bstart(?:s|ing)?(?:\s+date)?\s*(?:on|of|from|is|:)?\s*(?P<date>{_DATE})\b", re.I
        ),
        lambda m, deal: deal.start_date is None or _date(m["date"]) != deal.start_date,
    ),
]


def notes_ask_for_custom_terms(facts: DealFacts) -> bool:
    """Whether the AE notes ask for terms beyond standard paper and the deal's own values.

    A term the notes restate as the deal already has it ("Net 30, standard paper" on a
    net-30 deal, "annual billing" on an annual one, "12 month term" on a 12-month deal) asks
    for nothing; one that differs does, and so does any other negotiated term.
    """
    rest = facts.ae_notes or ""
    for mention, differs in _RESTATABLE:
        if any(differs(m, facts) for m in mention.finditer(rest)):
            return True
        rest = mention.sub(" ", rest)  # judged: the generic words must not see it again
    return bool(_TERM_WORDS.search(rest))


def classify(facts: DealFacts) -> Classification:
    """The first pattern that fits, most specific first; code None with the reason otherwise."""
    problem = _unfit_reason(facts)
    if problem:
        return Classification(None, problem)
    skus = {line.sku for line in facts.lines}
    segments = {line.segment_index for line in facts.lines}
    if facts.account_has_msa:
        return Classification(ENTERPRISE_MSA, "the account has a master agreement on file")
    if notes_ask_for_custom_terms(facts):
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
