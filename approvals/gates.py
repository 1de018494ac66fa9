"""The four gates a deal passes before signature, as pure functions over plain facts.

Each returns a `GateResult` with every reason, so the deal page, `explain_approvals` and the
tests read the same sentences. A failed gate is hard: the deal goes back to
`changes_requested` with the reasons. Pricing is different: a discount is not wrong, it
needs someone's authority, so `pricing_tier` only fails on prices no one may approve and
otherwise reports the tier the policy (approvals.policy) turns into approval requests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from dealdesk.pricing import minor_unit

CUSTOMER_VERIFIED = "customer_verified"
BILLABLE = "billable"
PRICING_TIER = "pricing_tier"
TERMS_COMPLIANCE = "terms_compliance"
GATES = (CUSTOMER_VERIFIED, BILLABLE, PRICING_TIER, TERMS_COMPLIANCE)

# Limits no approver can waive: beyond them the deal goes back to the AE.
MAX_NET_DAYS = 120
MAX_FREE_MONTHS = 6


@dataclass(frozen=True)
class GateResult:
    gate: str
    passed: bool
    reasons: tuple[str, ...] = ()


def _result(gate: str, problems: list[str], notes: Sequence[str] = ()) -> GateResult:
    return GateResult(gate, not problems, tuple(problems) or tuple(notes))


def _count(number: int, noun: str) -> str:
    """ "1 line", "3 lines": reasons are read by people."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


# customer_verified ------------------------------------------------------------------------


@dataclass(frozen=True)
class Party:
    crm_id: str
    legal_name: str
    billing_address: str


@dataclass(frozen=True)
class CustomerFacts:
    contract: Party  # as the contract version names the customer
    crm: Party | None  # the account as the latest CRM sync left it; None if the CRM lost it
    signer_name: str
    signer_email: str


def customer_verified(facts: CustomerFacts) -> GateResult:
    problems = []
    crm, contract = facts.crm, facts.contract
    if crm is None:
        problems.append(f"account {contract.crm_id} is not in the latest CRM data")
    else:
        for label, ours, theirs in (
            ("CRM id", contract.crm_id, crm.crm_id),
            ("legal name", contract.legal_name, crm.legal_name),
            ("billing address", contract.billing_address, crm.billing_address),
        ):
            if ours.strip() != theirs.strip():
                problems.append(
                    f"{label} on the contract {ours!r} differs from the CRM's {theirs!r}"
                )
    if not facts.signer_email:
        problems.append("no signer contact with an e-mail address on the opportunity")
    return _result(
        CUSTOMER_VERIFIED,
        problems,
        [
            f"{contract.legal_name} ({contract.crm_id}) matches the CRM; signer {facts.signer_name} <{facts.signer_email}>"
        ],
    )


# billable ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BillableLine:
    label: str  # "line 2 (SEAT-PRO)"
    in_catalog: bool
    active: bool
    billing_complete: bool  # Finance has set kind, interval and list price
    catalog_currency: str
    segment_index: int


@dataclass(frozen=True)
class BillableFacts:
    """Opportunity.Amount (`crm_amount`, None when the CRM sent none) means one of two
    figures, both by Dealdesk's pricing of the contract version:
    - Salesforce's own rule, the sum over lines of quantity × unit price × (1 − discount)
      (`priced_amount`, the lines' TotalPrice, one billing interval each): Salesforce knows
      nothing of a free period, so it is not in it;
    - the TCV the contract bills over the term (`tcv`), net of its free period: what an AE
      types as the amount when the deal's value is agreed net of free months.
    """

    currency: str
    term_months: int
    lines: Sequence[BillableLine]
    priced_amount: Decimal
    crm_amount: Decimal | None
    tcv: Decimal | None = None  # None: only the lines' TotalPrice is compared
    free_months: int = 0  # the contract's free period, named in the reason


