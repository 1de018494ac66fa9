"""Finance's changes to the signing authority table (from the admin): checked, saved with
history and audited in one transaction."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction

from audit.actions import Action
from audit.services import record_change
from contracts.esign.models import SigningAuthority

ADD_PERM = "esign.add_signingauthority"
CHANGE_PERM = "esign.change_signingauthority"


def signing_authority_check(
    *, holder_id: int | None, actor: AbstractBaseUser, adding: bool
) -> None:
    """May `actor` grant or change the authority of user `holder_id`? Raises PermissionDenied."""
    if not actor.has_perm(ADD_PERM if adding else CHANGE_PERM):
        raise PermissionDenied("Only Finance keeps the signing authority table.")
    # Segregation of duties: a limit someone set for themselves is one nobody agreed to.
    if holder_id is not None and holder_id == actor.pk:
        raise PermissionDenied(
            "Nobody grants or changes their own signing authority: another member of Finance does."
        )


def _values(authority: SigningAuthority) -> dict:
    # At the stored precision, so a limit typed as "250000" and read back as "250000.000"
    # is the same value in the audit trail.
    places = SigningAuthority._meta.get_field("max_tcv").decimal_places
    max_tcv = authority.max_tcv
    return {
        "user": authority.user_id,
        "title": authority.title,
        "currency": authority.currency,
        "max_tcv": None if max_tcv is None else Decimal(max_tcv).quantize(Decimal(10) ** -places),
        "active": authority.active,
        "valid_from": authority.valid_from,
        "valid_to": authority.valid_to,
    }


@transaction.atomic
def signing_authority_save(
    *, authority: SigningAuthority, actor: AbstractBaseUser, reason: str = ""
) -> SigningAuthority:
    """Save a new or edited row with its history user, and audit what changed."""
    adding = authority.pk is None
    before = None
    if not adding:
        stored = SigningAuthority.objects.select_for_update().get(pk=authority.pk)
        # Both holders: moving a row onto oneself is granting oneself authority.
        signing_authority_check(holder_id=stored.user_id, actor=actor, adding=False)
        before = _values(stored)
    signing_authority_check(holder_id=authority.user_id, actor=actor, adding=adding)
    after = _values(authority)
    if before is not None:
        before = {key: value for key, value in before.items() if value != after[key]}
        after = {key: after[key] for key in before}
    record_change(
        authority,
        actor=actor,
        action=Action.SIGNING_AUTHORITY_CREATED if adding else Action.SIGNING_AUTHORITY_CHANGED,
        reason=reason or ("granted" if adding else "changed in the admin"),
        before=before,
        after=after,
    )
    return authority
