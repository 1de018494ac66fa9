"""Who took which waiting item, and who wants no daily digest.

The inbox owns no business state: what waits is read from the models that own it
(inbox/sources/). These two rows are a person's own bookkeeping about that work, kept with
history and audited because "who took it, when" is what a reviewer asks about a late item.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

USE_INBOX_PERM = "inbox.use_inbox"


class InboxAssignment(models.Model):
    """One person holds one waiting item (`kind` + the owning row's key)."""

    kind = models.CharField(max_length=40)
    object_key = models.CharField(max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox_assignments"
    )
    # Compared with when the item started waiting: an assignment older than that belongs to
    # an earlier stop of the same row (a deal back in manual review) and counts for nothing.
    assigned_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_key"], name="inbox_assignment_once")
        ]
        indexes = [models.Index(fields=["user", "kind"], name="inbox_assignment_user_idx")]
        permissions = [("use_inbox", "Can open the exception inbox")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_key} → {self.user}"


class InboxPreference(models.Model):
    """A person's inbox settings; no row means the defaults (the digest is sent)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox_preference"
    )
    digest = models.BooleanField("daily digest e-mail", default=True)

    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"{self.user}: digest {'on' if self.digest else 'off'}"


class InboxDigestRun(models.Model):
    """One row per day the digest went out: beat (or a person) running it twice the same day
    finds the row and sends nothing more."""

    day = models.DateField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    recipients = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"inbox digest {self.day:%Y-%m-%d} ({self.recipients} recipient(s))"