def billable(facts: BillableFacts) -> GateResult:
    problems = []
    if not facts.lines:
        problems.append("the deal has no lines")
    for line in facts.lines:
        if not line.in_catalog:
            problems.append(f"{line.label} is not in the catalog")
        elif not line.active:
            problems.append(f"{line.label} is an inactive catalog product")
        elif not line.billing_complete:
            problems.append(f"{line.label}: Finance has not completed its billing setup")
        elif line.catalog_currency != facts.currency:
            problems.append(
                f"{line.label} is priced in {line.catalog_currency}, the deal in {facts.currency}"
            )
    segments = sorted({line.segment_index for line in facts.lines})
    if segments and segments != list(range(1, len(segments) + 1)):
        problems.append(f"ramp segments {segments} are not contiguous from 1")
    years = -(-facts.term_months // 12)
    if segments and segments[-1] > years:
        problems.append(
            f"ramp segment {segments[-1]} starts after the {facts.term_months}-month term ends"
        )
    matched = None
    if facts.crm_amount is None:
        problems.append("the CRM sent no amount to check the price against")
    else:
        # Within rounding: Salesforce rounds each line's TotalPrice to the minor unit, and
        # our TCV rounds each line's term value once.
        tolerance = Decimal(1).scaleb(-minor_unit(facts.currency)) * max(1, len(facts.lines))
        figures = _crm_amount_figures(facts)
        matched = next(
            (name for name, value in figures if abs(value - facts.crm_amount) <= tolerance), None
        )
        if matched is None:
            difference = facts.priced_amount - facts.crm_amount
            problem = (
                f"priced amount {facts.priced_amount:,} {facts.currency} differs from the CRM "
                f"amount {facts.crm_amount:,} by {difference:+,} (the priced amount is "
                f"{figures[0][0]})"
            )
            for name, value in figures[1:]:
                problem += f", and so does {name} ({value:,})"
            problems.append(problem)
    note = f"{_count(len(facts.lines), 'line')} on active catalog products"
    if matched is not None:
        note += f"; CRM amount {facts.crm_amount:,} {facts.currency} matches {matched}"
    return _result(BILLABLE, problems, [note])


def _crm_amount_figures(facts: BillableFacts) -> list[tuple[str, Decimal]]:
    """What Opportunity.Amount may mean (BillableFacts), each named as the reasons say it."""
    figures = [("the lines' total, Salesforce's sum of TotalPrice", facts.priced_amount)]
    if facts.tcv is not None:
        net_of = f", net of {_count(facts.free_months, 'free month')}" if facts.free_months else ""
        figures.append((f"the TCV the contract bills{net_of}", facts.tcv))
    return figures


# pricing_tier -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PricedLine:
    label: str
    discount_pct: Decimal
    net_unit_price: Decimal
    floor_price: Decimal | None


def lines_below_floor(lines: Sequence[PricedLine]) -> tuple[str, ...]:
    return tuple(
        f"{line.label}: net {line.net_unit_price:,.2f} below floor {line.floor_price:,.2f}"
        for line in lines
        if line.floor_price is not None and line.net_unit_price < line.floor_price
    )


def max_discount(lines: Sequence[PricedLine]) -> tuple[Decimal, str]:
    """The highest line discount and the line that has it."""
    if not lines:
        return Decimal(0), "no line"
    top = max(lines, key=lambda line: line.discount_pct)
    return top.discount_pct, top.label


def pricing_tier(lines: Sequence[PricedLine], approvals_needed: Sequence[str]) -> GateResult:
    """Hard failure only for prices nobody may approve; otherwise the tier, as reasons."""
    problems = [
        f"{line.label}: discount {line.discount_pct}% is outside 0–100%"
        for line in lines
        if not Decimal(0) <= line.discount_pct <= Decimal(100)
    ]
    problems += [f"{line.label}: negative net price" for line in lines if line.net_unit_price < 0]
    discount, where = max_discount(lines)
    notes = [f"highest discount {discount.normalize():f}% on {where}"]
    notes += lines_below_floor(lines)
    notes.append(
        "needs approval from " + ", ".join(approvals_needed)
        if approvals_needed
        else "within standard pricing: no approval needed"
    )
    return _result(PRICING_TIER, problems, notes)


# terms_compliance -------------------------------------------------------------------------


@dataclass(frozen=True)
class Clause:
    type: str
    params: dict


@dataclass(frozen=True)
class TermsFacts:
    pattern: str | None
    clauses: Sequence[Clause]
    banned_types: frozenset[str]
    required_types: frozenset[str]  # by the deal's pattern
    legal_exceptions: frozenset[str]  # banned types Legal explicitly allowed on this contract


def terms_compliance(facts: TermsFacts) -> GateResult:
    problems = []
    present = {clause.type for clause in facts.clauses}
    for banned in sorted((present & facts.banned_types) - facts.legal_exceptions):
        problems.append(f"banned clause {banned} without a Legal exception")
    for missing in sorted(facts.required_types - present):
        problems.append(f"pattern {facts.pattern} requires a {missing} clause")
    for clause in facts.clauses:
        if clause.type == "payment_terms" and (clause.params.get("net_days") or 0) > MAX_NET_DAYS:
            problems.append(
                f"payment terms net {clause.params['net_days']} exceed the net {MAX_NET_DAYS} limit"
            )
        if clause.type == "free_period" and (clause.params.get("months") or 0) > MAX_FREE_MONTHS:
            problems.append(
                f"a free period of {clause.params['months']} months exceeds {MAX_FREE_MONTHS}"
            )
    excepted = sorted(present & facts.banned_types & facts.legal_exceptions)
    # "none banned" only when true: an excepted banned clause is named instead.
    banned_note = "none banned" if not excepted else "banned ones excepted by Legal"
    notes = [f"{_count(len(present), 'clause type')}, {banned_note}, required clauses present"]
    notes += [f"banned clause {t} allowed by a Legal exception" for t in excepted]
    return _result(TERMS_COMPLIANCE, problems, notes)
