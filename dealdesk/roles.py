"""Roles (Django groups) and segregation of duties.

The groups and their permissions are created by a data migration (from
dealdesk/reference_data.py); this module names them and answers "may this person
do this?" the same way for views, admin actions and services.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.urls import reverse

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.db.models import QuerySet

    from dealdesk.models import Deal


class Role(StrEnum):
    DEAL_DESK = "Deal Desk"
    LEGAL = "Legal"
    FINANCE = "Finance"
    EXECUTIVE = "Executive"
    CFO = "CFO"
    SALES = "Sales"
    AUDITOR = "Auditor"


def role_members(role: Role) -> QuerySet:
    """The active people in a role's group (none when the group is missing)."""
    return get_user_model().objects.filter(groups__name=role, is_active=True)


class SegregationOfDutiesError(PermissionDenied):
    """The person may hold the role, but not for this deal."""


def sees_all_deals(user: AbstractBaseUser) -> bool:
    """Sales sees its own deals only; every other role (and superusers) sees all."""
    return user.has_perm("dealdesk.view_all_deals")


def owner_unmapped(deal: Deal) -> str:
    """Why nobody may decide on `deal` yet, when its CRM owner maps to no Dealdesk user ("" if
    it does). The sync then makes its own service user the owner: owning nothing, that would
    let the real owner (whoever they are here) approve their own deal."""
    if (
        not get_user_model()
        .objects.filter(pk=deal.owner_id, username=settings.CRM_SYNC_USERNAME)
        .exists()
    ):
        return ""
    return (
        f"deal {deal.pk}'s CRM owner is mapped to no Dealdesk user: map it (admin → CRM "
        "owners) and Deal Desk assigns the owner before anyone decides on the deal"
    )


def check_segregation_of_duties(*, user: AbstractBaseUser, deal: Deal) -> None:
    """Nobody decides on a deal they own or whose priced lines or clauses they ever edited,
    nor on a deal whose owner is unknown.

    Approvals and legal review call this before any decision on a deal.
    """
    if unmapped := owner_unmapped(deal):
        raise SegregationOfDutiesError(unmapped)
    if deal.owner_id is not None and deal.owner_id == user.pk:
        raise SegregationOfDutiesError(f"{user} owns deal {deal.pk} and cannot decide on it")
    if deal.terms_edited_by_id == user.pk:
        raise SegregationOfDutiesError(
            f"{user} last edited the lines or clauses of deal {deal.pk} and cannot decide on it"
        )
    # Every editor, not only the last: a later edit by someone else must not clear them.
    if deal.terms_edits.filter(editor=user).exists():
        raise SegregationOfDutiesError(
            f"{user} edited the lines or clauses of deal {deal.pk} and cannot decide on it"
        )


def navigation_for(user: AbstractBaseUser) -> list[tuple[str, str]]:
    """(label, url) pairs for the top navigation: only what the user's roles can open."""
    items = [("Deals", reverse("deal-list"))]
    if user.has_perm("inbox.use_inbox"):
        items.append(("Inbox", reverse("inbox:list")))
    if user.has_perm("contracts.view_contractversion"):
        items.append(("Legal review", reverse("contract-review-queue")))
    if user.has_perm("approvals.decide_approvalrequest"):
        items.append(("My approvals", reverse("my-approvals")))
    if user.has_perm("esign.view_signaturerequest"):
        items.append(("Signatures", reverse("esign-desk:list")))
    if user.has_perm("billing.view_invoice"):
        items.append(("Billing", reverse("billing:home")))
    if user.has_perm("insights.view_dashboard"):
        items.append(("Dashboard", reverse("insights:dashboard")))
    if user.has_perm("dealdesk.view_syncrun"):
        items.append(("CRM sync", reverse("crm-sync")))
    if user.is_staff and user.has_perm("dealdesk.change_product"):
        items.append(("Catalog", reverse("admin:dealdesk_product_changelist")))
    if user.has_perm("audit.view_auditevent"):
        # Auditors read the log in the app, staff or not (dealdesk/audit_log.py).
        items.append(("Audit log", reverse("audit-log")))
    if user.has_perm("auth.view_user"):
        items.append(("Access review", reverse("access-review")))
    if user.is_staff:
        items.append(("Admin", reverse("admin:index")))
    return items


def grant_auditor_view_permissions(sender, using: str = "default", **kwargs) -> None:
    """post_migrate: give the Auditor group every view permission of the migrated app."""
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.using(using).filter(name=Role.AUDITOR).first()
    if group is None:  # the roles migration has not run on this database
        return
    group.permissions.add(
        *Permission.objects.using(using).filter(
            content_type__app_label=sender.label, codename__startswith="view_"
        )
    )
