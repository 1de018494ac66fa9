import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from audit.services import audit_record


@pytest.fixture(autouse=True)
def plain_static_files(settings):
    # No collectstatic under tests: the manifest storage would 500 (docs/stack-notes.md, gotcha 7).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def event(alice):
    return audit_record(actor=alice, action="deal.approved", obj=alice)


def staff_with_view_permission(django_user_model):
    auditor = django_user_model.objects.create_user(username="auditor", is_staff=True)
    auditor.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    return auditor


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["superuser", "auditor"])
def test_admin_is_read_only(client, admin_user, django_user_model, event, who):
    client.force_login(
        admin_user if who == "superuser" else staff_with_view_permission(django_user_model)
    )
    changelist = reverse("admin:audit_auditevent_changelist")
    change = reverse("admin:audit_auditevent_change", args=[event.pk])

    assert client.get(changelist, secure=True).status_code == 200
    assert client.get(changelist, {"q": str(event.object_id)}, secure=True).status_code == 200
    page = client.get(change, secure=True)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert client.get(reverse("admin:audit_auditevent_add"), secure=True).status_code == 403
    assert client.post(change, {"reason": "rewritten"}, secure=True).status_code == 403
    delete = reverse("admin:audit_auditevent_delete", args=[event.pk])
    assert client.post(delete, {"post": "yes"}, secure=True).status_code == 403
    event.refresh_from_db()
    assert event.reason == ""


@pytest.mark.django_db
def test_only_the_view_permission_exists():
    codenames = set(
        Permission.objects.filter(
            content_type__app_label="audit", content_type__model="auditevent"
        ).values_list("codename", flat=True)
    )
    assert codenames == {"view_auditevent"}


@pytest.mark.django_db
def test_the_log_words_old_and_new_action_names_alike(client, admin_user, alice):
    audit_record(actor=alice, action="deal.approve", obj=alice)  # as written before the enum
    audit_record(actor=alice, action="deal.approved", obj=alice)
    client.force_login(admin_user)
    page = client.get(reverse("admin:audit_auditevent_changelist"), secure=True)
    assert page.content.decode().count("Deal approved") == 2
