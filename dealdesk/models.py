"""The core deal domain: accounts, contacts, the product catalog, deal patterns, deals and lines.

Money fields are `Decimal` beside one `currency` field per model. Unit prices keep six
decimals, net unit prices twelve (a discounted unit price rarely lands on a cent); amounts computed by the pricing
engine are already rounded to the currency's minor unit (at most three decimals).
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

UNIT_PRICE = {"max_digits": 18, "decimal_places": 6}
# list (6 dp) × (1 − discount/100) (discount 4 dp) is exact at 12 dp: no rounding on store.
NET_UNIT_PRICE = {"max_digits": 26, "decimal_places": 12}
AMOUNT = {"max_digits": 18, "decimal_places": 3}


class Currency(models.TextChoices):
    USD = "USD", "US dollar"
    EUR = "EUR", "Euro"
    GBP = "GBP", "Pound sterling"
    CAD = "CAD", "Canadian dollar"
    AUD = "AUD", "Australian dollar"
    CHF = "CHF", "Swiss franc"
    JPY = "JPY", "Japanese yen"
    KWD = "KWD", "Kuwaiti dinar"
    BHD = "BHD", "Bahraini dinar"


class BillingFrequency(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    SEMIANNUAL = "semiannual", "Semi-annual"
    ANNUAL = "annual", "Annual"
    UPFRONT = "upfront", "Upfront"


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Account(TimestampedModel):
    crm_id = models.CharField("CRM id", max_length=18, unique=True)
    name = models.CharField(max_length=255, help_text="The CRM's account name.")
    legal_name = models.CharField(max_length=255, help_text="As it appears on the contract.")
    billing_street = models.CharField(max_length=255, blank=True)
    billing_city = models.CharField(max_length=100, blank=True)
    billing_state = models.CharField(max_length=100, blank=True)
    billing_postal_code = models.CharField(max_length=20, blank=True)
    billing_country = models.CharField(max_length=100, blank=True)
    billing_email = models.EmailField(blank=True)
    tax_id = models.CharField("tax id", max_length=50, blank=True)
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.USD)
    # A master agreement on file puts the account's deals on the enterprise pattern.
    msa_reference = models.CharField("MSA reference", max_length=100, blank=True)
    # The CRM's NumberOfEmployees: the account's segment (dealdesk/segments.py) follows from it.
    employees = models.PositiveIntegerField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def billing_address(self) -> str:
        parts = [
            self.billing_street,
            " ".join(p for p in (self.billing_city, self.billing_state) if p),
            self.billing_postal_code,
            self.billing_country,
        ]
        return ", ".join(p for p in parts if p)


class Contact(TimestampedModel):
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="contacts")
    crm_id = models.CharField("CRM id", max_length=18, unique=True, null=True, blank=True)
    name = models.CharField(max_length=255)
    email = models.EmailField(blank=True)
    title = models.CharField(max_length=255, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.email else self.name


class Product(TimestampedModel):
    """One catalog for quoting and billing. The CRM sets sku/name/active; Finance the rest."""

    class Kind(models.TextChoices):
        SUBSCRIPTION = "subscription", "Subscription"
        ONE_TIME = "one_time", "One-time"
        USAGE = "usage", "Usage (committed volume)"

    class Interval(models.TextChoices):
        MONTH = "month", "per month"
        QUARTER = "quarter", "per quarter"
        YEAR = "year", "per year"
        ONE_TIME = "one_time", "one-time"

    sku = models.CharField("SKU", max_length=64, unique=True)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    # Blank until Finance completes a product first seen in the CRM.
    kind = models.CharField(max_length=20, choices=Kind.choices, blank=True)
    billing_interval = models.CharField(
        max_length=10,
        choices=Interval.choices,
        blank=True,
        help_text="The interval the unit price is per.",
    )
    list_price = models.DecimalField(**UNIT_PRICE, null=True, blank=True)
    floor_price = models.DecimalField(
        **UNIT_PRICE, null=True, blank=True, help_text="Lowest net unit price without approval."
    )
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.USD)
    active = models.BooleanField(default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(list_price__isnull=True) | models.Q(list_price__gte=0),
                name="product_list_price_not_negative",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="one_time", billing_interval="one_time")
                    | (~models.Q(kind="one_time") & ~models.Q(billing_interval="one_time"))
                ),
                name="product_one_time_interval_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} — {self.name}"

    @property
    def is_billing_complete(self) -> bool:
        return bool(self.kind and self.billing_interval and self.list_price is not None)


class DealPattern(TimestampedModel):
    """The shapes of deal the desk handles without a person; seeded by a data migration."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    requires_legal_review = models.BooleanField(default=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DealState(models.TextChoices):
    NEW = "new", "New"
    DRAFTING = "drafting", "Drafting"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    OUT_FOR_SIGNATURE = "out_for_signature", "Out for signature"
    SIGNED = "signed", "Signed"
    BILLING = "billing", "Billing"
    INVOICED = "invoiced", "Invoiced"
    PAID = "paid", "Paid"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    MANUAL_REVIEW = "manual_review", "Manual review"
    CANCELLED = "cancelled", "Cancelled"


