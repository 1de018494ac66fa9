"""The one gate every backend's output passes: taxonomy-checked params, grounded quotes.

A clause is kept only if its quote is an exact substring of the notes: an LLM may paraphrase
or invent, and a clause nobody wrote must not reach a contract. The quote must also be long
enough to mean something (a lone "60" is in almost any notes) and state the clause's numbers
("Net 120" does not ground net_days 30). Unknown types and params the
taxonomy refuses become `other` so legal reads them instead of the system guessing.
"""

import re
from decimal import Decimal
from fractions import Fraction
from typing import Any

from pydantic import ValidationError

from contracts.extraction.base import ProposedClause
from contracts.extraction.numbers import NUM, number
from contracts.taxonomy import OTHER, PARAMS, clean_params

SUMMARY_MAX = 300
# A quote of a few characters ("60", "EU") is found in almost any notes and so grounds
# nothing. Counted in characters, not words: AE shorthand such as "net45", "Net-30" or
# "Evergreen" is one word and a whole term.
MIN_QUOTE_CHARS = 5
# The dropped reason of a term the notes say was refused: shown to legal, never a clause.
DECLINED_REASON = "mentioned, declined"
# The numeric params each clause's quote must state. Defaults a quote may leave out
# (price_uplift.every_months: 12) are not listed.
STATED_PARAMS = {
    "payment_terms": ("net_days",),
    "free_period": ("months",),
    "price_uplift": ("pct",),
    "renewal_price_cap": ("max_increase_pct",),
    "price_lock": ("months",),
    "auto_renewal": ("notice_days",),
    "termination_for_convenience": ("notice_days",),
    "sla_credit": ("uptime_pct", "credit_pct"),
    "liability_cap": ("multiple_of_fees",),
    "pilot_opt_out": ("days",),
    "billing_start": ("days",),
}
# How notes may write a param's unit, as factors on the number they state: months as years;
# days as weeks, months or years; a multiple of fees as months of fees ("12 months fees").
UNIT_FACTORS = {
    "months": (1, 12),
    "days": (1, 7, 30, 365),
    "multiple_of_fees": (1, Fraction(1, 12)),
}
_NUMBER = re.compile(NUM, re.IGNORECASE)


def validate_clauses(
    notes: str, proposed: list[ProposedClause | Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(kept clauses as {"type","params","quote"}, dropped ones with a "reason")."""
    kept: list[dict[str, Any]] = []
    dropped: list[dict[str, Any]] = []
    for item in proposed:
        raw = _as_dict(item)
        if raw is None:
            dropped.append({"item": repr(item)[:SUMMARY_MAX], "reason": "not a clause object"})
            continue
        clause_type, params, quote = raw.get("type"), raw.get("params"), raw.get("quote")
        if not isinstance(quote, str) or not quote.strip() or quote not in notes:
            dropped.append({**_printable(raw), "reason": "ungrounded: quote is not in the notes"})
            continue
        if len(quote.strip()) < MIN_QUOTE_CHARS:
            dropped.append({**_printable(raw), "reason": "ungrounded: quote is too short"})
            continue
        if raw.get("declined"):
            dropped.append({**_printable(raw), "reason": DECLINED_REASON})
            continue
        if clause_type not in PARAMS:
            dropped.append(
                {**_printable(raw), "reason": f"unknown type {clause_type!r}: kept as other"}
            )
            clause = _other(f"{clause_type}: {quote}", quote)
        else:
            try:
                clause = {
                    "type": clause_type,
                    "params": clean_params(clause_type, params if isinstance(params, dict) else {}),
                    "quote": quote,
                }
            except ValidationError as exc:
                problems = "; ".join(e["msg"] for e in exc.errors())[:SUMMARY_MAX]
                dropped.append(
                    {**_printable(raw), "reason": f"params refused ({problems}): kept as other"}
                )
                clause = _other(f"{clause_type}: {quote}", quote)
            if unstated := _unstated_params(clause):
                dropped.append(
                    {**_printable(raw), "reason": f"ungrounded: quote does not state {unstated}"}
                )
                continue
        if clause not in kept:
            kept.append(clause)
    return kept, dropped


def _unstated_params(clause: dict[str, Any]) -> str:
    """The clause's numeric params its quote does not state ("net_days 30"), or ""."""
    stated = {Fraction(number(m[0])) for m in _NUMBER.finditer(clause["quote"])}
    missing = []
    for name in STATED_PARAMS.get(clause["type"], ()):
        value = clause["params"].get(name)
        if value is None:
            continue
        exact = Fraction(Decimal(str(value)))  # clean_params made it a number
        factors = next((f for unit, f in UNIT_FACTORS.items() if name.endswith(unit)), (1,))
        if not any(n * factor == exact for n in stated for factor in factors):
            missing.append(f"{name} {value}")
    return ", ".join(missing)


def _as_dict(item: Any) -> dict[str, Any] | None:
    if isinstance(item, ProposedClause):
        return {
            "type": item.type,
            "params": item.params,
            "quote": item.quote,
            "declined": item.declined,
        }
    return item if isinstance(item, dict) else None


def _printable(raw: dict[str, Any]) -> dict[str, Any]:
    return {key: raw.get(key) for key in ("type", "params", "quote")}


def _other(summary: str, quote: str) -> dict[str, Any]:
    return {"type": OTHER, "params": {"summary": summary[:SUMMARY_MAX]}, "quote": quote}
