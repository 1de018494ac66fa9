"""The CRM sync's own records: runs, watermarks, quarantine, drift and CRM owners.

They are `dealdesk` models (app label and tables unchanged since they lived beside
dealdesk/models.py): `DealdeskConfig.import_models` (dealdesk/apps.py) imports this module.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

DECIDE_DRIFT_PERM = "dealdesk.decide_crm_drift"


class SyncRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        # The org's daily API quota ran out: stopped cleanly, watermarks kept.
        LIMITED = "limited", "Stopped: API request limit"
        FAILED = "failed", "Failed"
        # Its process died; a later run found it still marked running and took over.
        ABANDONED = "abandoned", "Abandoned"

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    full = models.BooleanField(default=False, help_text="Ignored the watermarks.")
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # {"Opportunity": {"fetched": 3, "created": 1, ..., "seconds": 0.4}, ...}
    counts = models.JSONField(default=dict)
    errors = models.JSONField(default=list, help_text="What went wrong or needs a person.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["-started_at", "-pk"]
        # The database says "one sync at a time" on SQLite too (PostgreSQL also holds an
        # advisory lock that dies with the process: see dealdesk/crm/lock.py).
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="running"),
                name="one_running_crm_sync",
            )
        ]
        permissions = [("run_crm_sync", "Can start a CRM sync")]

    def __str__(self) -> str:
        return f"CRM sync #{self.pk} ({self.status})"

    def total(self, key: str) -> int:
        return sum(c.get(key, 0) for c in self.counts.values())


class CrmWatermark(models.Model):
    """Per CRM object: the newest SystemModstamp a completed sync has taken in."""

    object_name = models.CharField(max_length=40, unique=True)
    modstamp = models.DateTimeField()

    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"{self.object_name} ≥ {self.modstamp:%Y-%m-%d %H:%M:%S}"


class QuarantinedRecord(models.Model):
    """A CRM record that could not be imported, with why; resolved when a good version arrives."""

    object_name = models.CharField(max_length=40)
    crm_id = models.CharField("CRM id", max_length=18)
    reason = models.TextField()
    raw = models.JSONField(help_text="The record as the CRM sent it.")
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-last_seen_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["object_name", "crm_id"], name="quarantine_record")
        ]
        indexes = [models.Index(fields=["resolved_at", "-last_seen_at"], name="quarantine_open")]

    def __str__(self) -> str:
        return f"{self.object_name} {self.crm_id}: {self.reason}"


class CrmDrift(ConcurrentTransitionMixin, models.Model):
    """The CRM changed a deal that had gone past drafting: the desk accepts or dismisses it.

    `status` moves only through `accept` and `dismiss`, called by dealdesk/crm/services.py.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted (re-drafted)"
        DISMISSED = "dismissed", "Dismissed"

    deal = models.ForeignKey("dealdesk.Deal", on_delete=models.CASCADE, related_name="crm_drifts")
    status = FSMField(max_length=10, choices=Status.choices, default=Status.OPEN, protected=True)
    # [{"what": "term_months", "old": "12", "new": "24"}, ...] for people to read.
    changes = models.JSONField(default=list)
    # What accepting applies: {"fields": {...}, "lines": {crm_id: {...} | null}, "withdrawn": str}
    proposal = models.JSONField(default=dict)
    detected_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-updated_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["deal"], condition=models.Q(status="open"), name="one_open_drift_per_deal"
            )
        ]
        permissions = [("decide_crm_drift", "Can accept or dismiss CRM drift")]

    def __str__(self) -> str:
        return f"CRM drift on {self.deal} ({self.status})"

    # Transitions change this row's own fields only; the services lock, re-draft the deal
    # and audit.
    @transition(status, source=Status.OPEN, target=Status.ACCEPTED, permission=DECIDE_DRIFT_PERM)
    def accept(self, *, by, reason: str) -> None:
        self._decided(by, reason)

    @transition(status, source=Status.OPEN, target=Status.DISMISSED, permission=DECIDE_DRIFT_PERM)
    def dismiss(self, *, by, reason: str) -> None:
        self._decided(by, reason)

    def _decided(self, by, reason: str) -> None:
        self.decided_by, self.decided_at, self.decision_reason = by, timezone.now(), reason


class CrmOwner(models.Model):
    """A Salesforce user (Opportunity.OwnerId) and the Dealdesk user who owns their deals.

    The sync adds a row for every owner it meets; until someone maps it in the admin, that
    owner's deals belong to the CRM sync's service user and the CRM sync page lists it.
    """

    salesforce_user_id = models.CharField("Salesforce user id", max_length=18, unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="crm_owner",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["salesforce_user_id"]
        verbose_name = "CRM owner"

    def __str__(self) -> str:
        return f"{self.salesforce_user_id} → {self.user or 'unmapped'}"
