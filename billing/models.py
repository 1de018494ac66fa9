"""Billing records and the local ledger's invoices.

A billing record is one executed contract version in the billing system: its canonical order
(what the contract says must be billed, billing/canonical_order.py) stored as evidence, the
readiness problems or the contract ↔ billing differences that stopped it, and the billing
system's ids. An invoice is one planned invoice of that order; it gets its gapless number
only when it is issued, so a draft that never goes out leaves no hole in the sequence.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from contracts.models import ContractVersion
from dealdesk.models import AMOUNT, Account, Deal, TimestampedModel


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
    # The KPI "days from signature to first payment", kept when the first invoice is paid.
    first_paid_on = models.DateField(null=True, blank=True)
    days_to_first_payment = models.PositiveIntegerField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["state", "-created_at"], name="billing_record_state_idx")]
        permissions = [
            ("manage_billing", "Can bill deals again and resolve billing exceptions"),
            ("set_go_live", "Can set the go-live date of a deal waiting for it"),
        ]

    def __str__(self) -> str:
        return f"Billing of {self.deal} v{self.version.number} ({self.get_state_display()})"

    @transition(state, source=RecordState.PENDING, target=RecordState.CREATED)
    def created(self) -> None:
        self.problems, self.diff = [], []

    @transition(state, source=RecordState.PENDING, target=RecordState.EXCEPTION)
    def stopped(self, *, problems: list[str], diff: list[dict] | None = None) -> None:
        self.problems, self.diff = problems, diff or []

    @transition(state, source=RecordState.CREATED, target=RecordState.EXCEPTION)
    def drifted(self, *, problems: list[str], diff: list[dict]) -> None:
        """The billing system's record was changed after it matched the contract (Stripe:
        a schedule edited or cancelled by hand): Finance looks before more is invoiced."""
        self.problems, self.diff = problems, diff

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
    # What settled it so far: payments allocated, credit notes, write-offs Finance recorded.
    amount_paid = models.DecimalField(**AMOUNT, default=0)
    amount_credited = models.DecimalField(**AMOUNT, default=0)
    amount_written_off = models.DecimalField(**AMOUNT, default=0)
    # The billing system's own id for this invoice (Stripe: in_...); blank on the local ledger.
    external_id = models.CharField(max_length=100, blank=True, db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)
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
        return self.total - self.amount_paid - self.amount_credited - self.amount_written_off

    @transition(state, source=InvoiceState.DRAFT, target=InvoiceState.ISSUED)
    def issue(self, *, number: str, at) -> None:
        self.number, self.issued_at = number, at

    @transition(state, source=InvoiceState.ISSUED, target=InvoiceState.PAID)
    def settle(self, *, at) -> None:
        """Nothing left to pay: payments, credit notes and write-offs cover the total."""
        self.paid_at = at

    @transition(state, source=InvoiceState.PAID, target=InvoiceState.ISSUED)
    def reopen(self) -> None:
        """A payment that settled it was refunded, reversed or moved to another invoice."""
        self.paid_at = None

    @transition(state, source=[InvoiceState.DRAFT, InvoiceState.ISSUED], target=InvoiceState.VOID)
    def void(self) -> None:
        """Cancelled in the billing system (Stripe: voided or marked uncollectible)."""


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


# --- payments and receivables -------------------------------------------------------------


class PaymentSource(models.TextChoices):
    MANUAL = "manual", "Entered by Finance"
    BANK = "bank", "Bank statement"
    STRIPE = "stripe", "Stripe"


class PaymentState(models.TextChoices):
    RECEIVED = "received", "Received"
    APPLIED = "applied", "Applied"
    # Some or all of it is not applied to an invoice: an AR item says why.
    HELD = "held", "Needs a person"
    REFUNDED = "refunded", "Refunded"


class BankMapping(TimestampedModel):
    """How one bank's CSV statements read (billing/bank_statements/csv_statement.py's
    ColumnMapping as JSON), saved the first time Finance imports from that bank."""

    bank = models.CharField(max_length=100, unique=True)
    mapping = models.JSONField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["bank"]

    def __str__(self) -> str:
        return self.bank


class ImportState(models.TextChoices):
    PREVIEW = "preview", "Preview"
    COMMITTED = "committed", "Imported"
    DISCARDED = "discarded", "Discarded"


def _statement_path(statement: "BankImport", filename: str) -> str:
    return f"billing/statements/{statement.sha256[:2]}/{statement.sha256}"


class BankImport(ConcurrentTransitionMixin, TimestampedModel):
    """One bank statement file: previewed, then committed once (the file's hash is unique, and
    every entry's id is unique among payments, so a file or an overlapping one adds nothing
    twice)."""

    sha256 = models.CharField(max_length=64, unique=True)
    filename = models.CharField(max_length=255)
    file = models.FileField(upload_to=_statement_path, max_length=255)
    kind = models.CharField(max_length=10, help_text="csv or camt053")
    bank = models.ForeignKey(BankMapping, on_delete=models.PROTECT, null=True, blank=True)
    state = FSMField(default=ImportState.PREVIEW, choices=ImportState.choices, protected=True)
    account_iban = models.CharField(max_length=64, blank=True)
    entries = models.PositiveIntegerField(default=0)
    # What the commit did: new payments, entries already known, matched, sent to AR.
    summary = models.JSONField(default=dict, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    committed_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_state_display()})"

    @transition(state, source=ImportState.PREVIEW, target=ImportState.COMMITTED)
    def commit(self, *, by, at, summary: dict) -> None:
        self.committed_by, self.committed_at, self.summary = by, at, summary

    @transition(state, source=ImportState.PREVIEW, target=ImportState.DISCARDED)
    def discard(self) -> None:
        pass


class Payment(ConcurrentTransitionMixin, TimestampedModel):
    """Money received from a customer, from whichever source, matched to invoices by
    billing/reconciliation (allocations), or held with an AR item for Finance."""

    source = models.CharField(max_length=10, choices=PaymentSource.choices)
    # The source's own id: bank entry id, Stripe invoice payment id, or ours for manual entry.
    external_id = models.CharField(max_length=120)
    state = FSMField(default=PaymentState.RECEIVED, choices=PaymentState.choices, protected=True)
    received_on = models.DateField()
    amount = models.DecimalField(**AMOUNT)
    currency = models.CharField(max_length=3)
    amount_applied = models.DecimalField(**AMOUNT, default=0)
    amount_refunded = models.DecimalField(**AMOUNT, default=0)
    payer_name = models.CharField(max_length=255, blank=True)
    reference = models.CharField(max_length=500, blank=True)
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    statement = models.ForeignKey(
        BankImport, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    # Who typed it in (manual entry): segregation of duties for its write-off.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-received_on", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="payment_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
        ]
        indexes = [models.Index(fields=["state", "-received_on"], name="payment_state_idx")]

    def __str__(self) -> str:
        return f"{self.currency} {self.amount} from {self.payer_name or 'unknown payer'}"

    @property
    def unapplied(self):
        return self.amount - self.amount_applied - self.amount_refunded

    @transition(
        state, source=[PaymentState.RECEIVED, PaymentState.HELD], target=PaymentState.APPLIED
    )
    def applied(self) -> None:
        pass

    @transition(
        state, source=[PaymentState.RECEIVED, PaymentState.APPLIED], target=PaymentState.HELD
    )
    def held(self) -> None:
        pass

    @transition(
        state,
        source=[PaymentState.RECEIVED, PaymentState.APPLIED, PaymentState.HELD],
        target=PaymentState.REFUNDED,
    )
    def refunded(self) -> None:
        pass


class PaymentAllocation(TimestampedModel):
    """Part (or all) of a payment applied to one invoice."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    amount = models.DecimalField(**AMOUNT)
    # What the payer's bank or the billing system took back of it since (a refund, a dispute,
    # a reversal): the row keeps what was applied, the invoice owes this again.
    amount_taken_back = models.DecimalField(**AMOUNT, default=0)
    # "matched" by reconciliation, or "allocated" by a person from the AR queue.
    how = models.CharField(max_length=20)
    allocated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive"),
            models.CheckConstraint(
                condition=Q(amount_taken_back__gte=0, amount_taken_back__lte=F("amount")),
                name="allocation_taken_back_within_amount",
            ),
        ]

    @property
    def amount_applied(self) -> Decimal:
        """What of the payment still pays the invoice."""
        return self.amount - self.amount_taken_back

    def __str__(self) -> str:
        return f"{self.amount} of payment {self.payment_id} to invoice {self.invoice_id}"


