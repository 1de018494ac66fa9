"""Which billing record a Stripe object belongs to, and whether Stripe still bills exactly
the contract after someone changed a subscription or schedule there."""

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from audit.actions import Action
from audit.services import record_change
from billing.canonical_order import canonical_order
from billing.diff import CHANGED, Difference, diff_records
from billing.ledger.stripe_ledger import StripeIds, read_back_with_status, record_key
from billing.ledger.stripe_mapping import order_billing_view
from billing.models import BillingRecord, RecordState

log = logging.getLogger(__name__)

KEY_PREFIX = "record-"
# A schedule the contract's end closes is "completed"; "canceled" or "released" early means
# Stripe stopped billing what was signed.
STOPPED_SCHEDULE = ("canceled", "released")
DRIFTED = "the billing system's record no longer matches the contract"


def record_of(metadata: Mapping[str, Any] | None) -> BillingRecord | None:
    """The record named by a Stripe object's `record` metadata (ours), or None (not ours)."""
    key = str((metadata or {}).get("record") or "")
    number = key.removeprefix(KEY_PREFIX)
    if not key.startswith(KEY_PREFIX) or not number.isdigit():
        return None
    record = BillingRecord.objects.filter(pk=int(number), backend="stripe").first()
    # The key is checked again: a record of another environment on the same account is not us.
    if record is None or record.external_ids.get("record_key") != record_key(record):
        return None
    return record


def record_drift_check(*, record_id: int, actor: AbstractBaseUser) -> list[dict]:
    """Read the record back from Stripe; any difference from the contract (or a schedule
    stopped early) → a billing exception with the diff. The differences found, as JSON."""
    record = BillingRecord.objects.select_related("version").get(pk=record_id)
    if record.state != RecordState.CREATED:  # still being created, or already in front of Finance
        return []
    order = canonical_order(
        record.version.typed_snapshot, signed_on=record.signed_on, go_live_on=record.go_live_on
    )
    view, statuses = read_back_with_status(StripeIds.from_json(record.external_ids))
    differences = diff_records(order_billing_view(order), view)
    differences += [
        Difference(f"schedules[{schedule_id}].status", "active", status, CHANGED)
        for schedule_id, status in statuses.items()
        if status in STOPPED_SCHEDULE
    ]
    if not differences:
        # Read back equal as of now: older news of this record needs no second read.
        BillingRecord.objects.filter(pk=record_id).update(checked_at=timezone.now())
        return []
    diff = [dataclasses.asdict(d) for d in differences]
    with transaction.atomic():
        record = BillingRecord.objects.select_for_update().get(pk=record_id)
        if record.state != RecordState.CREATED:
            return diff
        before = {"state": record.state}
        record.checked_at = timezone.now()
        record.drifted(problems=[DRIFTED], diff=diff)
        record_change(
            record,
            actor=actor,
            action=Action.BILLING_RECORD_STOPPED,
            before=before,
            after={"state": record.state},
            data={"problems": [DRIFTED], "diff": diff},
            reason=DRIFTED,
        )
    log.warning("billing record %s drifted in Stripe: %s", record_id, diff)
    return diff
