"""Where a deal in drafting stands: read from its drafting step in the outbox, for the deal
page's progress line and for Deal Desk's "Retry drafting" (services.deal_retry_drafting)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from dealdesk import pipeline
from dealdesk.integrations.models import DeliveryStatus, OutboxMessage
from dealdesk.models import Deal, DealState
from dealdesk.templatetags.dealdesk import iso

STEP = "Extracting clauses and rendering the contract"


@dataclass(frozen=True)
class DraftingProgress:
    step: OutboxMessage | None  # the latest drafting step written for the deal, if any
    started_at: datetime | None  # when the deal entered drafting
    now: datetime

    @property
    def summary(self) -> str:
        step, most = self.step, settings.INTEGRATIONS_MAX_ATTEMPTS
        if step is None:
            return "No drafting step is queued for this deal"
        if step.status == DeliveryStatus.DEAD:
            return f"{STEP} failed after {step.attempts} attempt(s) and stopped"
        if step.status == DeliveryStatus.DONE:
            return f"{STEP} finished, but the deal did not move on"
        if step.status == DeliveryStatus.RUNNING:
            return f"{STEP} — attempt {step.attempts} of {most}, running"
        if step.attempts == 0:
            return f"{STEP} — queued, first try {iso(step.next_attempt_at)}"
        return (
            f"{STEP} — attempt {step.attempts + 1} of {most}, next try {iso(step.next_attempt_at)}"
        )

    @property
    def last_error(self) -> str:
        """The failure's last line (the exception and its message), not the traceback."""
        lines = self.step.last_error.strip().splitlines() if self.step else []
        return lines[-1][:300] if lines else ""

    @property
    def can_retry(self) -> bool:
        """Failed for good, never queued, done without effect, or waiting past the limit; a
        step a worker is running is left to it (its lease ends and the sweep resends it)."""
        if self.step is None or self.step.status in (DeliveryStatus.DEAD, DeliveryStatus.DONE):
            return True
        if self.step.status == DeliveryStatus.RUNNING or self.started_at is None:
            return False
        limit = timedelta(minutes=settings.DRAFTING_RETRY_AFTER_MINUTES)
        return self.now - self.started_at > limit


def drafting_progress(deal: Deal) -> DraftingProgress | None:
    """None unless the deal is drafting; else its latest drafting step (one indexed query)."""
    if deal.state != DealState.DRAFTING:
        return None
    step = (
        OutboxMessage.objects.filter(
            object_type=Deal._meta.label_lower,
            object_id=str(deal.pk),
            task=pipeline.next_step(Deal._meta.label_lower, DealState.DRAFTING),
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    return DraftingProgress(step=step, started_at=deal.state_changed_at, now=timezone.now())
