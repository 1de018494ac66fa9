"""When legal must read a contract: the one rule, for drafting and for the approval policy.

A draft goes to legal review when its pattern says so, a clause is banned, a clause of a
type the library marks for review is not the library's own standard wording, extraction
fell back to the offline rules, or it dropped a clause as ungrounded. The approval policy
("Legal: non-standard clause") asks Legal by the same clause rule, `clause_needs_legal_review`.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from contracts.snapshot_types import ContractSnapshot, SnapshotClause
from dealdesk.models import DealPattern


def clause_needs_legal_review(clause: SnapshotClause) -> bool:
    """The library marks the clause's type for review and the wording is not its standard
    one (a pattern's required clause, added from the library, is not an exception)."""
    return clause.needs_legal_review and clause.source != "library"


def review_clause_types(snapshot: ContractSnapshot) -> frozenset[str]:
    """The clause types in the contract that legal must read (for the approval policy)."""
    return frozenset(c.type for c in snapshot.clauses if clause_needs_legal_review(c))


def legal_review_reasons(
    *,
    pattern: DealPattern | None,
    clauses: Sequence[SnapshotClause],
    fallback_reason: str = "",
    dropped: Sequence[Mapping[str, Any]] = (),
) -> list[str]:
    """Why legal must read a draft; empty when nothing in it needs legal.

    `fallback_reason` is the extraction's (why the offline rules were used instead), and
    `dropped` the clauses extraction dropped, each with its reason.
    """
    reasons = []
    if pattern is not None and pattern.requires_legal_review:
        reasons.append(f"pattern {pattern.name} requires legal review")
    for clause in clauses:
        if clause.banned:
            reasons.append(f"banned clause: {clause.title}")
        elif clause_needs_legal_review(clause):
            reasons.append(f"clause needs legal review: {clause.title}")
    if fallback_reason:
        reasons.append(fallback_reason)
    ungrounded = [d for d in dropped if d["reason"].startswith("ungrounded")]
    if ungrounded:
        reasons.append(f"{len(ungrounded)} extracted clause(s) dropped as ungrounded")
    return reasons
