"""TOTP two-factor (django-otp): setting up a device, the code at login, REQUIRE_2FA."""

from binascii import unhexlify

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from approvals.models import ApprovalRequest
from audit.models import AuditEvent
from dealdesk.security.views import SETUP_KEY
from tests.approvals.conftest import media_root, new_deal, won_deal  # noqa: F401
from tests.approvals.test_flow import NET_90

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-only"


def code_for(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def wrong_code(right: str) -> str:
    return f"{(int(right) + 1) % 1_000_000:06d}"


def device_of(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def test_setting_up_shows_the_secret_and_a_right_code_confirms_the_device(client, make_user):
    user = make_user("Finance")
    client.force_login(user)
    page = client.get(reverse("two-factor-setup")).content.decode()
    key = client.session[SETUP_KEY]
    assert "otpauth://totp/Dealdesk%3A" in page
    totp = TOTP(unhexlify(key))

    response = client.post(reverse("two-factor-setup"), {"token": f"{totp.token():06d}"})

    assert response.status_code == 302
    device = TOTPDevice.objects.get(user=user)
    assert (device.confirmed, device.key) == (True, key)
    event = AuditEvent.objects.get(action="user.two_factor_enabled")
    assert (event.actor, event.object_id) == (user, str(user.pk))
    assert client.get(reverse("deal-list")).status_code == 200  # this session is verified


def test_a_wrong_code_at_setup_makes_no_device_and_no_event(client, make_user):
    user = make_user("Finance")
    client.force_login(user)
    client.get(reverse("two-factor-setup"))
    right = f"{TOTP(unhexlify(client.session[SETUP_KEY])).token():06d}"

    response = client.post(reverse("two-factor-setup"), {"token": wrong_code(right)})

    assert "That code does not match" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not AuditEvent.objects.filter(action="user.two_factor_enabled").exists()


def test_a_user_with_a_device_gives_the_code_after_the_password(client, make_user):
    user = make_user("Sales")
    device = device_of(user)
    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})

    held = client.get(reverse("deal-list"))
    assert held.status_code == 302
    assert held["Location"].startswith(reverse("two-factor-verify"))

    right = client.post(held["Location"], {"token": code_for(device)})
    assert right["Location"] == reverse("deal-list")
    assert client.get(reverse("deal-list")).status_code == 200


def test_a_wrong_code_after_the_password_keeps_every_page_closed(client, make_user):
    user = make_user("Sales")
    device = device_of(user)
    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})

    wrong = client.post(reverse("two-factor-verify"), {"token": wrong_code(code_for(device))})

    assert "That code does not match" in wrong.content.decode()
    assert client.get(reverse("deal-list")).status_code == 302
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # django-otp slows the next guess


def test_the_code_page_never_redirects_off_site(client, make_user):
    user = make_user("Sales")
    device = device_of(user)
    client.force_login(user)

    response = client.post(
        reverse("two-factor-verify") + "?next=https://evil.example.com/",
        {"token": code_for(device)},
    )

    assert response["Location"] == reverse("deal-list")


def test_with_require_2fa_an_approver_without_a_device_cannot_decide(
    client,
    make_user,
    settings,
    won_deal,  # noqa: F811
):
    settings.REQUIRE_2FA = True
    request_ = ApprovalRequest.objects.get(deal=won_deal(notes=NET_90))
    client.force_login(make_user("Finance"))

    response = client.post(
        reverse("approval-decide", args=[request_.pk]), {"decision": "approve", "reason": "ok"}
    )

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two-factor-setup"))
    request_.refresh_from_db()
    assert request_.state == "pending"
    assert not AuditEvent.objects.filter(action="approval_request.approved").exists()


def test_with_require_2fa_staff_cannot_open_the_admin_until_verified(client, make_user, settings):
    settings.REQUIRE_2FA = True
    client.force_login(make_user("Sales", is_staff=True))

    response = client.get(reverse("admin:index"))

    assert response["Location"].startswith(reverse("two-factor-setup"))


def test_with_require_2fa_users_who_neither_approve_nor_administer_carry_on(
    client, make_user, settings
):
    settings.REQUIRE_2FA = True
    client.force_login(make_user("Sales"))

    assert client.get(reverse("deal-list")).status_code == 200


def test_without_require_2fa_an_approver_without_a_device_carries_on(client, make_user):
    client.force_login(make_user("Finance"))

    assert client.get(reverse("deal-list")).status_code == 200
