"""Who may countersign a contract for us, up to which TCV: the table Finance keeps in the admin."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from approvals.policy import POLICY_CURRENCY
from dealdesk.models import AMOUNT, TimestampedModel


class SigningAuthority(TimestampedModel):
    """One person's authority to sign for us, up to `max_tcv` (none: any amount)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signing_authorities"
    )
    title = models.CharField(max_length=120, help_text="As printed on the signing certificate.")
    # Stored beside the amount (money is never a bare number) but fixed to the approval
    # policy's: a deal's TCV is converted at Finance's policy exchange rates, as for the
    # approval thresholds, and one currency for every limit keeps "the smallest limit
    # covering the TCV" a plain comparison.
    currency = models.CharField(max_length=3, default=POLICY_CURRENCY, editable=False)
    max_tcv = models.DecimalField(
        "max TCV",
        **AMOUNT,
        null=True,
        blank=True,
        help_text="The largest TCV (USD) this person may sign; empty: no upper limit.",
    )
    active = models.BooleanField(default=True)
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True, help_text="Last day the authority holds.")

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "signing authorities"
        ordering = [models.F("max_tcv").asc(nulls_last=True), "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_tcv__isnull=True) | models.Q(max_tcv__gt=0),
                name="signing_authority_max_tcv_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_from__isnull=True)
                | models.Q(valid_to__isnull=True)
                | models.Q(valid_to__gte=models.F("valid_from")),
                name="signing_authority_valid_to_after_from",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user.get_full_name() or self.user.get_username()}, {self.title}"

    def clean(self) -> None:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": "The authority cannot end before it starts."})
