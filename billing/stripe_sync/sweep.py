"""The nightly sweep: every Stripe event since the last one seen, fed through the webhook
inbox like a delivery (one already there is not stored again), so an event whose webhook
never arrived is handled all the same. Events come straight from Stripe's API with our key:
they are as genuine as a signed delivery.

The cursor (`EventCursor(source="stripe")`) moves past a page only once every event of it is
stored, so a sweep that fails half-way starts the next time where it stopped.
"""

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.utils import timezone

from billing.ledger.stripe_objects import PAGE, events_older, events_page
from billing.models import EventCursor
from dealdesk.integrations.errors import IntegrationError
from dealdesk.integrations.webhooks import VerifiedEvent, webhook_receive

SOURCE = VENDOR = "stripe"

Page = list[dict[str, Any]]


def stripe_sweep() -> int:
    """Store every event after the cursor in the inbox, oldest first; how many were new."""
    cursor, _ = EventCursor.objects.get_or_create(source=SOURCE)
    lookback = timezone.now() - dt.timedelta(days=settings.STRIPE_SWEEP_FIRST_LOOKBACK_DAYS)
    if not cursor.last_event_id:
        return _feed(cursor, _since(int(lookback.timestamp())))
    try:
        return _feed(cursor, _newer_than(cursor.last_event_id))
    except IntegrationError as error:
        if error.code != "resource_missing":
            raise
        # The cursor's event is older than Stripe keeps (30 days): start again from its time.
        since = cursor.last_event_created or lookback
        return _feed(cursor, _since(int(since.timestamp())))


def _feed(cursor: EventCursor, pages: Iterator[Page]) -> int:
    stored = 0
    for page in pages:
        for event in page:
            _, created = webhook_receive(
                vendor=VENDOR,
                event=VerifiedEvent(event_id=event["id"], type=event["type"], payload=event),
            )
            stored += created
        newest = page[-1]
        cursor.last_event_id = newest["id"]
        cursor.last_event_created = dt.datetime.fromtimestamp(newest["created"], dt.UTC)
        cursor.swept_at = timezone.now()
        cursor.save()
    return stored


def _newer_than(event_id: str) -> Iterator[Page]:
    """Pages of the events after `event_id`, each oldest first (Stripe lists newest first;
    `ending_before` gives the page just after an event)."""
    while True:
        page = events_page(ending_before=event_id)
        if not page["data"]:
            return
        yield page["data"][::-1]
        if not page["has_more"]:
            return
        event_id = page["data"][0]["id"]


def _since(moment: int) -> Iterator[Page]:
    """The first sweep: every event since `moment`, walked back from the newest, then
    handed over oldest first."""
    page = events_page(since=moment)
    found = page["data"]
    while page["has_more"] and found:
        page = events_older(starting_after=found[-1]["id"], since=moment)
        found += page["data"]
    found.reverse()
    for start in range(0, len(found), PAGE):
        yield found[start : start + PAGE]
