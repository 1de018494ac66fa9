"""Clause extraction from AE notes: pick the backend by CLAUSE_EXTRACTOR, validate its output.

If the configured backend fails, the rules backend stands in and the result says why, so the
draft goes to legal review with that reason.
"""

from django.conf import settings

from contracts.extraction.base import ClauseExtractor, Extraction, ExtractionError
from contracts.extraction.rules import RulesExtractor
from contracts.extraction.validate import validate_clauses


def get_extractor(name: str | None = None) -> ClauseExtractor:
    name = name or settings.CLAUSE_EXTRACTOR
    if name == "rules":
        return RulesExtractor()
    if name == "openai":
        from contracts.extraction.openai_backend import OpenAIExtractor

        return OpenAIExtractor()
    raise ValueError(f"unknown CLAUSE_EXTRACTOR {name!r} (rules or openai)")


def extract_clauses(notes: str, *, extractor: ClauseExtractor | None = None) -> Extraction:
    extractor = extractor or get_extractor()
    fallback_reason = ""
    try:
        proposed = extractor.extract(notes)
    except ExtractionError as exc:
        if extractor.name == "rules":
            raise
        fallback_reason = f"{extractor.name} extraction failed, rules used instead: {exc}"
        extractor = RulesExtractor()
        proposed = extractor.extract(notes)
    clauses, dropped = validate_clauses(notes, proposed)
    return Extraction(
        clauses=clauses, backend=extractor.name, dropped=dropped, fallback_reason=fallback_reason
    )


__all__ = ["Extraction", "ExtractionError", "extract_clauses", "get_extractor"]