class ARReason(models.TextChoices):
    PARTIAL = "partial", "Partial payment"
    OVERPAID = "overpaid", "Overpayment"
    UNMATCHED = "unmatched", "Unmatched payment"
    WRONG_CURRENCY = "wrong_currency", "Wrong currency"
    BANK_FEES = "bank_fees", "Short-paid by bank fees"
    PAID_TWICE = "paid_twice", "Paid twice"
    REFUNDED = "refunded", "Refunded"
    DISPUTED = "disputed", "Disputed"
    PAYMENT_FAILED = "payment_failed", "Payment failed"
    UNCOLLECTIBLE = "uncollectible", "Marked uncollectible"


class ARState(models.TextChoices):
    OPEN = "open", "Open"
    AWAITING_APPROVAL = "awaiting_approval", "Write-off awaiting approval"
    RESOLVED = "resolved", "Resolved"


class ARResolution(models.TextChoices):
    ALLOCATED = "allocated", "Allocated to an invoice"
    WRITTEN_OFF = "written_off", "Written off"
    CREDITED = "credited", "Credit note issued"
    REFUNDED = "refunded", "Refunded"
    SETTLED = "settled", "Settled by a later payment"


class ARItem(ConcurrentTransitionMixin, TimestampedModel):
    """A payment or invoice that did not reconcile by itself, in front of Finance with its
    reason, amount and age until one audited action resolves it."""

    # Ours, from what raised it (e.g. "payment:12:overpaid"): raising it twice finds it.
    key = models.CharField(max_length=120, unique=True)
    reason = models.CharField(max_length=20, choices=ARReason.choices)
    state = FSMField(default=ARState.OPEN, choices=ARState.choices, protected=True)
    amount = models.DecimalField(**AMOUNT)
    currency = models.CharField(max_length=3)
    detail = models.TextField(help_text="What happened, in words.")
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, null=True, blank=True, related_name="ar_items"
    )
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="ar_items"
    )
    deal = models.ForeignKey(
        Deal, on_delete=models.PROTECT, null=True, blank=True, related_name="ar_items"
    )
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, null=True, blank=True, related_name="ar_items"
    )
    resolution = models.CharField(max_length=20, choices=ARResolution.choices, blank=True)
    resolution_note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    # A write-off above Finance's tolerance waits for a second Finance approver.
    write_off_amount = models.DecimalField(**AMOUNT, null=True, blank=True)
    write_off_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    chase_count = models.PositiveSmallIntegerField(default=0)
    last_chased_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["state", "created_at"], name="ar_item_state_idx")]

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: {self.currency} {self.amount}"

    @transition(state, source=ARState.OPEN, target=ARState.AWAITING_APPROVAL)
    def request_write_off(self, *, amount, by) -> None:
        self.write_off_amount, self.write_off_requested_by = amount, by

    @transition(state, source=ARState.AWAITING_APPROVAL, target=ARState.OPEN)
    def reject_write_off(self) -> None:
        self.write_off_amount, self.write_off_requested_by = None, None

    @transition(state, source=[ARState.OPEN, ARState.AWAITING_APPROVAL], target=ARState.RESOLVED)
    def resolve(self, *, resolution: str, by, at, note: str = "") -> None:
        self.resolution, self.resolved_by, self.resolved_at = resolution, by, at
        self.resolution_note = note


