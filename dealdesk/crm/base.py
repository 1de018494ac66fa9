"""What the sync asks of a CRM, and the one error type every backend raises."""

import queue
import random
import threading
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