S = DealState
# Before signature a deal can still be withdrawn; after it only billing events move it.
CANCELLABLE = [
    S.NEW,
    S.DRAFTING,
    S.IN_REVIEW,
    S.APPROVED,
    S.CHANGES_REQUESTED,
    S.MANUAL_REVIEW,
    S.OUT_FOR_SIGNATURE,
]
# Anything the patterns or a later step cannot handle is handed to a person.
MANUAL_REVIEW_FROM = [S.NEW, S.DRAFTING, S.IN_REVIEW, S.APPROVED, S.CHANGES_REQUESTED, S.BILLING]
PIPELINE_PERM = "dealdesk.run_pipeline"
MANAGE_PERM = "dealdesk.manage_deal"
REQUEST_CHANGES_PERM = "dealdesk.request_deal_changes"
CONTRACT_REVIEW_PERM = "contracts.review_contract"
BILLING_PERM = "billing.manage_billing"


def _any_perm(*perms: str):
    """A transition permission held by whoever has any of `perms` (the pipeline, or a person)."""
    return lambda instance, user: any(user.has_perm(perm) for perm in perms)


class Deal(ConcurrentTransitionMixin, TimestampedModel):
    crm_id = models.CharField("CRM id", max_length=18, unique=True)
    name = models.CharField(max_length=255, db_index=True)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="deals")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_deals"
    )
    pattern = models.ForeignKey(
        DealPattern, on_delete=models.PROTECT, null=True, blank=True, related_name="deals"
    )
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.USD)
    close_date = models.DateField(null=True, blank=True)
    start_date = models.DateField()
    term_months = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    billing_frequency = models.CharField(
        max_length=12, choices=BillingFrequency.choices, default=BillingFrequency.ANNUAL
    )
    payment_terms = models.PositiveSmallIntegerField(
        "payment terms (net days)", default=30, validators=[MaxValueValidator(365)]
    )
    ae_notes = models.TextField("AE notes", blank=True)
    crm_amount = models.DecimalField(
        "CRM amount", **AMOUNT, null=True, blank=True, help_text="Opportunity.Amount as synced."
    )

    state = FSMField(default=DealState.NEW, choices=DealState.choices, protected=True)
    state_reason = models.TextField(blank=True, help_text="Why the deal is in its state.")
    state_changed_at = models.DateTimeField(null=True, blank=True)
    # Segregation of duties: whoever last changed priced lines or clauses may not approve.
    terms_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    # Computed by dealdesk.pricing from the lines (see services.deal_price); never typed in.
    lines_total = models.DecimalField(**AMOUNT, null=True, blank=True)
    tcv = models.DecimalField("TCV", **AMOUNT, null=True, blank=True, db_index=True)
    acv = models.DecimalField("ACV", **AMOUNT, null=True, blank=True)
    arr = models.DecimalField("ARR", **AMOUNT, null=True, blank=True)
    first_year_value = models.DecimalField(**AMOUNT, null=True, blank=True)
    effective_discount_pct = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True
    )
    priced_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-updated_at", "-pk"]
        # The deal list's default order (newest first, pk breaking ties), alone and under
        # its two most used filters, so a page is an index walk rather than a sort.
        indexes = [
            models.Index(fields=["-updated_at", "-id"], name="deal_recent_idx"),
            models.Index(fields=["state", "-updated_at", "-id"], name="deal_state_recent_idx"),
            models.Index(fields=["owner", "-updated_at", "-id"], name="deal_owner_recent_idx"),
            models.Index(fields=["start_date"], name="deal_start_idx"),
        ]
        permissions = [
            ("view_all_deals", "Can see every deal (Sales sees only its own)"),
            ("run_pipeline", "Can run automated pipeline steps"),
            ("manage_deal", "Can cancel deals and move them in and out of manual review"),
            ("request_deal_changes", "Can send a deal back with changes requested"),
        ]

    def __str__(self) -> str:
        return self.name

    # Transitions change this row's own fields only; services own locking, audit and
    # what happens next (dealdesk/pipeline.py).
    def _entered(self, reason: str) -> None:
        self.state_reason = reason
        self.state_changed_at = timezone.now()

    @transition(state, source=S.NEW, target=S.DRAFTING, permission=PIPELINE_PERM)
    def start_drafting(self, *, reason: str = "") -> None:
        self._entered(reason)

    @transition(state, source=S.DRAFTING, target=S.IN_REVIEW, permission=PIPELINE_PERM)
    def submit_for_review(self, *, reason: str = "") -> None:
        self._entered(reason)

    @transition(state, source=S.IN_REVIEW, target=S.APPROVED, permission=PIPELINE_PERM)
    def approve(self, *, reason: str = "") -> None:
        self._entered(reason)

    @transition(
        state,
        source=[S.DRAFTING, S.IN_REVIEW, S.APPROVED],
        target=S.CHANGES_REQUESTED,
        permission=REQUEST_CHANGES_PERM,
    )
    def request_changes(self, *, reason: str = "") -> None:
        self._entered(reason)

    @transition(state, source=S.CHANGES_REQUESTED, target=S.DRAFTING, permission=MANAGE_PERM)
    def redraft(self, *, reason: str = "") -> None:
        self._entered(reason)

    # E-signature (contracts/esign): the pipeline sends and collects signatures; Deal Desk
    # uploads a contract signed on paper, voids or resends; Legal confirms a paper one.
    @transition(
        state,
        source=S.APPROVED,
        target=S.OUT_FOR_SIGNATURE,
        permission=_any_perm(PIPELINE_PERM, MANAGE_PERM),
    )
    def send_for_signature(self, *, reason: str = "") -> None:
        self._entered(reason)

    @transition(
        state,
        source=S.OUT_FOR_SIGNATURE,
        target=S.SIGNED,
        permission=_any_perm(PIPELINE_PERM, CONTRACT_REVIEW_PERM),
    )
    def mark_signed(self, *, reason: str = "") -> None:
        self._entered(reason)

    # Voided or expired: the approved contract waits to be sent again.
    @transition(
        state,
        source=S.OUT_FOR_SIGNATURE,
        target=S.APPROVED,
        permission=_any_perm(PIPELINE_PERM, MANAGE_PERM, CONTRACT_REVIEW_PERM),
    )
    def return_from_signature(self, *, reason: str = "") -> None:
        self._entered(reason)

    # A signer declined: Deal Desk reads their reason and has the contract changed.
    @transition(
        state, source=S.OUT_FOR_SIGNATURE, target=S.CHANGES_REQUESTED, permission=PIPELINE_PERM
    )
    def signature_declined(self, *, reason: str = "") -> None:
        self._entered(reason)

    # Billing (billing/): the pipeline, or Finance billing a deal again after an exception.
    @transition(
        state,
        source=S.SIGNED,
        target=S.BILLING,
        permission=_any_perm(PIPELINE_PERM, BILLING_PERM),
    )
    def start_billing(self, *, reason: str = "") -> None:
        self._entered(reason)

    @transition(
        state,
        source=S.BILLING,
        target=S.INVOICED,
        permission=_any_perm(PIPELINE_PERM, BILLING_PERM),
    )
    def mark_invoiced(self, *, reason: str = "") -> None:
        self._entered(reason)

    @transition(
        state, source=S.INVOICED, target=S.PAID, permission=_any_perm(PIPELINE_PERM, BILLING_PERM)
    )
    def mark_paid(self, *, reason: str = "") -> None:
        self._entered(reason)

    @transition(state, source=MANUAL_REVIEW_FROM, target=S.MANUAL_REVIEW, permission=MANAGE_PERM)
    def send_to_manual_review(self, *, reason: str = "") -> None:
        self._entered(reason)

    @transition(
        state,
        source=S.MANUAL_REVIEW,
        target=S.DRAFTING,
        permission=MANAGE_PERM,
        conditions=[lambda deal: deal.pattern_id is not None],
    )
    def resume(self, *, reason: str = "") -> None:
        self._entered(reason)

    @transition(state, source=CANCELLABLE, target=S.CANCELLED, permission=MANAGE_PERM)
    def cancel(self, *, reason: str = "") -> None:
        self._entered(reason)