class WriteOffTolerance(TimestampedModel):
    """Per currency, the most Finance may write off alone; above it a second approver."""

    currency = models.CharField(max_length=3, unique=True)
    amount = models.DecimalField(**AMOUNT)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["currency"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="tolerance_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.amount}"


def _credit_note_path(note: "CreditNote", filename: str) -> str:
    return _invoice_path(note.invoice, filename)  # beside the invoice it credits


class CreditNote(TimestampedModel):
    """Reduces what an invoice asks for; numbered gaplessly like invoices (its own series)."""

    number = models.CharField(max_length=40, unique=True)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    amount = models.DecimalField(**AMOUNT)
    currency = models.CharField(max_length=3)
    reason = models.TextField()
    ar_item = models.ForeignKey(
        ARItem, on_delete=models.PROTECT, null=True, blank=True, related_name="credit_notes"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    external_id = models.CharField(max_length=100, blank=True)
    # Drawn and mailed after it is issued (billing/credit_note_delivery.py), then checked
    # against its SHA-256 on every download like an invoice's.
    pdf = models.FileField(upload_to=_credit_note_path, max_length=255, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_note_amount_positive")
        ]

    def __str__(self) -> str:
        return self.number


class Refund(TimestampedModel):
    """Money sent back to the customer from a payment (an overpayment, a payment made twice)."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(**AMOUNT)
    currency = models.CharField(max_length=3)
    reason = models.TextField()
    ar_item = models.ForeignKey(
        ARItem, on_delete=models.PROTECT, null=True, blank=True, related_name="refunds"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Stripe's refund id; on the local ledger Finance sends the money and notes its reference.
    external_id = models.CharField(max_length=100, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")
        ]

    def __str__(self) -> str:
        return f"Refund of {self.currency} {self.amount}"


class EventCursor(models.Model):
    """Where a billing system's event sweep got to (Stripe: the last event id seen), so the
    nightly sweep lists only what came after it."""

    source = models.CharField(max_length=20, unique=True)
    last_event_id = models.CharField(max_length=100, blank=True)
    last_event_created = models.DateTimeField(null=True, blank=True)
    swept_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.source}: {self.last_event_id or 'nothing yet'}"


class StripeConvergence(models.Model):
    """When a Stripe object (an invoice) was last fetched and acted on, by our clock: news of
    it stored before that fetch began was seen by it and needs no fetch of its own
    (billing/stripe_sync/converged.py). A row in the database, not a cache, so every worker
    sees it and it is written in the transaction of what the fetch applied."""

    object_id = models.CharField(max_length=255, unique=True)
    fetched_from = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.object_id} fetched {self.fetched_from:%Y-%m-%d %H:%M:%S}"
