"""Clause extraction from AE notes: pick the backend by CLAUSE_EXTRACTOR, validate its output.

If the configured backend fails, the rules backend stands in and the result says why, so the
draft goes to legal review with that reason.
"""

from contextlib import nullcontext

from django.conf import settings

from contracts.extraction.base import ClauseExtractor, Extraction, ExtractionError
from contracts.extraction.rules import RulesExtractor
from contracts.extraction.validate import validate_clauses
from dealdesk.integrations.calls import vendor_call


def get_extractor(name: str | None = None) -> ClauseExtractor:
    name = name or settings.CLAUSE_EXTRACTOR
    if name == "rules":
        return RulesExtractor()
    if name == "openai":
        from contracts.extraction.openai_backend import OpenAIExtractor

        return OpenAIExtractor()
    raise ValueError(f"unknown CLAUSE_EXTRACTOR {name!r} (rules or openai)")


def extract_clauses(
    notes: str, *, extractor: ClauseExtractor | None = None, fall_back_on_outage: bool = True
) -> Extraction:
    """Extract and validate. With `fall_back_on_outage` False, a retryable failure (the LLM
    unreachable, rate-limited) is raised for the caller to retry instead of falling back."""
    extractor = extractor or get_extractor()
    fallback_reason = ""
    try:
        # The rules backend is ours, not a vendor: only a vendor's call is logged.
        logged = vendor_call(extractor.name, "extract_clauses")
        with nullcontext() if extractor.name == "rules" else logged:
            proposed = extractor.extract(notes)
    except ExtractionError as exc:
        if extractor.name == "rules" or (exc.retryable and not fall_back_on_outage):
            raise
        fallback_reason = f"{extractor.name} extraction failed, rules used instead: {exc}"
        extractor = RulesExtractor()
        proposed = extractor.extract(notes)
    clauses, dropped = validate_clauses(notes, proposed)
    return Extraction(
        clauses=clauses, backend=extractor.name, dropped=dropped, fallback_reason=fallback_reason
    )


__all__ = ["Extraction", "ExtractionError", "extract_clauses", "get_extractor"]
