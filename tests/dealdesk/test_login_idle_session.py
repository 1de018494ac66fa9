"""Approvers are logged out after APPROVER_SESSION_IDLE_MINUTES without a request."""

import time

import pytest
from django.urls import reverse

from dealdesk.security.sessions import LAST_ACTIVITY_KEY

pytestmark = pytest.mark.django_db


def idle_for(client, minutes: float) -> None:
    session = client.session
    session[LAST_ACTIVITY_KEY] = time.time() - minutes * 60
    session.save()


@pytest.mark.parametrize("role", ["Deal Desk", "Legal", "Finance", "Executive", "CFO"])
def test_an_approver_idle_longer_than_the_setting_is_logged_out(client, make_user, role):
    client.force_login(make_user(role))
    assert client.get(reverse("deal-list")).status_code == 200
    idle_for(client, 31)

    response = client.get(reverse("deal-list"))

    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=" + reverse("deal-list")
    assert "_auth_user_id" not in client.session


def test_an_approver_within_the_idle_time_stays_and_the_clock_restarts(client, make_user):
    client.force_login(make_user("Finance"))
    idle_for(client, 29)

    assert client.get(reverse("deal-list")).status_code == 200
    assert time.time() - client.session[LAST_ACTIVITY_KEY] < 5


def test_the_idle_time_comes_from_the_setting(client, make_user, settings):
    settings.APPROVER_SESSION_IDLE_MINUTES = 5
    client.force_login(make_user("Finance"))
    idle_for(client, 6)

    assert client.get(reverse("deal-list")).status_code == 302


@pytest.mark.parametrize("role", ["Sales", "Auditor"])
def test_other_users_keep_the_normal_session_age(client, make_user, role):
    client.force_login(make_user(role))
    idle_for(client, 120)

    assert client.get(reverse("deal-list")).status_code == 200
