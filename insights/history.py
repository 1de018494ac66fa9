"""A deal's past read from the audit log: which state it was in at a given moment and since
when, and when it first reached each milestone of the flow.

Every deal transition writes one audit event in the transaction that moves it
(dealdesk.services._transition: `after={"state": ...}`), and a deal's creation writes
`deal.created` in state new. The event's time is when the deal entered the state; a deal's
`updated_at` moves with any edit and says nothing about its stage. The log is append-only,
so the figures for last quarter are the same tomorrow.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import (
    CharField,
    DateTimeField,
    Exists,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from audit.actions import Action, action_names
from audit.models import AuditEvent
from dealdesk.deal_events import DEAL_TYPE
from dealdesk.models import Deal, DealState
from dealdesk.services import TRANSITION_ACTIONS


def _names(*actions: Action) -> list[str]:
    # Legacy names (deal.approve, ...) stand for the same transitions in older chains.
    return [name for action in actions for name in action_names(action)]


# Events that put a deal into a state (named in their `after`).
STATE_ACTIONS = _names(Action.DEAL_CREATED, *TRANSITION_ACTIONS.values())
# Where a deal stands for nobody any more: no aging, no waiting value, no overdue stage.
FINAL_STATES = (DealState.PAID, DealState.CANCELLED)


@dataclass(frozen=True)
class Milestone:
    key: str
    label: str
    actions: tuple[str, ...]


# Closed-Won → drafted → approved → signed → invoiced → paid. A deal's milestone is the first
# time it got there: rework (changes requested, a declined signature) counts in the stage it
# held up, and the stages of one deal add up to its whole cycle.
MILESTONES = [
    Milestone("won", "Closed-Won", tuple(_names(Action.DEAL_CREATED))),
    Milestone("drafted", "Drafted", tuple(_names(Action.DEAL_SUBMITTED_FOR_REVIEW))),
    Milestone("approved", "Approved", tuple(_names(Action.DEAL_APPROVED))),
    Milestone("signed", "Signed", tuple(_names(Action.DEAL_SIGNED))),
    Milestone("invoiced", "Invoiced", tuple(_names(Action.DEAL_INVOICED))),
    Milestone("paid", "Paid", tuple(_names(Action.DEAL_PAID))),
]
# Not a milestone but read with them: a cancelled deal has no stage open any more.
CANCELLED = "cancelled"
_MILESTONE_OF = {name: m.key for m in MILESTONES for name in m.actions} | dict.fromkeys(
    _names(Action.DEAL_CANCELLED), CANCELLED
)


def _text_pk() -> Cast:
    # AuditEvent.object_id is text: compare like with like, so the (type, id, seq) index serves.
    return Cast(OuterRef("pk"), CharField())


def deals_as_of(deals: QuerySet[Deal], moment: datetime.datetime) -> QuerySet[Deal]:
    """`deals` annotated with `state_then` (their state just before `moment`) and
    `entered_at` (when they entered it), leaving out deals that did not exist yet. Two correlated subqueries
    on the audit log's (type, id, seq) index: the database does the work."""
    last_entry = AuditEvent.objects.filter(
        object_type=DEAL_TYPE,
        object_id=_text_pk(),
        action__in=STATE_ACTIONS,
        occurred_at__lt=moment,
    ).order_by("-seq")
    return deals.annotate(
        state_then=Subquery(
            last_entry.values(value=KT("after__state"))[:1], output_field=CharField()
        ),
        entered_at=Subquery(last_entry.values("occurred_at")[:1], output_field=DateTimeField()),
    ).filter(state_then__isnull=False)


def milestone_times(
    deals: QuerySet[Deal], *, before: datetime.datetime
) -> dict[int, dict[str, datetime.datetime]]:
    """deal id → milestone key → the first time the deal reached it (before `before`), for
    `deals`: one grouped query, a row per deal and milestone (and CANCELLED)."""
    text_pks = deals.annotate(text_pk=Cast("pk", CharField())).values("text_pk")
    rows = (
        AuditEvent.objects.filter(
            Q(object_type=DEAL_TYPE)
            & Q(object_id__in=text_pks)
            & Q(action__in=list(_MILESTONE_OF))
            & Q(occurred_at__lt=before)
        )
        .values("object_id", "action")
        .annotate(first=Min("occurred_at"))
        .order_by()
    )
    times: dict[int, dict[str, datetime.datetime]] = defaultdict(dict)
    for row in rows:
        key = _MILESTONE_OF[row["action"]]
        known = times[int(row["object_id"])].get(key)
        # A legacy and a current name for one milestone: the earlier of the two.
        if known is None or row["first"] < known:
            times[int(row["object_id"])][key] = row["first"]
    return dict(times)


def deals_in_cycle(
    deals: QuerySet[Deal], *, start: datetime.datetime, end: datetime.datetime
) -> QuerySet[Deal]:
    """The deals of `deals` whose stages the period's figures read: those that reached a
    milestone after Closed-Won in [start, end), and those still under way at `end` (an
    overdue stage may have begun long before the period)."""
    reached = AuditEvent.objects.filter(
        object_type=DEAL_TYPE,
        object_id=_text_pk(),
        action__in=[name for m in MILESTONES[1:] for name in m.actions],
        occurred_at__gte=start,
        occurred_at__lt=end,
    )
    under_way = deals_as_of(deals, end).exclude(state_then__in=FINAL_STATES).values("pk")
    return deals.filter(Q(Exists(reached)) | Q(pk__in=under_way))
