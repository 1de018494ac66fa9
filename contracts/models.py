"""Contracts: the clause library, versioned contract templates and contract versions.

A contract version is frozen: its snapshot holds every fact the documents were rendered
from (account, lines, schedule, clauses), so a later change to the deal or the library never
changes what a version says. Any edit makes a new version that supersedes the old one.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from contracts.snapshot_types import ContractSnapshot
from contracts.taxonomy import PARAMS
from dealdesk.models import Deal, DealPattern, TimestampedModel
from dealdesk.roles import Role

REVIEW_PERM = "contracts.review_contract"


class ClauseType(TimestampedModel):
    """One taxonomy type (docs/design.md): what legal says about it and how it is worded."""

    code = models.SlugField(
        max_length=40, unique=True, choices=[(code, code) for code in PARAMS], editable=False
    )
    title = models.CharField(max_length=100)
    wording = models.TextField(
        help_text="Standard wording, a Django template over the clause's params, "
        "e.g. 'Customer shall pay each invoice within {{ net_days }} days.'"
    )
    banned = models.BooleanField(
        default=False, help_text="Never accepted without legal removing it."
    )
    needs_legal_review = models.BooleanField(default=False)
    approval_group = models.CharField(
        max_length=20,
        choices=[(role.value, role.value) for role in Role],
        blank=True,
        help_text="The group whose approval the clause pulls in (approval policy).",
    )
    required_by_patterns = models.ManyToManyField(
        DealPattern, blank=True, related_name="required_clause_types"
    )
    default_params = models.JSONField(
        default=dict, blank=True, help_text="Params used when a pattern requires the clause."
    )
    position = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords(m2m_fields=[required_by_patterns])

    class Meta:
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.title


class TemplateState(models.TextChoices):
    PENDING_APPROVAL = "pending_approval", "Pending approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


APPROVE_TEMPLATE_PERM = "contracts.approve_contracttemplate"


class ContractTemplate(ConcurrentTransitionMixin, TimestampedModel):
    """One version of a pattern's documents. Never edited: legal publishes a new version.

    A template is code that runs on the server and says what every contract made with it
    says, so a new version is used only once a second person (Legal's lead or Deal Desk)
    approved it.
    """

    pattern = models.ForeignKey(DealPattern, on_delete=models.PROTECT, related_name="templates")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=150, help_text="The document's heading.")
    # In the database, not in storage: a version must outlive any storage clean-up, since
    # the contracts made with it name it.
    docx = models.BinaryField(help_text="docxtpl template")
    docx_filename = models.CharField(max_length=200)
    html = models.TextField(help_text="Django template rendered to PDF by WeasyPrint")
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    state = FSMField(
        default=TemplateState.PENDING_APPROVAL, choices=TemplateState.choices, protected=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    history = HistoricalRecords(excluded_fields=["docx"])

    class Meta:
        ordering = ["pattern__name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["pattern", "version"], name="template_pattern_version")
        ]
        permissions = [
            (
                "approve_contracttemplate",
                "Can approve or reject a contract template version someone else published",
            )
        ]

    def __str__(self) -> str:
        return f"{self.pattern.name} v{self.version}"

    @transition(state, source=TemplateState.PENDING_APPROVAL, target=TemplateState.APPROVED)
    def approve(self, *, by, note: str) -> None:
        self._decided(by, note)

    @transition(state, source=TemplateState.PENDING_APPROVAL, target=TemplateState.REJECTED)
    def reject(self, *, by, note: str) -> None:
        self._decided(by, note)

    def _decided(self, by, note: str) -> None:
        self.decided_by, self.decided_at, self.decision_note = by, timezone.now(), note


class ContractState(models.TextChoices):
    DRAFT = "draft", "Draft"
    LEGAL_REVIEW = "legal_review", "Legal review"
    APPROVED = "approved", "Approved"
    SUPERSEDED = "superseded", "Superseded"
    VOIDED = "voided", "Voided"
    EXECUTED = "executed", "Executed"


C = ContractState
# A version still open to change: superseded by an edit, voided with its deal.
OPEN_STATES = [C.DRAFT, C.LEGAL_REVIEW, C.APPROVED]
# The deal's live version: an open one, or the one every party signed.
CURRENT_STATES = [*OPEN_STATES, C.EXECUTED]


def _document_path(version: "ContractVersion", filename: str) -> str:
    return f"contracts/deal-{version.deal_id}/{filename}"


class ContractVersion(ConcurrentTransitionMixin, TimestampedModel):
    deal = models.ForeignKey(Deal, on_delete=models.PROTECT, related_name="contract_versions")
    number = models.PositiveIntegerField()
    state = FSMField(default=C.DRAFT, choices=C.choices, protected=True)
    state_reason = models.TextField(blank=True)
    template = models.ForeignKey(ContractTemplate, on_delete=models.PROTECT, related_name="+")
    snapshot = models.JSONField(help_text="Every fact the documents were rendered from.")
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the snapshot")
    docx = models.FileField(upload_to=_document_path, max_length=255)
    docx_sha256 = models.CharField(max_length=64)
    pdf = models.FileField(upload_to=_document_path, max_length=255)
    pdf_sha256 = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    made_by = models.CharField(
        max_length=100, help_text="What made it: pipeline draft, legal edit..."
    )
    extractor = models.CharField(max_length=20, blank=True)
    # Why legal must look (empty: no legal review needed) and what extraction dropped.
    review_reasons = models.JSONField(default=list, blank=True)
    dropped_clauses = models.JSONField(default=list, blank=True)
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["deal_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["deal", "number"], name="contract_deal_number"),
            # One live version a deal: a second drafting run cannot add a twin.
            models.UniqueConstraint(
                fields=["deal"], condition=Q(state__in=CURRENT_STATES), name="contract_one_current"
            ),
        ]
        indexes = [models.Index(fields=["state", "-created_at"], name="contract_state_recent_idx")]
        permissions = [("review_contract", "Can review, edit and approve contract drafts")]

    def __str__(self) -> str:
        return f"{self.deal.name} — contract v{self.number}"

    @property
    def clauses(self) -> list[dict]:
        return self.snapshot.get("clauses", [])

    @cached_property
    def typed_snapshot(self) -> ContractSnapshot:
        """The snapshot as typed values, parsed once per instance (a version never changes
        its snapshot: an edit is a new version)."""
        return ContractSnapshot.from_json(self.snapshot)

    @transition(state, source=C.DRAFT, target=C.LEGAL_REVIEW)
    def submit_for_legal_review(self, *, reason: str = "") -> None:
        self.state_reason = reason

    @transition(state, source=[C.DRAFT, C.LEGAL_REVIEW], target=C.APPROVED, permission=REVIEW_PERM)
    def approve(self, *, reason: str = "") -> None:
        self.state_reason = reason

    @transition(state, source=OPEN_STATES, target=C.SUPERSEDED)
    def supersede(self, *, reason: str = "") -> None:
        self.state_reason = reason

    @transition(state, source=OPEN_STATES, target=C.VOIDED)
    def void(self, *, reason: str = "") -> None:
        self.state_reason = reason

    @property
    def is_signable(self) -> bool:
        """What an approved deal sends for signature: a version Legal approved, or a draft
        that needed no legal review (the deal's approval is its approval)."""
        return self.state == C.APPROVED or (self.state == C.DRAFT and not self.review_reasons)

    # Every party signed this version (contracts/esign): it can no longer change.
    @transition(
        state,
        source=[C.DRAFT, C.APPROVED],
        target=C.EXECUTED,
        conditions=[lambda version: version.is_signable],
    )
    def execute(self, *, reason: str = "") -> None:
        self.state_reason = reason


class ClauseDecision(TimestampedModel):
    """Legal accepted one clause of one version as it stands (edits make new versions)."""

    version = models.ForeignKey(ContractVersion, on_delete=models.PROTECT, related_name="decisions")
    clause_index = models.PositiveSmallIntegerField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["version", "clause_index"]
        constraints = [
            models.UniqueConstraint(fields=["version", "clause_index"], name="clause_decision_once")
        ]

    def __str__(self) -> str:
        return f"{self.version} clause {self.clause_index} accepted"
