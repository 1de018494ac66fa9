"""What a session needs to know about its user, worked out once at login.

The middleware runs on every request; asking the database for the user's groups and devices
each time would cost every page a query (list pages have a bounded query count).
"""

import time

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django_otp import user_has_device

from dealdesk.roles import Role

# Their session decides on money and terms: a shorter idle time, and two-factor when required.
APPROVING_ROLES = (Role.DEAL_DESK, Role.LEGAL, Role.FINANCE, Role.EXECUTIVE, Role.CFO)

APPROVER_KEY = "security.approver"
HAS_TOTP_KEY = "security.has_totp"
LAST_ACTIVITY_KEY = "security.last_activity"


def is_approver(user: AbstractBaseUser) -> bool:
    return user.groups.filter(name__in=APPROVING_ROLES).exists()


def needs_two_factor(request: HttpRequest) -> bool:
    """Approvers and anyone who can open the admin: the accounts REQUIRE_2FA protects."""
    user = request.user
    return bool(request.session.get(APPROVER_KEY) or user.is_staff or user.is_superuser)


def remember_login_facts(sender, request: HttpRequest | None, user: AbstractBaseUser, **kwargs):
    """user_logged_in: note in the new session whether the user approves and has a device,
    and start its idle clock (so the first page does not write the session again)."""
    if request is None or not hasattr(request, "session"):
        return
    request.session[APPROVER_KEY] = is_approver(user)
    request.session[HAS_TOTP_KEY] = user_has_device(user, confirmed=True)
    request.session[LAST_ACTIVITY_KEY] = time.time()
