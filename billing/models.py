"""Billing records and the local ledger's invoices.

A billing record is one executed contract version in the billing system: its canonical order
(what the contract says must be billed, billing/canonical_order.py) stored as evidence, the
readiness problems or the contract ↔ billing differences that stopped it, and the billing
system's ids. An invoice is one planned invoice of that order; it gets its gapless number
only when it is issued, so a draft that never goes out leaves no hole in the sequence.
"""

from django.db import models
from django.db.models import Q
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from contracts.models import ContractVersion
from dealdesk.models import AMOUNT, Deal, TimestampedModel


class RecordState(models.TextChoices):
    PENDING = "pending", "Being created"
    EXCEPTION = "exception", "Billing exception"
    CREATED = "created", "In billing"


class BillingRecord(ConcurrentTransitionMixin, TimestampedModel):
    deal = models.ForeignKey(Deal, on_delete=models.PROTECT, related_name="billing_records")
    # One record per executed version: billing the same contract twice is refused here.
    version = models.OneToOneField(
        ContractVersion, on_delete=models.PROTECT, related_name="billing_record"
    )
    backend = models.CharField(max_length=20)
    state = FSMField(default=RecordState.PENDING, choices=RecordState.choices, protected=True)
    signed_on = models.DateField()
    go_live_on = models.DateField(null=True, blank=True)
    order = models.JSONField(default=dict, help_text="The canonical order, as evidence.")
    order_sha256 = models.CharField(max_length=64, blank=True)
    # Why it stopped: readiness problems or the contract's own mismatch, in words.
    problems = models.JSONField(default=list, blank=True)
    # The contract ↔ billing system differences found on read-back (empty: they agree).
    diff = models.JSONField(default=list, blank=True)
    external_ids = models.JSONField(default=dict, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["state", "-created_at"], name="billing_record_state_idx")]
        permissions = [("manage_billing", "Can bill deals again and resolve billing exceptions")]

    def __str__(self) -> str:
        return f"Billing of {self.deal} v{self.version.number} ({self.get_state_display()})"

    @transition(state, source=RecordState.PENDING, target=RecordState.CREATED)
    def created(self) -> None:
        self.problems, self.diff = [], []

    @transition(state, source=RecordState.PENDING, target=RecordState.EXCEPTION)
    def stopped(self, *, problems: list[str], diff: list[dict] | None = None) -> None:
        self.problems, self.diff = problems, diff or []

    @transition(state, source=RecordState.EXCEPTION, target=RecordState.PENDING)
    def retried(self) -> None:
        """Finance fixed the cause (`manage.py bill_deal`, the exception's Retry)."""


class InvoiceSequence(models.Model):
    """The last number issued per legal entity and year: gapless, taken under a row lock."""

    legal_entity = models.CharField(max_length=20)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["legal_entity", "year"], name="invoice_sequence_once")
        ]

    def __str__(self) -> str:
        return f"{self.legal_entity} {self.year}: {self.last_number}"


class InvoiceState(models.TextChoices):
    DRAFT = "draft", "Draft"
    ISSUED = "issued", "Issued"
    PAID = "paid", "Paid"
    VOID = "void", "Void"


def _invoice_path(invoice: "Invoice", filename: str) -> str:
    return f"billing/deal-{invoice.deal_id}/{filename}"


class Invoice(ConcurrentTransitionMixin, TimestampedModel):
    record = models.ForeignKey(BillingRecord, on_delete=models.PROTECT, related_name="invoices")
    deal = models.ForeignKey(Deal, on_delete=models.PROTECT, related_name="invoices")
    plan_index = models.PositiveSmallIntegerField(help_text="1 for the first invoice.")
    state = FSMField(default=InvoiceState.DRAFT, choices=InvoiceState.choices, protected=True)
    legal_entity = models.CharField(max_length=20)
    number = models.CharField(max_length=40, unique=True, null=True, blank=True)
    currency = models.CharField(max_length=3)
    period_start = models.DateField()
    period_last_day = models.DateField()
    # None until known (billing that starts at go-live).
    issue_on = models.DateField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True)
    payment_terms = models.PositiveSmallIntegerField()
    po_number = models.CharField(max_length=100, blank=True)
    total = models.DecimalField(**AMOUNT)
    amount_paid = models.DecimalField(**AMOUNT, default=0)
    issued_at = models.DateTimeField(null=True, blank=True)
    pdf = models.FileField(upload_to=_invoice_path, max_length=255, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["deal_id", "plan_index"]
        constraints = [
            models.UniqueConstraint(fields=["record", "plan_index"], name="invoice_plan_once"),
            models.CheckConstraint(condition=Q(total__gt=0), name="invoice_total_positive"),
        ]
        indexes = [
            models.Index(fields=["state", "issue_on"], name="invoice_state_issue_idx"),
            models.Index(fields=["state", "due_on"], name="invoice_state_due_idx"),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft invoice {self.plan_index} of {self.deal}"

    @property
    def amount_due(self):
        return self.total - self.amount_paid

    @transition(state, source=InvoiceState.DRAFT, target=InvoiceState.ISSUED)
    def issue(self, *, number: str, at) -> None:
        self.number, self.issued_at = number, at


class InvoiceLine(models.Model):
    """One charge of an invoice, traceable to the contract line it bills."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    line_key = models.CharField(max_length=20, help_text="The canonical order's line key.")
    sku = models.CharField("SKU", max_length=64)
    description = models.CharField(max_length=255)
    quantity = models.DecimalField(max_digits=14, decimal_places=4)
    amount = models.DecimalField(**AMOUNT)

    history = HistoricalRecords()

    class Meta:
        ordering = ["invoice", "pk"]

    def __str__(self) -> str:
        return f"{self.description} × {self.quantity}: {self.amount}"
