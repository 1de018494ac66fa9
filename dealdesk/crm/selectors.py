"""Reads for the CRM sync page: runs, quarantine, drift and unmapped owners, joins done."""

from django.db.models import QuerySet

from dealdesk.crm.models import CrmDrift, CrmOwner, QuarantinedRecord, SyncRun
from dealdesk.paging import sorted_by

# Per tab: ?sort=key (or -key) → column; the first entry is the default order.
SORTS = {
    "runs": {"started": "started_at", "status": "status"},
    "quarantine": {"seen": "last_seen_at", "object": "object_name", "crm_id": "crm_id"},
    "drift": {"updated": "updated_at", "deal": "deal__name", "status": "status"},
}
DEFAULT_SORTS = {"runs": "-started", "quarantine": "-seen", "drift": "-updated"}


def _ordered(qs: QuerySet, tab: str, sort: str) -> tuple[QuerySet, str]:
    return sorted_by(qs, sort=sort, sorts=SORTS[tab], default=DEFAULT_SORTS[tab])


def sync_runs(*, status: str = "", sort: str = "") -> tuple[QuerySet[SyncRun], str]:
    runs = SyncRun.objects.select_related("triggered_by")
    if status:
        runs = runs.filter(status=status)
    return _ordered(runs, "runs", sort)


def quarantined_records(
    *, object_name: str = "", resolved: bool = False, q: str = "", sort: str = ""
) -> tuple[QuerySet[QuarantinedRecord], str]:
    records = QuarantinedRecord.objects.filter(resolved_at__isnull=not resolved)
    if object_name:
        records = records.filter(object_name=object_name)
    if q:
        records = records.filter(crm_id__icontains=q) | records.filter(reason__icontains=q)
    return _ordered(records, "quarantine", sort)


def crm_drifts(*, status: str = "open", sort: str = "") -> tuple[QuerySet[CrmDrift], str]:
    drifts = CrmDrift.objects.select_related("deal", "deal__account", "decided_by")
    if status:
        drifts = drifts.filter(status=status)
    return _ordered(drifts, "drift", sort)


def last_sync_run() -> SyncRun | None:
    return SyncRun.objects.order_by("-started_at", "-pk").first()


def unmapped_crm_owners() -> list[str]:
    return list(
        CrmOwner.objects.filter(user=None).values_list("salesforce_user_id", flat=True)[:50]
    )
