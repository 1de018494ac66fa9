"""Writes of the security package: each with its audit event."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.actions import Action
from audit.services import audit_record


@transaction.atomic
def totp_device_confirm(*, user: AbstractBaseUser, key: str) -> TOTPDevice:
    """Give `user` a confirmed TOTP device with the hex `key` they proved with a code.

    The event is the user's (what an access review reads); django-otp's device model keeps
    no history of its own.
    """
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", key=key, confirmed=True)
    audit_record(
        actor=user,
        obj=user,
        action=Action.USER_TWO_FACTOR_ENABLED,
        reason="two-factor set up",
        after={"device": device.name},
    )
    return device
