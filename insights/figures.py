"""The dashboard's figures for one set of filters, each with the deals behind it.

Counts and sums per state are grouped in the database (insights.history annotates each deal
with its state at the period's end). Medians and 90th percentiles are taken in Python over
the period's stage changes, a set the period bounds (at most a year, forms.MAX_PERIOD_DAYS):
SQLite has no percentile function, and one way of computing them keeps both databases alike.

Every figure names its deals by a metric key (`Dashboard.deal_ids`): the click-through list
and the tests ask the same code that counted them.
"""

import datetime
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from approvals.models import ApprovalRequest, PolicyExchangeRate, RequestState
from approvals.policy import POLICY_CURRENCY
from billing.models import BillingRecord
from dealdesk.models import Deal, DealState
from dealdesk.segments import segment_q
from dealdesk.selectors import visible_deals
from insights.forms import DashboardFilters, week_of
from insights.history import (
    CANCELLED,
    FINAL_STATES,
    MILESTONES,
    deals_as_of,
    deals_in_cycle,
    milestone_times,
)

# Time in the current state: (first day, last day or None, label).
AGE_BUCKETS = [
    (0, 2, "0–2 days"),
    (3, 7, "3–7 days"),
    (8, 14, "8–14 days"),
    (15, 30, "15–30 days"),
    (31, None, "over 30 days"),
]
# The states a deal waits in, in the flow's order (paid and cancelled wait for nobody).
OPEN_STATES = [state for state in DealState if state not in FINAL_STATES]
STAGES = MILESTONES[1:]  # a stage is named by the milestone that ends it
DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Linear interpolation between the closest ranks (PostgreSQL's percentile_cont)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def stage_sla_days() -> dict[str, int]:
    return dict(settings.INSIGHTS_STAGE_SLA_DAYS)


@dataclass(frozen=True)
class Spread:
    """How long something took, over `count` cases."""

    count: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> "Spread":
        return cls(len(values), percentile(values, 50), percentile(values, 90))


@dataclass(frozen=True)
class StageDone:
    deal_id: int
    week: datetime.date
    days: float


@dataclass
class Dashboard:
    filters: DashboardFilters
    aging: dict[tuple[str, int], int]  # (state, bucket) → deals
    # state → currency → (deals, total value, deals not priced yet)
    waiting_value: dict[str, dict[str, tuple[int, Decimal, int]]]
    usd_per_unit: dict[str, Decimal]
    stages_done: dict[str, list[StageDone]]  # stage → completions inside the period
    overdue: dict[str, list[int]]  # stage → deals whose open stage is past its SLA at the end
    sla_days: dict[str, int]
    days_to_first_payment: list[tuple[int, int]]  # (deal, days), first paid in the period
    approvals: dict[str, list[tuple[int, float, bool]]]  # group → (deal, hours, rejected)
    _snapshot: QuerySet[Deal] = field(repr=False, default=None)

    # --- what the tables show ------------------------------------------------------------

    def stage_spread(self, stage: str, week: datetime.date | None = None) -> Spread:
        return Spread.of(
            [d.days for d in self.stages_done[stage] if week is None or d.week == week]
        )

    def late(self, stage: str) -> list[StageDone]:
        return [d for d in self.stages_done[stage] if d.days > self.sla_days[stage]]

    def approval_spread(self, group: str) -> Spread:
        return Spread.of([hours for _, hours, _ in self.approvals[group]])

    def converted(self, currency: str, amount: Decimal) -> Decimal | None:
        """`amount` in the policy currency at Finance's policy rate (None: no rate set)."""
        rate = Decimal(1) if currency == POLICY_CURRENCY else self.usd_per_unit.get(currency)
        return None if rate is None else amount * rate

    # --- the deals behind a figure ---------------------------------------------------------

    def deal_ids(self, metric: str) -> list[int] | None:
        """The deals a figure counts, by its metric key (None: no such figure)."""
        kind, _, rest = metric.partition(":")
        parts = rest.split(":") if rest else []
        if kind == "age" and parts and parts[0] in OPEN_STATES:
            deals = self._snapshot.filter(state_then=parts[0])
            if len(parts) == 2 and parts[1].isdigit() and int(parts[1]) < len(AGE_BUCKETS):
                deals = deals.filter(bucket=int(parts[1]))
            elif len(parts) != 1:
                return None
            return sorted(deals.values_list("pk", flat=True))
        if kind == "value" and len(parts) == 2 and parts[0] in OPEN_STATES:
            deals = self._snapshot.filter(state_then=parts[0], currency=parts[1])
            return sorted(deals.values_list("pk", flat=True))
        stages = {s.key for s in STAGES}
        if kind == "stage" and parts and parts[0] in stages:
            done = self.stages_done[parts[0]]
            if len(parts) == 2:
                try:
                    week = datetime.date.fromisoformat(parts[1])
                except ValueError:
                    return None
                done = [d for d in done if d.week == week]
            return sorted({d.deal_id for d in done})
        if kind == "late" and len(parts) == 1 and parts[0] in stages:
            return sorted({d.deal_id for d in self.late(parts[0])})
        if kind == "overdue" and len(parts) == 1 and parts[0] in stages:
            return sorted(self.overdue[parts[0]])
        if kind == "paid" and not parts:
            return sorted({deal for deal, _ in self.days_to_first_payment})
        if kind == "approvals" and rest in self.approvals:
            return sorted({deal for deal, _, _ in self.approvals[rest]})
        return None


def filtered_deals(*, user: AbstractBaseUser, filters: DashboardFilters) -> QuerySet[Deal]:
    deals = visible_deals(user=user)
    if filters.segment:
        deals = deals.filter(segment_q(filters.segment))
    if filters.pattern:
        deals = deals.filter(pattern__code=filters.pattern)
    if filters.owner:
        deals = deals.filter(owner__username=filters.owner)
    return deals


def dashboard_figures(*, user: AbstractBaseUser, filters: DashboardFilters) -> Dashboard:
    deals = filtered_deals(user=user, filters=filters)
    period = filters.period
    snapshot = _with_bucket(
        deals_as_of(deals, period.end).filter(state_then__in=OPEN_STATES), period.end
    )
    # One grouped query serves both tables (a few dozen rows: states × buckets × currencies):
    # the state and entry time subqueries run once per deal, not once per table.
    aging: dict[tuple[str, int], int] = defaultdict(int)
    waiting: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for row in (
        snapshot.values("state_then", "bucket", "currency")
        .annotate(
            n=Count("pk"),
            total=Sum("tcv"),
            unpriced=Count("pk", filter=Q(tcv__isnull=True)),
        )
        .order_by()
    ):
        aging[row["state_then"], row["bucket"]] += row["n"]
        sums = waiting[row["state_then"]][row["currency"]]
        sums[0] += row["n"]
        sums[1] += row["total"] or Decimal(0)
        sums[2] += row["unpriced"]
    waiting_value = {
        state: {currency: tuple(sums) for currency, sums in by_currency.items()}
        for state, by_currency in waiting.items()
    }
    sla = stage_sla_days()
    stages_done, overdue = _stages(
        milestone_times(
            deals_in_cycle(deals, start=period.start, end=period.end), before=period.end
        ),
        filters,
        sla,
    )
    return Dashboard(
        filters=filters,
        aging=dict(aging),
        waiting_value=waiting_value,
        usd_per_unit=dict(PolicyExchangeRate.objects.values_list("currency", "usd_per_unit")),
        stages_done=stages_done,
        overdue=overdue,
        sla_days=sla,
        days_to_first_payment=_first_payments(deals, filters),
        approvals=_approvals(deals, filters),
        _snapshot=snapshot,
    )


def _with_bucket(deals: QuerySet[Deal], moment: datetime.datetime) -> QuerySet[Deal]:
    """Annotate the age bucket of each deal's time in its state, in the database."""
    return deals.annotate(
        bucket=Case(
            *(
                When(entered_at__gt=moment - (last + 1) * DAY, then=Value(index))
                for index, (_, last, _) in enumerate(AGE_BUCKETS)
                if last is not None
            ),
            default=Value(len(AGE_BUCKETS) - 1),
            output_field=IntegerField(),
        )
    )


def _stages(
    times: dict[int, dict[str, datetime.datetime]], filters: DashboardFilters, sla: dict[str, int]
) -> tuple[dict[str, list[StageDone]], dict[str, list[int]]]:
    """Each stage's completions inside the period (in the week they ended), and the deals
    whose open stage has been open longer than its SLA at the period's end."""
    period = filters.period
    done: dict[str, list[StageDone]] = {stage.key: [] for stage in STAGES}
    overdue: dict[str, list[int]] = {stage.key: [] for stage in STAGES}
    for deal_id, reached in sorted(times.items()):
        for previous, stage in zip(MILESTONES, STAGES, strict=False):
            began, ended = reached.get(previous.key), reached.get(stage.key)
            if began is None:
                break  # not there yet (or from before the audit log): no stage to time
            if ended is None:
                # The open stage: overdue once it has taken longer than its SLA.
                if CANCELLED not in reached and period.end - began > sla[stage.key] * DAY:
                    overdue[stage.key].append(deal_id)
                break
            if period.start <= ended < period.end:
                done[stage.key].append(
                    StageDone(deal_id, week_of(timezone.localdate(ended)), (ended - began) / DAY)
                )
    return done, overdue


def _approvals(
    deals: QuerySet[Deal], filters: DashboardFilters
) -> dict[str, list[tuple[int, float, bool]]]:
    """Requests decided in the period, per approver group: (deal, hours taken, rejected)."""
    decided: dict[str, list[tuple[int, float, bool]]] = defaultdict(list)
    rows = (
        ApprovalRequest.objects.filter(
            deal__in=deals,
            decided_at__gte=filters.period.start,
            decided_at__lt=filters.period.end,
        )
        .order_by("group__name", "decided_at", "pk")
        .values_list("group__name", "deal_id", "created_at", "decided_at", "state")
    )
    for group, deal_id, created_at, decided_at, state in rows:
        decided[group].append(
            (deal_id, (decided_at - created_at) / HOUR, state == RequestState.REJECTED)
        )
    return dict(decided)


def _first_payments(deals: QuerySet[Deal], filters: DashboardFilters) -> list[tuple[int, int]]:
    """(deal, days from signature to first payment) for deals first paid in the period. A
    deal billed again from a new contract version has a second record: its first counts."""
    rows = (
        BillingRecord.objects.filter(
            deal__in=deals,
            first_paid_on__gte=filters.period.first_day,
            first_paid_on__lte=filters.period.last_day,
        )
        .order_by("deal_id", "first_paid_on", "pk")
        .values_list("deal_id", "days_to_first_payment")
    )
    return sorted(dict(reversed(list(rows))).items())
