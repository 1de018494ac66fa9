"""Login throttling for every login form (ours and the admin's)."""

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class WebLoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' lockout check, for logins that come with a request.

    Axes refuses `authenticate()` without a request; only code in this process calls it so
    (the shell, the test client's `login`), and nobody can guess passwords through it.
    Every web login, ours and the admin's, passes its request and is throttled.
    """

    def authenticate(self, request: HttpRequest | None, *args, **kwargs) -> None:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)
