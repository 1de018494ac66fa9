"""Reading the audit log."""

import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.fields.json import KeyTextTransform

from audit.actions import LEGACY, Action, action_names
from audit.models import AuditEvent


def audit_events_for(*, obj: models.Model) -> QuerySet[AuditEvent]:
    """Events about one model instance, oldest first."""
    return audit_events_for_objects(object_type=obj._meta.label_lower, object_ids=[str(obj.pk)])


def audit_events_for_objects(*, object_type: str, object_ids: list[str]) -> QuerySet[AuditEvent]:
    """Events about several objects of one type (e.g. a deal's contract versions), by seq."""
    return (
        AuditEvent.objects.filter(
            object_type=object_type, object_id__in=[str(object_id) for object_id in object_ids]
        )
        .select_related("actor")
        .order_by("seq")
    )


# An approval decision, as the log names it now and named it before the enum (LEGACY).
DECISION_ACTIONS = [
    name
    for action in (
        Action.APPROVAL_REQUEST_APPROVED,
        Action.APPROVAL_REQUEST_REJECTED,
        Action.CONTRACT_VERSION_APPROVED,
        Action.CONTRACT_VERSION_CHANGES_REQUESTED,
    )
    for name in (action.value, *(old for old, new in LEGACY.items() if new == action))
]


def access_review(*, q: str = "", group: int | None = None, active: bool | None = None) -> QuerySet:
    """The quarterly access review: every user with their groups (prefetched), last login and
    last approval decision (when, on what, the deal), from the audit log in the same query."""
    users = get_user_model().objects.all()
    if q:
        users = users.filter(
            Q(username__icontains=q)
            | Q(first_name__icontains=q)
            | Q(last_name__icontains=q)
            | Q(email__icontains=q)
        )
    if group is not None:
        users = users.filter(groups=group)
    if active is not None:
        users = users.filter(is_active=active)
    last = AuditEvent.objects.filter(actor=OuterRef("pk"), action__in=DECISION_ACTIONS).order_by(
        "-seq"
    )
    users = users.annotate(
        last_decision_at=Subquery(last.values("occurred_at")[:1]),
        last_decision_on=Subquery(last.values("object_repr")[:1]),
        # As text: a JSON key read back through a subquery is not decoded again.
        last_decision_deal=Subquery(
            last.annotate(deal_id=KeyTextTransform("deal_id", "data")).values("deal_id")[:1]
        ),
    ).prefetch_related(Prefetch("groups", queryset=Group.objects.order_by("name")))
    return users


def audit_log(
    *,
    actor_id: int | None = None,
    by_system: bool = False,
    action: Action | None = None,
    since: datetime.datetime | None = None,
    before: datetime.datetime | None = None,
) -> QuerySet[AuditEvent]:
    """The log as an auditor filters it, newest first: by who acted (a user, or the system
    when no person did), what was done (current and legacy names alike) and when
    (`since` inclusive, `before` exclusive)."""
    events = AuditEvent.objects.select_related("actor").order_by("-seq")
    if by_system:
        events = events.filter(actor__isnull=True)
    elif actor_id is not None:
        events = events.filter(actor_id=actor_id)
    if action is not None:
        events = events.filter(action__in=action_names(action))
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    if before is not None:
        events = events.filter(occurred_at__lt=before)
    return events
