"""What every clause extraction backend is: notes in, proposed clauses out.

Backends propose; `contracts.extraction.validate` decides what is kept, whatever the backend.
"""

from dataclasses import dataclass, field
from typing import Any, Protocol

from dealdesk.integrations.errors import IntegrationError


@dataclass(frozen=True)
class ProposedClause:
    """A clause as a backend found it, before validation (params not yet checked).

    `declined`: the notes mention the term only as refused ("asked for MFN, we said no"). It is
    never a clause; the validator reports it among the dropped ones so legal sees it was raised.
    """

    type: str
    params: dict[str, Any]
    quote: str
    declined: bool = False


class ExtractionError(IntegrationError):
    """A backend could not extract; `retryable` says whether trying again may help."""


class ClauseExtractor(Protocol):
    name: str

    def extract(self, notes: str) -> list[ProposedClause]: ...


@dataclass(frozen=True)
class Extraction:
    """The validated result: what the pipeline stores and `extract_clauses` prints."""

    clauses: list[dict[str, Any]]
    backend: str
    dropped: list[dict[str, Any]] = field(default_factory=list)  # with the reason for each
    fallback_reason: str = ""  # set when the configured backend failed and rules stood in
