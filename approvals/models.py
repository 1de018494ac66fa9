"""Approvals: the policy Finance edits, gate runs per contract version, approval requests.

A request is bound to the content hash of the contract version it approves and freezes the
rules and reasons that opened it, so neither a later policy change nor a new version can
alter what someone decided: a new version supersedes the old requests instead.
"""

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from approvals.policy import Rule
from contracts.models import ClauseType, ContractVersion
from dealdesk.models import Deal, DealPattern, TimestampedModel


class PolicyExchangeRate(TimestampedModel):
    """Finance's rate for comparing a TCV in `currency` with the policy's USD thresholds."""

    currency = models.CharField(max_length=3, unique=True)
    usd_per_unit = models.DecimalField(max_digits=12, decimal_places=6)

    history = HistoricalRecords()

    class Meta:
        ordering = ["currency"]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.usd_per_unit} USD"


class ApprovalRule(TimestampedModel):
    """One row of the approval matrix; `as_rule()` hands it to approvals.policy."""

    name = models.CharField(max_length=120, unique=True)
    step = models.PositiveSmallIntegerField(default=1)
    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="+")
    active = models.BooleanField(default=True)
    # Conditions: each one set must hold for the rule to fire (none set: every deal).
    discount_pct_above = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    tcv_above = models.DecimalField(
        "TCV above (USD)", max_digits=16, decimal_places=2, null=True, blank=True
    )
    term_months_above = models.PositiveSmallIntegerField(null=True, blank=True)
    payment_net_days_above = models.PositiveSmallIntegerField(null=True, blank=True)
    patterns = models.ManyToManyField(DealPattern, blank=True, related_name="+")
    clause_types = models.ManyToManyField(ClauseType, blank=True, related_name="+")
    any_banned_clause = models.BooleanField(default=False)
    any_review_clause = models.BooleanField(
        default=False, help_text="A clause type that needs legal review is in the contract."
    )
    below_floor = models.BooleanField(default=False, help_text="A line is below its floor price.")

    history = HistoricalRecords(m2m_fields=[patterns, clause_types])

    class Meta:
        ordering = ["step", "name"]

    def __str__(self) -> str:
        return self.name

    def as_rule(self, *, patterns: frozenset[str], clause_types: frozenset[str]) -> Rule:
        """Needs `group` loaded; the codes of its patterns and clause types are given (see
        selectors.active_rules, which reads them for every rule in one query each)."""
        return Rule(
            id=self.pk,
            name=self.name,
            step=self.step,
            group=self.group.name,
            discount_pct_above=self.discount_pct_above,
            tcv_above=self.tcv_above,
            term_months_above=self.term_months_above,
            payment_net_days_above=self.payment_net_days_above,
            patterns=patterns,
            clause_types=clause_types,
            any_banned_clause=self.any_banned_clause,
            any_review_clause=self.any_review_clause,
            below_floor=self.below_floor,
        )


class GateRun(TimestampedModel):
    """The gates and the policy as evaluated for one contract version (its content hash)."""

    contract_version = models.ForeignKey(
        ContractVersion, on_delete=models.PROTECT, related_name="gate_runs"
    )
    content_hash = models.CharField(max_length=64)
    passed = models.BooleanField()
    # [{"gate", "passed", "reasons"}] and [{"step", "group", "rules", "reasons"}]
    gates = models.JSONField()
    required = models.JSONField()

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract_version", "content_hash"], name="gate_run_once_per_content"
            )
        ]

    def __str__(self) -> str:
        return f"gates for {self.contract_version}: {'passed' if self.passed else 'failed'}"


class RequestState(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    SUPERSEDED = "superseded", "Superseded"


R = RequestState
DECIDE_PERM = "approvals.decide_approvalrequest"


class ApprovalRequest(ConcurrentTransitionMixin, TimestampedModel):
    deal = models.ForeignKey(Deal, on_delete=models.PROTECT, related_name="approval_requests")
    contract_version = models.ForeignKey(
        ContractVersion, on_delete=models.PROTECT, related_name="approval_requests"
    )
    content_hash = models.CharField(max_length=64, help_text="What exactly is being approved.")
    step = models.PositiveSmallIntegerField()
    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="+")
    # Frozen at creation: a later policy change never rewrites why this was asked.
    rule_names = models.JSONField(default=list)
    reasons = models.JSONField(default=list)
    state = FSMField(default=R.PENDING, choices=R.choices, protected=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)
    # Set when a delegate decided: the group member they stood in for.
    delegate_for = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            # My approvals reads only open requests, per group, oldest first with pk as the
            # tie-break: a partial index in exactly that order serves the page, the count
            # and a deep OFFSET from the index alone, and stays small as decisions pile up.
            models.Index(
                fields=["group", "created_at", "id"],
                condition=Q(state=R.PENDING),
                name="approval_queue_open_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["contract_version", "content_hash", "step", "group"],
                condition=~Q(state=R.SUPERSEDED),
                name="approval_request_once",
            )
        ]
        permissions = [("decide_approvalrequest", "Can decide approval requests of own groups")]

    def __str__(self) -> str:
        return f"{self.group.name} step {self.step} for {self.deal.name}"

    def _decided(self, by, at, reason: str, delegate_for) -> None:
        self.decided_by, self.decided_at, self.reason = by, at, reason
        self.delegate_for = delegate_for

    @transition(state, source=R.PENDING, target=R.APPROVED)
    def approve(self, *, by, at, reason: str = "", delegate_for=None) -> None:
        self._decided(by, at, reason, delegate_for)

    @transition(state, source=R.PENDING, target=R.REJECTED)
    def reject(self, *, by, at, reason: str, delegate_for=None) -> None:
        self._decided(by, at, reason, delegate_for)

    @transition(state, source=[R.PENDING, R.APPROVED], target=R.SUPERSEDED)
    def supersede(self, *, reason: str) -> None:
        self.reason = reason


class DelegationQuerySet(models.QuerySet):
    def in_force(self, delegate) -> "DelegationQuerySet":
        """`delegate`'s delegations running now from delegators still in the group: the only
        ones that hand on a group's authority (deciding and the queue both ask this)."""
        now = timezone.now()
        return self.filter(
            delegate=delegate,
            starts_at__lte=now,
            ends_at__gt=now,
            revoked_at=None,
            delegator__groups=models.F("group"),
        )

    def not_over(self) -> "DelegationQuerySet":
        """Running or still to come, and not revoked: what the approvals page lists."""
        return self.filter(ends_at__gt=timezone.now(), revoked_at=None)


class ApprovalDelegation(TimestampedModel):
    """A group member away: `delegate` decides the group's requests in their place, for a time."""

    delegator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approval_delegations"
    )
    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    # Who handed the authority on: the delegator, or a superuser on their behalf (then the
    # reason says why). Empty only on delegations made before it was recorded.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = DelegationQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="delegation_time_boxed"
            ),
            models.CheckConstraint(
                condition=~Q(delegate=models.F("delegator")), name="delegation_to_someone_else"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.delegate} for {self.delegator} ({self.group.name})"

    def clean(self) -> None:
        # Only a member can hand on the group's authority (the decision checks it again).
        if (
            self.delegator_id
            and self.group_id
            and not self.delegator.groups.filter(pk=self.group_id).exists()
        ):
            raise ValidationError(
                {"delegator": f"{self.delegator} is not in {self.group.name}: nothing to delegate"}
            )
