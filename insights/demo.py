"""A past for the demo's deals, so the dashboard has weeks to show.

`seed_demo` walks every demo deal through the real services in a second; its audit events
then all carry the same minute, and the dashboard shows every deal 0 days in its state and
every stage taking no time. Walked inside `demo_clock`, a deal starts on a given day in the
past and waits a plausible time before each transition: the services, history and audit log
read the moved clock (django.utils.timezone.now), so the trail is what a real deal would leave.
"""

import datetime
import random
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from django_fsm.signals import pre_transition

from dealdesk.models import Deal

# Days a deal waits in a state before leaving it (shortest, longest): drawn per transition.
DAYS_IN_STATE = {
    "new": (0.01, 0.2),
    "drafting": (0.3, 3),
    "in_review": (0.5, 6),
    "approved": (0.05, 1),
    "out_for_signature": (1, 15),
    "signed": (0.05, 1),
    "billing": (0.2, 2),
    "invoiced": (7, 40),
    "changes_requested": (0.5, 4),
    "manual_review": (0.5, 3),
}


@contextmanager
def demo_clock(start: datetime.datetime, rng: random.Random) -> Iterator[None]:
    """Run the block with the clock at `start`, moved on before each deal transition by a
    time drawn from DAYS_IN_STATE for the state the deal leaves (never past the real now)."""
    real_now = datetime.datetime.now(tz=datetime.UTC)
    moment = [start]

    def wait_in_state(sender, instance, name, source, target, **kwargs) -> None:
        shortest, longest = DAYS_IN_STATE.get(source, (0, 0))
        later = moment[0] + datetime.timedelta(days=rng.uniform(shortest, longest))
        moment[0] = min(later, real_now)

    # Before the transition runs: its state_changed_at, the history row and the audit event
    # all read the moved clock.
    pre_transition.connect(wait_in_state, sender=Deal, dispatch_uid="insights.demo_clock")
    try:
        with mock.patch("django.utils.timezone.now", side_effect=lambda: moment[0]):
            yield
    finally:
        pre_transition.disconnect(sender=Deal, dispatch_uid="insights.demo_clock")


def demo_start(number: int, count: int, *, weeks: int = 12) -> datetime.datetime:
    """Where deal `number` of `count` starts: spread evenly over the last `weeks` weeks, the
    later ones nearer today, so the last weeks have deals still under way."""
    span = datetime.timedelta(weeks=weeks)
    now = datetime.datetime.now(tz=datetime.UTC)
    return now - span + span * (number / max(count, 1))
