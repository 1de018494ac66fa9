import pytest
from django.contrib.auth.models import Group


@pytest.mark.django_db
def test_user_changes_have_history(django_user_model):
    user = django_user_model.objects.create_user(username="carol", password="first-Pass-1")
    user.email = "carol@example.com"
    user.set_password("second-Pass-2")
    user.save()

    history = list(user.history.order_by("history_id"))
    assert [h.history_type for h in history] == ["+", "~"]
    assert history[-1].email == "carol@example.com"
    # Password hashes are not kept in history.
    assert not hasattr(history[-1], "password")


@pytest.mark.django_db
def test_group_changes_have_history():
    group = Group.objects.create(name="Audit Test Group")
    group.name = "Audit Test Group Renamed"
    group.save()
    group_id = group.pk
    group.delete()

    history = Group.history.filter(id=group_id).order_by("history_id")
    assert [(h.history_type, h.name) for h in history] == [
        ("+", "Audit Test Group"),
        ("~", "Audit Test Group Renamed"),
        ("-", "Audit Test Group Renamed"),
    ]
