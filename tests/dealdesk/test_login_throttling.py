"""Login throttling (django-axes): wrong passwords lock a username at an address for a while."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-only"


def log_in(client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail(client, username: str, times: int) -> int:
    """`times` wrong passwords; the status of the last answer."""
    return [log_in(client, username, "wrong").status_code for _ in range(times)][-1]


def test_too_many_wrong_passwords_lock_the_account_even_for_the_right_one(
    client, make_user, settings
):
    user = make_user("Finance")
    assert fail(client, user.username, settings.AXES_FAILURE_LIMIT - 1) == 200  # the form again
    assert fail(client, user.username, 1) == 429  # the limit-th failure locks

    response = log_in(client, user.username, PASSWORD)

    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert "for 15 minutes" in response.content.decode()
    assert not logged_in(client)


def test_the_lock_lifts_after_the_cool_off(client, make_user, settings):
    user = make_user("Finance")
    fail(client, user.username, settings.AXES_FAILURE_LIMIT)
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time
        - settings.AXES_COOLOFF_TIME
        - timedelta(seconds=1)
    )

    response = log_in(client, user.username, PASSWORD)

    assert response.status_code == 302
    assert logged_in(client)


def test_a_successful_login_before_the_limit_starts_the_count_again(client, make_user, settings):
    user = make_user("Finance")
    fail(client, user.username, settings.AXES_FAILURE_LIMIT - 1)
    assert log_in(client, user.username, PASSWORD).status_code == 302
    client.logout()
    fail(client, user.username, settings.AXES_FAILURE_LIMIT - 1)

    assert log_in(client, user.username, PASSWORD).status_code == 302
    assert logged_in(client)


def test_a_lockout_holds_one_username_not_a_colleague_at_the_same_address(
    client, make_user, settings
):
    attacked, colleague = make_user("Finance"), make_user("Finance")
    fail(client, attacked.username, settings.AXES_FAILURE_LIMIT)

    assert log_in(client, colleague.username, PASSWORD).status_code == 302


def test_the_test_clients_login_without_a_request_still_works(client, make_user):
    user = make_user("Finance")
    assert client.login(username=user.username, password=PASSWORD)
    assert client.get(reverse("deal-list")).status_code == 200
