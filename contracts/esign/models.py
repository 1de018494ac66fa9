"""E-signature records: who may countersign for us (the table Finance keeps in the admin), and
each signature request with its signers, from sending to the executed document."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from approvals.policy import POLICY_CURRENCY
from contracts.models import ContractVersion
from dealdesk.models import AMOUNT, Deal, TimestampedModel


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


class Backend(models.TextChoices):
    LOCAL = "local", "Dealdesk signing page"
    DOCUSIGN = "docusign", "DocuSign"
    # Signed outside the product (customer paper, wet ink): Deal Desk uploads, Legal confirms.
    PAPER = "paper", "Signed on paper, uploaded"


class RequestState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent"
    COMPLETED = "completed", "Completed"
    DECLINED = "declined", "Declined"
    VOIDED = "voided", "Voided"
    EXPIRED = "expired", "Expired"


R = RequestState
OPEN_REQUEST_STATES = [R.DRAFT, R.SENT]


def _executed_path(request: "SignatureRequest", filename: str) -> str:
    return f"contracts/deal-{request.deal_id}/executed/{filename}"


class SignatureRequest(ConcurrentTransitionMixin, TimestampedModel):
    """One round of signatures on one approved contract version.

    Draft until it can go out (signers found, the PDF still the approved bytes); a draft that
    cannot says why in `blocked_reason` for Deal Desk. Sent until every signer signed
    (completed), one declined, Deal Desk voided it, or it expired; a new round is a new request.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    deal = models.ForeignKey(Deal, on_delete=models.PROTECT, related_name="signature_requests")
    version = models.ForeignKey(
        ContractVersion, on_delete=models.PROTECT, related_name="signature_requests"
    )
    backend = models.CharField(max_length=20, choices=Backend.choices)
    routing_order = models.CharField(max_length=20, blank=True)
    state = FSMField(default=R.DRAFT, choices=R.choices, protected=True)
    state_reason = models.TextField(blank=True)
    blocked_reason = models.TextField(blank=True, help_text="Why a draft has not gone out.")
    # SHA-256 of the approved PDF's bytes as they were sent: the document every party signs.
    document_sha256 = models.CharField(max_length=64)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The executed document: sealed by us (local), DocuSign's combined document, or the
    # uploaded paper contract; hashed like every document.
    executed_pdf = models.FileField(upload_to=_executed_path, max_length=255, blank=True)
    executed_sha256 = models.CharField(max_length=64, blank=True)
    # DocuSign's certificate of completion (DocuSign only).
    certificate_pdf = models.FileField(upload_to=_executed_path, max_length=255, blank=True)
    certificate_sha256 = models.CharField(max_length=64, blank=True)
    # DocuSign: the envelope, and when we last heard of it (webhook or poll).
    envelope_id = models.CharField(max_length=64, blank=True, db_index=True)
    last_vendor_event_at = models.DateTimeField(null=True, blank=True)
    # The paper path: who uploaded it, what differs from the approved text, who confirmed it.
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    change_statement = models.TextField(blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One round at a time: a second send of the same step cannot open a twin.
            models.UniqueConstraint(
                fields=["deal"],
                condition=Q(state__in=OPEN_REQUEST_STATES),
                name="signature_request_one_open",
            )
        ]
        indexes = [models.Index(fields=["state", "sent_at"], name="signature_request_state_idx")]
        permissions = [
            ("manage_signaturerequest", "Can send, remind, void and resend signature requests"),
        ]

    def __str__(self) -> str:
        return f"Signature request {self.public_id} ({self.get_state_display().lower()})"

    def _finished(self, reason: str) -> None:
        self.state_reason = reason
        self.finished_at = timezone.now()

    @transition(state, source=R.DRAFT, target=R.SENT)
    def send(self, *, expires_at) -> None:
        self.blocked_reason = ""
        self.sent_at = timezone.now()
        self.expires_at = expires_at

    @transition(state, source=R.SENT, target=R.COMPLETED)
    def complete(self, *, reason: str = "") -> None:
        self._finished(reason)

    @transition(state, source=R.SENT, target=R.DECLINED)
    def decline(self, *, reason: str) -> None:
        self._finished(reason)

    @transition(state, source=OPEN_REQUEST_STATES, target=R.VOIDED)
    def void(self, *, reason: str) -> None:
        self._finished(reason)

    @transition(state, source=R.SENT, target=R.EXPIRED)
    def expire(self, *, reason: str) -> None:
        self._finished(reason)


class SignerState(models.TextChoices):
    WAITING = "waiting", "Waiting for an earlier signer"
    NOTIFIED = "notified", "Sent"
    VIEWED = "viewed", "Opened"
    SIGNED = "signed", "Signed"
    DECLINED = "declined", "Declined"


G = SignerState
PENDING_SIGNER_STATES = [G.WAITING, G.NOTIFIED, G.VIEWED]


class Signer(ConcurrentTransitionMixin, TimestampedModel):
    """One party's signature on a request: a customer's signer or our countersigner."""

    class Role(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        COUNTERSIGNER = "countersigner", "Countersigner"

    request = models.ForeignKey(SignatureRequest, on_delete=models.PROTECT, related_name="signers")
    role = models.CharField(max_length=20, choices=Role.choices)
    routing_order = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=255)
    email = models.EmailField()
    title = models.CharField(max_length=255, blank=True)
    language = models.CharField(max_length=8, default="en")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    authority = models.ForeignKey(
        SigningAuthority, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    state = FSMField(default=G.WAITING, choices=G.choices, protected=True)
    # The one-time link's secret part (contracts/esign/tokens.py); a new one revokes the old.
    link_nonce = models.CharField(max_length=64, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    viewed_at = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(blank=True)
    # Evidence of the signature: where from, with what, what they agreed to and typed.
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    consent_text = models.TextField(blank=True)
    typed_name = models.CharField(max_length=255, blank=True)
    drawn_signature = models.BinaryField(blank=True, null=True, editable=False)
    recipient_id = models.CharField(max_length=20, blank=True, help_text="DocuSign's")

    history = HistoricalRecords(excluded_fields=["drawn_signature"])

    class Meta:
        ordering = ["request", "routing_order", "pk"]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}> ({self.get_role_display().lower()})"

    @property
    def has_signed(self) -> bool:
        return self.state == G.SIGNED

    @transition(state, source=[G.WAITING, G.NOTIFIED], target=G.NOTIFIED)
    def notify(self) -> None:
        self.notified_at = self.notified_at or timezone.now()

    @transition(state, source=[G.NOTIFIED, G.VIEWED], target=G.VIEWED)
    def view(self) -> None:
        self.viewed_at = self.viewed_at or timezone.now()

    @transition(state, source=PENDING_SIGNER_STATES, target=G.SIGNED)
    def sign(
        self, *, at, ip: str | None, user_agent: str, consent_text: str, typed_name: str
    ) -> None:
        self.signed_at, self.ip, self.user_agent = at, ip, user_agent[:500]
        self.consent_text, self.typed_name = consent_text, typed_name

    @transition(state, source=PENDING_SIGNER_STATES, target=G.DECLINED)
    def decline(self, *, at, reason: str, ip: str | None, user_agent: str) -> None:
        self.declined_at, self.decline_reason = at, reason
        self.ip, self.user_agent = ip, user_agent[:500]
