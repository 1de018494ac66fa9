"""What the sync asks of a CRM, and the one error type every backend raises."""

import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar

T = TypeVar("T")


class CRMError(Exception):
    """A CRM call failed. `retryable`: the same call may succeed later (5xx, timeout).

    `code` names the cases the sync treats apart: SESSION_EXPIRED (log in again, once) and
    REQUEST_LIMIT_EXCEEDED (stop the run cleanly; the org's daily API quota is spent).
    """

    SESSION_EXPIRED = "SESSION_EXPIRED"
    REQUEST_LIMIT_EXCEEDED = "REQUEST_LIMIT_EXCEEDED"

    def __init__(self, message: str, *, retryable: bool = False, code: str = "") -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code


@dataclass(frozen=True)
class CRMQuery:
    """Records of one object: changed since `since` (None: all), or only those in `ids`.

    `id_field` is the field `ids` match (Id, or OpportunityId for a deal's lines).
    Deleted records are always included, flagged by IsDeleted.
    """

    object_name: str
    fields: Sequence[str]
    since: datetime | None = None
    ids: Sequence[str] = field(default_factory=tuple)
    id_field: str = "Id"


class CRMBackend(Protocol):
    def pages(self, query: CRMQuery) -> Iterator[list[dict]]:
        """The matching records as the REST API returns them, a page at a time, oldest first."""
        ...


def with_retries(
    call: Callable[[], T], *, retries: int, backoff_seconds: float, on_retry=None
) -> T:
    """Run `call`, retrying a retryable CRMError with exponential backoff and jitter."""
    for attempt in range(retries + 1):
        try:
            return call()
        except CRMError as exc:
            if not exc.retryable or attempt == retries:
                raise
            if on_retry is not None:
                on_retry(exc, attempt + 1)
            # Jitter spreads the retries of many clients hitting the same outage.
            time.sleep(backoff_seconds * 2**attempt * (1 + random.random() / 2))  # noqa: S311
    raise AssertionError("unreachable")
