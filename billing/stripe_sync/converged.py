"""When an object was last re-fetched from Stripe and acted on, so news it already showed is
not fetched again.

An event is sent after its change happened, so an event we received before a fetch of its
object began describes a change that fetch saw: converging on that fetch applied it. Both
times are our clock (the event's `received_at`, the fetch's start), never Stripe's. The mark
is a database row (`StripeConvergence`) written in the caller's transaction: every worker
reads the same one, and a converge that rolls back takes its mark with it.
"""

import datetime as dt
from collections.abc import Iterable

from billing.models import StripeConvergence

# Web and worker hosts' clocks may differ a little: only news received this long before a
# fetch counts as seen by it.
CLOCK_MARGIN = dt.timedelta(seconds=1)


def converged_mark(object_id: str, fetched_from: dt.datetime) -> None:
    """Mark `object_id` as converged on a fetch begun at `fetched_from`; an older fetch
    never moves a newer mark back (two workers may commit in either order)."""
    moved = StripeConvergence.objects.filter(
        object_id=object_id, fetched_from__lt=fetched_from
    ).update(fetched_from=fetched_from)
    if not moved:
        # No row yet, or a newer one: the insert is a no-op for the latter.
        StripeConvergence.objects.bulk_create(
            [StripeConvergence(object_id=object_id, fetched_from=fetched_from)],
            ignore_conflicts=True,
        )


def fetched_since(object_ids: Iterable[str]) -> dict[str, dt.datetime]:
    """The start of each object's last committed converge (objects never converged left out)."""
    return dict(
        StripeConvergence.objects.filter(object_id__in=set(object_ids)).values_list(
            "object_id", "fetched_from"
        )
    )


def already_applied(fetched_from: dt.datetime | None, received_at: dt.datetime) -> bool:
    """True when a converge whose fetch began at `fetched_from` saw news received then."""
    return fetched_from is not None and received_at + CLOCK_MARGIN <= fetched_from
