"""When an object was last re-fetched from Stripe and acted on, so news it already showed is
not fetched again.

An event is sent after its change happened, so an event we received before a fetch of its
object began describes a change that fetch saw: converging on that fetch applied it. Both
times are our clock (the event's `received_at`, the fetch's start), never Stripe's. The mark
lives in the cache: a lost mark only costs a re-fetch, never a missed change.
"""

import datetime as dt

from django.core.cache import cache
from django.db import transaction

KEY = "stripe:converged:{}"
# Web and worker hosts' clocks may differ a little: only news received this long before a
# fetch counts as seen by it.
CLOCK_MARGIN = dt.timedelta(seconds=1)
KEEP_SECONDS = 24 * 3600  # events repeat and straggle for hours, not days


def converged_on_commit(object_id: str, fetched_from: dt.datetime) -> None:
    """Mark `object_id` as converged on a fetch begun at `fetched_from`, once what was done
    with that fetch is committed (a rolled-back converge applied nothing)."""

    def mark() -> None:
        key = KEY.format(object_id)
        previous = cache.get(key)
        if previous is None or previous < fetched_from:
            cache.set(key, fetched_from, KEEP_SECONDS)

    transaction.on_commit(mark)


def already_applied(object_id: str, received_at: dt.datetime) -> bool:
    """True when a committed converge of `object_id` fetched it after this news arrived."""
    fetched_from = cache.get(KEY.format(object_id))
    return fetched_from is not None and received_at + CLOCK_MARGIN <= fetched_from
