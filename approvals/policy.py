"""The approval policy: which approvals a deal needs, and why.

Pure functions over plain facts, so "why does this deal need the CFO?" is answered by
reading `evaluate` and tested without a database. The rules themselves are rows Finance
edits (`approvals.models.ApprovalRule`); `ApprovalRule.as_rule()` turns one into a `Rule`.

A rule fires when every condition it sets holds; a rule that sets none fires for every
deal. Rules of one step run in parallel; a later step opens when the earlier ones are
approved. Fired rules of the same step and group become one approval request.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

POLICY_CURRENCY = "USD"


@dataclass(frozen=True)
class PolicyFacts:
    """What the policy looks at, taken from a deal, its lines and its contract's clauses."""

    currency: str
    tcv: Decimal
    # TCV at the policy's exchange rate; None when Finance has set no rate for the currency.
    tcv_in_policy_currency: Decimal | None
    max_discount_pct: Decimal
    max_discount_line: str  # which line gives the deal its highest discount, for reasons
    lines_below_floor: tuple[str, ...]  # "line 2 (SEAT-PRO): 31.00 below floor 35.00"
    term_months: int
    payment_net_days: int
    pattern: str | None
    clause_types: frozenset[str]
    banned_clause_types: frozenset[str]  # present in the contract and banned
    review_clause_types: frozenset[str]  # present and needing legal review (non-standard)
    # Code → the title people read ("Termination for convenience"); a code missing here is
    # shown as it is.
    clause_titles: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    name: str
    step: int
    group: str
    id: int | None = None
    discount_pct_above: Decimal | None = None
    tcv_above: Decimal | None = None
    term_months_above: int | None = None
    payment_net_days_above: int | None = None
    patterns: frozenset[str] = frozenset()
    clause_types: frozenset[str] = frozenset()
    any_banned_clause: bool = False
    any_review_clause: bool = False
    below_floor: bool = False


@dataclass(frozen=True)
class FiredRule:
    rule: Rule
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class RequiredApproval:
    """One approval request to open: a group at a step, with every rule that asked for it."""

    step: int
    group: str
    fired: tuple[FiredRule, ...] = field(default=())

    @property
    def reasons(self) -> list[str]:
        """One line a rule: its name once, then every condition that made it fire."""
        return [f"{f.rule.name}: {'; '.join(f.reasons)}" for f in self.fired]


def _pct(value: Decimal) -> str:
    return f"{value.normalize():f} %"


def _money(value: Decimal, currency: str) -> str:
    return f"{value:,.2f} {currency}"


def _conditions(rule: Rule, facts: PolicyFacts) -> list[tuple[bool, str]]:
    """(holds, reason) for each condition the rule sets."""
    checks: list[tuple[bool, str]] = []
    if rule.discount_pct_above is not None:
        checks.append(
            (
                facts.max_discount_pct > rule.discount_pct_above,
                f"discount {_pct(facts.max_discount_pct)} on {facts.max_discount_line} "
                f"is above {_pct(rule.discount_pct_above)}",
            )
        )
    if rule.tcv_above is not None:
        threshold = _money(rule.tcv_above, POLICY_CURRENCY)
        if facts.tcv_in_policy_currency is None:
            # Fail safe: a TCV the policy cannot compare asks for the approval.
            checks.append(
                (
                    True,
                    f"no policy exchange rate for {facts.currency}, so TCV counts as above {threshold}",
                )
            )
        else:
            shown = _money(facts.tcv, facts.currency)
            if facts.currency != POLICY_CURRENCY:
                shown += f" ({_money(facts.tcv_in_policy_currency, POLICY_CURRENCY)})"
            checks.append(
                (facts.tcv_in_policy_currency > rule.tcv_above, f"TCV {shown} is above {threshold}")
            )
    if rule.term_months_above is not None:
        checks.append(
            (
                facts.term_months > rule.term_months_above,
                f"term {facts.term_months} months is above {rule.term_months_above}",
            )
        )
    if rule.payment_net_days_above is not None:
        checks.append(
            (
                facts.payment_net_days > rule.payment_net_days_above,
                f"payment terms net {facts.payment_net_days} are beyond net "
                f"{rule.payment_net_days_above}",
            )
        )
    if rule.patterns:
        checks.append(
            (facts.pattern in rule.patterns, f"deal pattern is {facts.pattern or 'none'}")
        )
    if rule.clause_types:
        present = sorted(facts.clause_types & rule.clause_types)
        checks.append((bool(present), f"clause {_titles(present, facts)} in the contract"))
    if rule.any_banned_clause:
        banned = sorted(facts.banned_clause_types)
        checks.append((bool(banned), f"banned clause {_titles(banned, facts)} in the contract"))
    if rule.any_review_clause:
        review = sorted(facts.review_clause_types)
        checks.append(
            (bool(review), f"non-standard clause {_titles(review, facts)} in the contract")
        )
    if rule.below_floor:
        checks.append((bool(facts.lines_below_floor), "; ".join(facts.lines_below_floor)))
    return checks


def _titles(codes: Iterable[str], facts: PolicyFacts) -> str:
    return ", ".join(facts.clause_titles.get(code, code) for code in codes)


def fire(rule: Rule, facts: PolicyFacts) -> FiredRule | None:
    """The rule with the reasons it fired, or None when one of its conditions fails."""
    checks = _conditions(rule, facts)
    if not all(holds for holds, _ in checks):
        return None
    return FiredRule(rule, tuple(reason for _, reason in checks) or ("applies to every deal",))


def evaluate(rules: Iterable[Rule], facts: PolicyFacts) -> list[FiredRule]:
    """Every rule that fires, in step order."""
    fired = (fire(rule, facts) for rule in sorted(rules, key=lambda r: (r.step, r.name)))
    return [f for f in fired if f is not None]


def required_approvals(fired: Sequence[FiredRule]) -> list[RequiredApproval]:
    """Fired rules grouped into one request per (step, group), in step order."""
    grouped: dict[tuple[int, str], list[FiredRule]] = {}
    for f in fired:
        grouped.setdefault((f.rule.step, f.rule.group), []).append(f)
    return [
        RequiredApproval(step=step, group=group, fired=tuple(items))
        for (step, group), items in sorted(grouped.items())
    ]
