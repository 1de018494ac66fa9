"""The inbox's own writes: taking a waiting item ("Assign to me"), handing it back, and a
person's daily-digest choice. Each is audited; resolving the item happens where it lives."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.actions import Action
from audit.services import audit_record, record_change
from inbox.models import InboxAssignment, InboxPreference
from inbox.selectors import waiting_entry

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


class NotWaiting(PermissionDenied):
    """No such waiting item for this person: resolved already, or not theirs to see. Views
    answer 404 either way, so a hidden item's existence is not revealed."""


def _locked(kind: str, key: str) -> InboxAssignment | None:
    return InboxAssignment.objects.select_for_update().filter(kind=kind, object_key=key).first()


@transaction.atomic
def inbox_assign(*, kind: str, key: str, actor: AbstractBaseUser) -> InboxAssignment:
    """Assign a waiting item to `actor` (taking it over from whoever held it)."""
    entry = waiting_entry(user=actor, kind=kind, key=key)
    if entry is None:
        raise NotWaiting(f"{kind} {key} is not waiting for you")
    _source, since = entry
    # Locked: two people pressing "Assign to me" at once end with one holder and two events.
    assignment = _locked(kind, key)
    if assignment is None:
        # Nothing to lock yet: whoever inserts first holds it; the other finds the unique
        # (kind, key) row taken, and takes it over like any later "Assign to me".
        try:
            with transaction.atomic():
                return _assigned(InboxAssignment(kind=kind, object_key=key), actor, None, since)
        except IntegrityError:
            assignment = _locked(kind, key)
    current = assignment.assigned_at >= since
    if current and assignment.user_id == actor.pk:
        return assignment
    before = {"user": assignment.user.get_username() if current else None}
    return _assigned(assignment, actor, before, since)


def _assigned(
    assignment: InboxAssignment,
    actor: AbstractBaseUser,
    before: dict | None,
    since: datetime.datetime,
) -> InboxAssignment:
    assignment.user = actor
    assignment.assigned_at = timezone.now()
    record_change(
        assignment,
        actor=actor,
        action=Action.INBOX_ASSIGNED,
        before=before,
        after={"user": actor.get_username()},
        data={
            "kind": assignment.kind,
            "key": assignment.object_key,
            "waiting_since": since.isoformat(),
        },
    )
    return assignment


@transaction.atomic
def inbox_unassign(*, kind: str, key: str, actor: AbstractBaseUser) -> None:
    """Hand back an item `actor` holds; anyone else's assignment is theirs to hand back."""
    assignment = (
        InboxAssignment.objects.select_for_update()
        .filter(kind=kind, object_key=key, user=actor)
        .first()
    )
    if assignment is None or waiting_entry(user=actor, kind=kind, key=key) is None:
        raise NotWaiting(f"{kind} {key} is not assigned to you")
    audit_record(
        actor=actor,
        obj=assignment,
        action=Action.INBOX_UNASSIGNED,
        before={"user": actor.get_username()},
        after={"user": None},
        data={"kind": kind, "key": key},
    )
    assignment._history_user = actor
    assignment.delete()


def digest_wanted(user: AbstractBaseUser) -> bool:
    preference = InboxPreference.objects.filter(user=user).first()
    return preference is None or preference.digest


@transaction.atomic
def inbox_digest_set(*, user: AbstractBaseUser, wanted: bool) -> InboxPreference:
    """A person turns their own daily digest off or on again."""
    preference, _ = InboxPreference.objects.select_for_update().get_or_create(user=user)
    if preference.digest == wanted:
        return preference
    preference.digest = wanted
    record_change(
        preference,
        actor=user,
        action=Action.INBOX_DIGEST_OPTED_IN if wanted else Action.INBOX_DIGEST_OPTED_OUT,
        before={"digest": not wanted},
        after={"digest": wanted},
    )
    return preference
