"""Billing that starts at go-live (the contract's billing_start is `on_go_live`).

On Deal:signed, billing_start builds the order and checks readiness, but sends nothing to the
ledger while the go-live date is unknown: the record stays pending and the deal stays signed
(it is signed, and not yet in billing: no invoice can be dated). Deal Desk or Finance enter the
date on the deal page, or the product posts it (billing/api_views.py); it is stored on the
record and billing starts from it as for any other deal, the first invoice dated from go-live.
A go-live date is a fact billing is built on: once set, a different one is refused.
"""

import datetime as dt
from typing import Literal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from audit.actions import Action
from audit.services import record_change
from billing.models import BillingRecord
from billing.services import billing_start
from dealdesk.models import PIPELINE_PERM, Deal
from dealdesk.services import pipeline_user

ON_GO_LIVE = "on_go_live"
# Granted to Deal Desk and Finance (billing/reference_data.py, migration 0006).
GO_LIVE_PERM = "billing.set_go_live"
Source = Literal["person", "product"]


class GoLiveInvalid(ValueError):
    """The date itself cannot be a go-live date (before signature, too far ahead)."""


class GoLiveConflict(Exception):
    """The deal cannot take a go-live date now (not billed at go-live, a date already set)."""


def may_set_go_live(user: AbstractBaseUser) -> bool:
    """Whoever holds the go-live permission (Deal Desk, Finance), or the pipeline acting for
    the product after its token was checked (billing/api_views.py)."""
    return user.has_perm(GO_LIVE_PERM) or user.has_perm(PIPELINE_PERM)


def bills_at_go_live(record: BillingRecord | None) -> bool:
    """Does this record's contract start billing at go-live? (Read from the stored order.)"""
    return record is not None and record.order.get("billing_start", {}).get("mode") == ON_GO_LIVE


def awaits_go_live(record: BillingRecord | None) -> bool:
    return bills_at_go_live(record) and record.go_live_on is None


def go_live_bounds(record: BillingRecord, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The earliest and latest go-live dates accepted: not before signature, and not further
    ahead than BILLING_GO_LIVE_MAX_DAYS_AHEAD (a typo'd year must not schedule invoices)."""
    today = today or timezone.localdate()
    return record.signed_on, today + dt.timedelta(days=settings.BILLING_GO_LIVE_MAX_DAYS_AHEAD)


def billing_go_live_set(
    *,
    deal_id: int,
    go_live_on: dt.date,
    actor: AbstractBaseUser,
    source: Source = "person",
    token_name: str = "",
    reason: str = "",
) -> BillingRecord:
    """Store a deal's go-live date and start its billing from it. Idempotent: the same date
    again changes nothing (and starts billing if a first try did not finish). A date the
    product posted names the token it came with (its name, never the secret)."""
    if source not in ("person", "product"):
        raise ValueError(f"unknown go-live source {source!r}")
    if (source == "product") != bool(token_name):
        raise ValueError("a go-live date from the product names its token, and only then")
    if not may_set_go_live(actor):
        raise PermissionDenied(f"{actor} may not set go-live dates")
    with transaction.atomic():
        # The deal first, as billing_start locks it: two go-live posts at once queue here.
        Deal.objects.select_for_update().get(pk=deal_id)
        record = (
            BillingRecord.objects.select_for_update()
            .filter(deal_id=deal_id)
            .order_by("-pk")
            .first()
        )
        _check(record, go_live_on)
        if record.go_live_on is None:
            record.go_live_on = go_live_on
            record_change(
                record,
                actor=actor,
                action=Action.BILLING_GO_LIVE_SET,
                before={"go_live_on": None},
                after={"go_live_on": go_live_on.isoformat()},
                data={"source": source, **({"token": token_name} if token_name else {})},
                reason=reason,
            )
    # Billing starts as the pipeline's own step would have on signature (it moves the deal).
    billing_start(deal_id=deal_id, actor=pipeline_user())
    record.refresh_from_db()
    return record


def _check(record: BillingRecord | None, go_live_on: dt.date) -> None:
    if record is None:
        raise GoLiveConflict("the deal is not signed yet: it has no billing record")
    if not bills_at_go_live(record):
        if not record.order:
            raise GoLiveConflict("billing stopped before its start was read: " + _why(record))
        raise GoLiveConflict("this contract's billing does not start at go-live")
    if record.go_live_on is not None and record.go_live_on != go_live_on:
        raise GoLiveConflict(
            f"go-live is already {record.go_live_on.isoformat()} and billing is built on it; "
            "a different date needs a contract amendment"
        )
    earliest, latest = go_live_bounds(record)
    if go_live_on < earliest:
        raise GoLiveInvalid(f"go-live cannot be before the signature ({earliest.isoformat()})")
    if go_live_on > latest:
        raise GoLiveInvalid(f"go-live cannot be later than {latest.isoformat()}")


def _why(record: BillingRecord) -> str:
    return "; ".join(record.problems) or "see the billing record"
