"""Two-factor pages: set up a TOTP device, and give the code after logging in."""

from base64 import b32encode
from binascii import unhexlify
from urllib.parse import quote, urlencode

import django_otp
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.views.decorators.http import require_http_methods
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from dealdesk.security.forms import TokenForm
from dealdesk.security.services import totp_device_confirm
from dealdesk.security.sessions import HAS_TOTP_KEY
from dealdesk.views import safe_next_url

# The key being set up lives in the session until a code proves the app holds it, so an
# abandoned setup leaves no half-made device behind.
SETUP_KEY = "security.totp_setup_key"
# A code from the previous or next 30-second step still counts: phone clocks drift.
TOLERANCE_STEPS = 1


@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    if TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        return render(request, "registration/two_factor_setup.html", {"has_device": True})
    key = request.session.setdefault(SETUP_KEY, default_key())
    form = TokenForm(request.POST or None)
    if form.is_valid():
        if TOTP(unhexlify(key)).verify(int(form.cleaned_data["token"]), TOLERANCE_STEPS):
            device = totp_device_confirm(user=request.user, key=key)
            del request.session[SETUP_KEY]
            request.session[HAS_TOTP_KEY] = True
            django_otp.login(request, device)
            messages.success(request, "Two-factor sign-in is on.")
            return HttpResponseRedirect(_next_url(request))
        form.add_error("token", "That code does not match; check the app's clock and try again.")
    secret = b32encode(unhexlify(key)).decode()
    return render(
        request,
        "registration/two_factor_setup.html",
        {"form": form, "secret": secret, "otpauth_uri": _otpauth_uri(request, secret)},
    )


@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    if device is None:
        return HttpResponseRedirect(resolve_url("two-factor-setup"))
    form = TokenForm(request.POST or None)
    if form.is_valid():
        # verify_token counts failures on the device and throttles it (django-otp).
        verified = django_otp.verify_token(
            request.user, device.persistent_id, form.cleaned_data["token"]
        )
        if verified is not None:
            django_otp.login(request, verified)
            return HttpResponseRedirect(_next_url(request))
        form.add_error("token", "That code does not match. Wait for the next one and try again.")
    return render(request, "registration/two_factor_verify.html", {"form": form})


def _next_url(request: HttpRequest) -> str:
    return safe_next_url(request, resolve_url(settings.LOGIN_REDIRECT_URL))


def _otpauth_uri(request: HttpRequest, secret: str) -> str:
    """The Key URI Format authenticator apps read (what a QR code would carry)."""
    issuer = settings.OTP_TOTP_ISSUER
    label = quote(f"{issuer}:{request.user.get_username()}")
    return f"otpauth://totp/{label}?" + urlencode({"secret": secret, "issuer": issuer})
