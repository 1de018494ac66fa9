"""Changes to who holds which role or permission are audited: who, when, what, why."""

from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from audit.models import AuditEvent

ACCESS_ACTIONS = ["user.groups_changed", "user.permissions_changed", "group.permissions_changed"]


def test_adding_a_user_to_a_group_in_the_admin_is_audited_with_the_acting_admin(client, make_user):
    admin = make_user(is_staff=True, is_superuser=True)
    fran = make_user("Finance", username="fran")
    client.force_login(admin)
    response = client.post(
        reverse("admin:auth_user_change", args=[fran.pk]),
        {
            "username": "fran",
            "groups": [Group.objects.get(name="Finance").pk, Group.objects.get(name="CFO").pk],
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "09:00:00",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="user.groups_changed")
    assert (event.object_id, event.actor) == (str(fran.pk), admin)
    assert event.after == {"added": ["CFO"]}


def test_changes_from_either_side_are_audited_with_the_reason_given(make_user):
    fran = make_user(username="fran")
    cfo = Group.objects.get(name="CFO")
    cfo._change_reason = "CFO out, Fran covers the top tier"
    cfo.user_set.add(fran)
    fran._change_reason = "Q3 access review: not CFO any more"
    fran.groups.remove(cfo)
    decide = Permission.objects.get(codename="decide_approvalrequest")
    fran.user_permissions.add(decide)
    cfo.permissions.remove(decide)

    events = AuditEvent.objects.filter(action__in=ACCESS_ACTIONS).order_by("seq")
    assert [(e.action, e.object_repr, e.after, e.reason) for e in events] == [
        ("user.groups_changed", "fran", {"added": ["CFO"]}, "CFO out, Fran covers the top tier"),
        ("user.groups_changed", "fran", {"removed": ["CFO"]}, "Q3 access review: not CFO any more"),
        (
            "user.permissions_changed",
            "fran",
            {"added": ["approvals.decide_approvalrequest"]},
            "Q3 access review: not CFO any more",
        ),
        (
            "group.permissions_changed",
            "CFO",
            {"removed": ["approvals.decide_approvalrequest"]},
            "CFO out, Fran covers the top tier",
        ),
    ]


def test_clearing_a_users_groups_names_what_went(make_user):
    fran = make_user("Finance", "Executive", username="fran")
    fran._change_reason = "left the company"
    fran.groups.clear()
    event = AuditEvent.objects.get(action="user.groups_changed")
    assert event.after == {"removed": ["Executive", "Finance"]}


def test_the_system_setting_up_its_own_users_writes_no_access_event(pipeline_user, make_user):
    make_user("Finance")  # a fixture's group, no person deciding it
    assert pipeline_user.user_permissions.exists()
    assert not AuditEvent.objects.filter(action__in=ACCESS_ACTIONS).exists()
