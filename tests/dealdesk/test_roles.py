from importlib import import_module

import pytest
from django.contrib.auth.models import Group

from dealdesk.roles import (
    Role,
    SegregationOfDutiesError,
    check_segregation_of_duties,
    navigation_for,
)
from tests.dealdesk.factories import DealFactory

pytestmark = pytest.mark.django_db


def test_the_six_roles_exist():
    assert set(Group.objects.values_list("name", flat=True)) >= {role.value for role in Role}


def test_the_auditor_can_view_everything_and_change_nothing():
    perms = set(Group.objects.get(name=Role.AUDITOR).permissions.values_list("codename", flat=True))
    assert {"view_deal", "view_auditevent", "view_historicaldeal", "view_user"} <= perms
    assert all(p.startswith("view_") for p in perms)


def test_only_deal_desk_manages_deals():
    holders = Group.objects.filter(permissions__codename="manage_deal")
    assert list(holders.values_list("name", flat=True)) == [Role.DEAL_DESK]


def test_nobody_decides_on_a_deal_they_own(make_user):
    owner = make_user("Finance")
    deal = DealFactory(owner=owner)
    with pytest.raises(SegregationOfDutiesError, match="owns deal"):
        check_segregation_of_duties(user=owner, deal=deal)


def test_nobody_decides_on_terms_they_last_edited(make_user):
    editor = make_user("Deal Desk")
    deal = DealFactory(terms_edited_by=editor)
    with pytest.raises(SegregationOfDutiesError, match="last edited"):
        check_segregation_of_duties(user=editor, deal=deal)


def test_anyone_else_may_decide(make_user):
    deal = DealFactory(terms_edited_by=make_user("Deal Desk"))
    check_segregation_of_duties(user=make_user("Finance"), deal=deal)


@pytest.mark.parametrize(
    ("role", "labels"),
    [
        ("Sales", ["Deals"]),
        (
            "Finance",
            [
                "Deals",
                "Inbox",
                "Legal review",
                "My approvals",
                "Signatures",
                "Billing",
                "Dashboard",
                "Catalog",
                "Audit log",
                "Admin",
            ],
        ),
        (
            "Auditor",
            [
                "Deals",
                "Legal review",
                "Signatures",
                "Billing",
                "Dashboard",
                "CRM sync",
                "Audit log",
                "Access review",
                "Admin",
            ],
        ),
        (
            "Deal Desk",
            [
                "Deals",
                "Inbox",
                "Legal review",
                "My approvals",
                "Signatures",
                "Billing",
                "Dashboard",
                "CRM sync",
                "Audit log",
                "Admin",
            ],
        ),
        ("Legal", ["Deals", "Legal review", "My approvals", "Signatures", "Admin"]),
    ],
)
def test_navigation_follows_the_role(make_user, role, labels):
    user = make_user(role, is_staff=role != "Sales")
    assert [label for label, _ in navigation_for(user)] == labels


@pytest.mark.parametrize(
    "app", ["dealdesk", "contracts", "approvals", "contracts.esign", "billing", "inbox", "insights"]
)
def test_every_permission_a_role_names_exists_and_is_granted(app):
    from django.contrib.auth.models import Group

    ROLE_PERMISSIONS = import_module(f"{app}.reference_data").ROLE_PERMISSIONS

    for role, perms in ROLE_PERMISSIONS.items():
        granted = {
            f"{p.content_type.app_label}.{p.codename}"
            for p in Group.objects.get(name=role).permissions.select_related("content_type")
        }
        assert set(perms) <= granted, role


def test_everyone_who_ever_edited_the_terms_is_barred_not_only_the_last(make_user):
    from dealdesk.services import deal_record_terms_edit

    deal = DealFactory()
    first, last = make_user("Legal"), make_user("Legal")
    deal_record_terms_edit(deal_id=deal.pk, actor=first, reason="clauses edited on contract v2")
    deal_record_terms_edit(deal_id=deal.pk, actor=last, reason="clauses edited on contract v3")
    deal.refresh_from_db()
    with pytest.raises(SegregationOfDutiesError, match="edited the lines or clauses"):
        check_segregation_of_duties(user=first, deal=deal)
    with pytest.raises(SegregationOfDutiesError, match="last edited"):
        check_segregation_of_duties(user=last, deal=deal)
    check_segregation_of_duties(user=make_user("Legal"), deal=deal)
    assert list(deal.terms_edits.values_list("editor", "what")) == [
        (first.pk, "clauses edited on contract v2"),
        (last.pk, "clauses edited on contract v3"),
    ]