class DealLine(TimestampedModel):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="lines")
    crm_id = models.CharField("CRM id", max_length=18, unique=True, null=True, blank=True)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="deal_lines")
    # Ramp year the line's price applies to; the last segment holds to the end of term.
    segment_index = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    quantity = models.DecimalField(max_digits=14, decimal_places=4)
    list_unit_price = models.DecimalField(**UNIT_PRICE)
    discount_pct = models.DecimalField(
        "discount %",
        max_digits=7,
        decimal_places=4,
        default=Decimal(0),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    net_unit_price = models.DecimalField(**NET_UNIT_PRICE)

    history = HistoricalRecords()

    class Meta:
        ordering = ["segment_index", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quantity__gt=0), name="line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(discount_pct__gte=0) & models.Q(discount_pct__lte=100),
                name="line_discount_within_0_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.sku} × {self.quantity} (year {self.segment_index})"


class DealContact(TimestampedModel):
    """A contact's role on a deal (the CRM's OpportunityContactRole): signer, billing, ..."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="contact_roles")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="deal_roles")
    role = models.CharField(max_length=60, blank=True)
    is_primary = models.BooleanField(default=False)
    # The OpportunityContactRole's id: a role edited or deleted in the CRM is found by it.
    crm_id = models.CharField("CRM id", max_length=18, unique=True, null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["deal", "contact", "role"], name="deal_contact_role")
        ]

    def __str__(self) -> str:
        return f"{self.contact.name} ({self.role or 'contact'})"


class DealTermsEdit(models.Model):
    """One change a person made to a deal's priced lines or clauses. Segregation of duties
    bars every one of them from deciding on the deal, not only the last (dealdesk/roles.py)."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="terms_edits")
    editor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    what = models.CharField(max_length=255)
    edited_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["edited_at", "pk"]
        indexes = [models.Index(fields=["deal", "editor"], name="deal_terms_edit_editor_idx")]

    def __str__(self) -> str:
        return f"{self.editor} edited {self.deal}: {self.what}"


class Notification(models.Model):
    """Something waiting for one person, counted under the bell in the navigation. Written by
    the task that e-mails them (dealdesk/notifications.py), once per person and key, so a
    step that runs twice tells nobody twice. Not business state: no history, no audit."""

    class Kind(models.TextChoices):
        APPROVAL_NEEDED = "approval_needed", "Approval needed"
        APPROVAL_DECIDED = "approval_decided", "Approval decided"
        DEAL_WAITS_FOR_DESK = "deal_waits_for_desk", "Deal waits for Deal Desk"
        SIGNATURE = "signature", "Signature news"
        PAPER_TO_CONFIRM = "paper_to_confirm", "Contract signed on paper to confirm"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    # The sender's idempotency key (the same as its e-mail's): one row per person and key.
    key = models.CharField(max_length=200)
    text = models.CharField(max_length=500)
    # A path on this site; the bell's redirect refuses anything else (dealdesk/notifications.py).
    url = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="notification_once_per_key")
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient_idx"),
            # The bell's count on every page: only the unread rows of one person.
            models.Index(
                fields=["recipient"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.text}"


class SavedDealFilter(models.Model):
    """A person's named deal-list filter. Only the query string DealFilterForm cleaned is kept
    (dealdesk/forms.py), and it is cleaned again when the list applies it. A convenience,
    not business state: no history, no audit."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_deal_filters"
    )
    name = models.CharField(max_length=80)
    query_string = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_deal_filter_name_once")
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.name}"
