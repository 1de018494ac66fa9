"""Every change to who holds which role or permission, in the audit log.

The Django admin writes user ↔ group, user ↔ permission and group ↔ permission links
directly (no service of ours runs), so this is the one place where a signal is right:
`m2m_changed` on those three link tables, from either side, writes one event per user or
group changed, with the acting user of the request (simple-history's middleware keeps it)
and the reason the caller set on the changed instance (`_change_reason`), if any.

A change a person makes comes with a request, or with a reason from the code acting for them
(a command): both are recorded. The system setting itself up (migrations granting the roles
their permissions, a service user created with its own) has neither and is not an access
change anyone decided; it stays out of the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import models
from django.db.models.signals import m2m_changed
from simple_history.models import HistoricalRecords

from audit.actions import Action
from audit.services import audit_record


@dataclass(frozen=True)
class Link:
    owner: type[models.Model]  # whose rights change: the event is about it
    member: type[models.Model]  # what is granted or taken away
    forward: str  # owner.<forward> lists the members
    backward: str  # member.<backward> lists the owners
    action: Action


def _links() -> dict[type[models.Model], Link]:
    user = get_user_model()
    return {
        user.groups.through: Link(user, Group, "groups", "user_set", Action.USER_GROUPS_CHANGED),
        user.user_permissions.through: Link(
            user, Permission, "user_permissions", "user_set", Action.USER_PERMISSIONS_CHANGED
        ),
        Group.permissions.through: Link(
            Group, Permission, "permissions", "group_set", Action.GROUP_PERMISSIONS_CHANGED
        ),
    }


def _acting_user():
    request = getattr(HistoricalRecords.context, "request", None)
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _label(obj: models.Model) -> str:
    if isinstance(obj, Permission):
        return f"{obj.content_type.app_label}.{obj.codename}"
    return str(obj.name if isinstance(obj, Group) else obj.get_username())


def _access_changed(sender, *, link: Link, instance, action, reverse, pk_set, **kwargs) -> None:
    if action not in ("pre_clear", "post_add", "post_remove"):
        return
    actor, reason = _acting_user(), getattr(instance, "_change_reason", "") or ""
    if actor is None and not reason:
        return  # the system setting itself up (see above)
    if action == "pre_clear":
        # After the clear nothing says what went: read it now.
        side = link.backward if reverse else link.forward
        pk_set = set(getattr(instance, side).values_list("pk", flat=True))
    if not pk_set:
        return  # Django leaves out links already there (or already gone): nothing changed
    change = "added" if action == "post_add" else "removed"
    other = link.owner if reverse else link.member
    others = other.objects.filter(pk__in=pk_set)
    if other is Permission:
        others = others.select_related("content_type")
    if reverse:  # group.user_set.add(user): each user's rights changed
        changes = [(owner, [_label(instance)]) for owner in others]
    else:
        changes = [(instance, sorted(_label(member) for member in others))]
    for owner, labels in changes:
        audit_record(
            actor=actor, obj=owner, action=link.action, after={change: labels}, reason=reason
        )


def connect_access_audit() -> None:
    """From the app's ready(): audit the three link tables."""
    for through, link in _links().items():
        m2m_changed.connect(
            partial(_access_changed, link=link),
            sender=through,
            weak=False,
            dispatch_uid=f"audit.access.{through._meta.label_lower}",
        )
