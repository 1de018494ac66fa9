"""Per-request session rules: the approvers' idle time-out, then two-factor verification.

Both go after AuthenticationMiddleware and django-otp's OTPMiddleware, which give
`request.user` and `request.user.is_verified()`.
"""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve
from django.utils.http import urlencode

from dealdesk.security.sessions import (
    APPROVER_KEY,
    HAS_TOTP_KEY,
    LAST_ACTIVITY_KEY,
    is_approver,
    needs_two_factor,
)

# Writing the session on every request costs a database write a page; a minute's precision
# is plenty for a time-out counted in tens of minutes.
ACTIVITY_RESOLUTION_SECONDS = 60

# Pages an unverified user may still open: the two-factor pages themselves and logging out.
TWO_FACTOR_OPEN_URLS = frozenset({"two-factor-setup", "two-factor-verify", "logout"})


class ApproverIdleTimeoutMiddleware:
    """Logs approvers out after APPROVER_SESSION_IDLE_MINUTES without a request.

    An unattended approver's browser can approve a deal; everyone else keeps the normal
    SESSION_COOKIE_AGE.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and self._is_approver(request):
            now = time.time()
            last = request.session.get(LAST_ACTIVITY_KEY)
            if last is not None and now - last > settings.APPROVER_SESSION_IDLE_MINUTES * 60:
                logout(request)
                messages.info(request, "You were logged out after a period of inactivity.")
                return redirect_to_login(request.get_full_path())
            if last is None or now - last >= ACTIVITY_RESOLUTION_SECONDS:
                request.session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)

    @staticmethod
    def _is_approver(request: HttpRequest) -> bool:
        # A session from before this middleware existed has no note yet: work it out once.
        if APPROVER_KEY not in request.session:
            request.session[APPROVER_KEY] = is_approver(request.user)
        return request.session[APPROVER_KEY]


class TwoFactorMiddleware:
    """Sends a logged-in but unverified user to the code page (they have a device) or to
    set one up (REQUIRE_2FA and they approve or are staff) before any other page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and not user.is_verified() and not _is_open(request):
            if request.session.get(HAS_TOTP_KEY):
                return _redirect_with_next("two-factor-verify", request)
            if settings.REQUIRE_2FA and needs_two_factor(request):
                return _redirect_with_next("two-factor-setup", request)
        return self.get_response(request)


def _is_open(request: HttpRequest) -> bool:
    try:
        return resolve(request.path_info).url_name in TWO_FACTOR_OPEN_URLS
    except Resolver404:
        return False


def _redirect_with_next(url_name: str, request: HttpRequest) -> HttpResponse:
    response = redirect(url_name)
    response["Location"] += "?" + urlencode({"next": request.get_full_path()})
    return response
