"""The one gate every backend's output passes: taxonomy-checked params, grounded quotes.

A clause is kept only if its quote is an exact substring of the notes: an LLM may paraphrase
or invent, and a clause nobody wrote must not reach a contract. Unknown types and params the
taxonomy refuses become `other` so legal reads them instead of the system guessing.
"""

from typing import Any

from pydantic import ValidationError

from contracts.extraction.base import ProposedClause
from contracts.taxonomy import OTHER, PARAMS, clean_params

SUMMARY_MAX = 300


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
        if clause not in kept:
            kept.append(clause)
    return kept, dropped


def _as_dict(item: Any) -> dict[str, Any] | None:
    if isinstance(item, ProposedClause):
        return {"type": item.type, "params": item.params, "quote": item.quote}
    return item if isinstance(item, dict) else None


def _printable(raw: dict[str, Any]) -> dict[str, Any]:
    return {key: raw.get(key) for key in ("type", "params", "quote")}


def _other(summary: str, quote: str) -> dict[str, Any]:
    return {"type": OTHER, "params": {"summary": summary[:SUMMARY_MAX]}, "quote": quote}
