"""What the sync asks of a CRM, and the one error type every backend raises."""

import queue
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar

from dealdesk.integrations.errors import IntegrationError

T = TypeVar("T")


class CRMError(IntegrationError):
    """A CRM call failed. `retryable`: the same call may succeed later (5xx, timeout, 429);
    `retry_after`: the seconds Salesforce asked us to wait, if it said.

    `code` names the cases the sync treats apart: SESSION_EXPIRED (log in again, once) and
    REQUEST_LIMIT_EXCEEDED (stop the run cleanly; the org's daily API quota is spent).
    """

    SESSION_EXPIRED = "SESSION_EXPIRED"
    REQUEST_LIMIT_EXCEEDED = "REQUEST_LIMIT_EXCEEDED"


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
    # The ids this CRM hands out: the sync quarantines a record with any other, and never
    # asks for one (a path character or an odd length must reach no query and no file).
    ids: re.Pattern[str]

    def describe(self, object_name: str) -> frozenset[str] | None:
        """The object's field names and relationship names (`Contact` for `Contact.Name`),
        or None when the backend cannot tell (a file bundle has no schema)."""
        ...

    def pages(self, query: CRMQuery) -> Iterator[list[dict]]:
        """The matching records as the REST API returns them, a page at a time, oldest first."""
        ...


_END = object()


def read_ahead(pages: Iterator[T]) -> Iterator[T]:
    """Yield from `pages` while a background thread already fetches the next one.

    The sync writes one page while the CRM prepares and sends the next, so the two waits
    overlap instead of adding up (a remote API's latency, or a second core). At most three
    pages are held at once (the one being written, one queued, one arriving): memory stays
    flat. An error fetching a page is raised where that page would have been yielded. The
    thread only talks to the CRM, never to the database.
    """
    handoff: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: tuple) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for page in pages:
                if not put((page, None)):
                    return
            put((_END, None))
        except BaseException as exc:  # handed to the consumer, raised there
            put((None, exc))
        finally:
            close = getattr(pages, "close", None)  # a generator: runs its cleanup here
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="crm-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            page, error = handoff.get()
            if error is not None:
                raise error
            if page is _END:
                return
            yield page
    finally:
        # The consumer stopped (done, or failed while writing): let the thread finish.
        stop.set()
        thread.join()
