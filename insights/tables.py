"""The dashboard's figures as tables of text: what the page shows, the charts' table fallback
and the CSV export are these same cells, so the download is exactly what was on screen."""

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from approvals.policy import POLICY_CURRENCY
from dealdesk.models import DealState
from dealdesk.pricing import PricingError, minor_unit
from insights.figures import AGE_BUCKETS, OPEN_STATES, STAGES, Dashboard, Spread


@dataclass(frozen=True)
class Cell:
    text: str
    metric: str = ""  # the figure's key: the text links to the deals behind it
    number: bool = False  # right-aligned


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    note: str
    columns: list[str]
    rows: list[list[Cell]]


def _count(value: int, metric: str) -> Cell:
    # A zero links nowhere: there are no deals behind it.
    return Cell(f"{value:,}", metric if value else "", number=True)


def _days(value: float | None) -> Cell:
    return Cell("—" if value is None else f"{value:.1f}", number=True)


def _money(amount: Decimal | None, currency: str) -> str:
    if amount is None:
        return "—"
    try:
        places = minor_unit(currency)
    except PricingError:
        places = 2
    return f"{amount:,.{places}f} {currency}"


def _state(state: str) -> Cell:
    return Cell(DealState(state).label)


def _spread_cells(spread: Spread, metric: str) -> list[Cell]:
    return [_count(spread.count, metric), _days(spread.median), _days(spread.p90)]


def dashboard_tables(board: Dashboard) -> list[Table]:
    return [
        _aging(board),
        _cycle(board),
        _weekly(board),
        _first_payment(board),
        _approvals(board),
        _value(board),
        _sla(board),
    ]


def _aging(board: Dashboard) -> Table:
    rows = []
    for state in OPEN_STATES:
        counts = [board.aging.get((state, bucket), 0) for bucket in range(len(AGE_BUCKETS))]
        rows.append(
            [
                _state(state),
                *(_count(n, f"age:{state}:{b}") for b, n in enumerate(counts)),
                _count(sum(counts), f"age:{state}"),
            ]
        )
    return Table(
        "aging",
        "Deals by state and time in it",
        f"Each deal's state at the end of the period ({board.filters.period.last_day:%d %b %Y}), "
        "and how long it had been in it then, from the audit event that moved it there.",
        ["State", *(label for _, _, label in AGE_BUCKETS), "Total"],
        rows,
    )


def _cycle(board: Dashboard) -> Table:
    rows = []
    for stage, previous in zip(STAGES, [None, *STAGES], strict=False):
        spread = board.stage_spread(stage.key)
        start = previous.label if previous else "Closed-Won"
        rows.append(
            [Cell(f"{start} → {stage.label.lower()}"), *_spread_cells(spread, f"stage:{stage.key}")]
        )
    return Table(
        "cycle",
        "Cycle time per stage",
        "Stages completed in the period, in days, from the first time a deal reached one "
        "milestone to the first time it reached the next (rework counts in the stage it held up).",
        ["Stage", "Completed", "Median days", "p90 days"],
        rows,
    )


def _weekly(board: Dashboard) -> Table:
    rows = []
    for week in board.filters.period.weeks():
        for stage in STAGES:
            spread = board.stage_spread(stage.key, week)
            if spread.count:
                rows.append(
                    [
                        Cell(week.isoformat()),
                        Cell(stage.label),
                        *_spread_cells(spread, f"stage:{stage.key}:{week.isoformat()}"),
                    ]
                )
    return Table(
        "weekly",
        "Cycle time per week",
        "Per week (starting Monday) in which a stage ended: median and 90th percentile in days.",
        ["Week of", "Stage ended", "Completed", "Median days", "p90 days"],
        rows,
    )


def _first_payment(board: Dashboard) -> Table:
    days = [d for _, d in board.days_to_first_payment]
    spread = Spread.of(days)
    mean = sum(days) / len(days) if days else None
    return Table(
        "first-payment",
        "Days from signature to first payment",
        "Deals whose first invoice was paid in full in the period (billing record's first "
        "paid day minus the signature day).",
        ["Deals", "Median days", "p90 days", "Mean days"],
        [[*_spread_cells(spread, "paid"), _days(mean)]],
    )


def _approvals(board: Dashboard) -> Table:
    rows = []
    for group in sorted(board.approvals):
        decided = board.approvals[group]
        spread = board.approval_spread(group)
        rows.append(
            [
                Cell(group),
                Cell(f"{spread.count:,}", number=True),
                _count(len({deal for deal, _, _ in decided}), f"approvals:{group}"),
                _days(spread.median),
                _days(spread.p90),
                Cell(f"{sum(1 for *_, rejected in decided if rejected):,}", number=True),
            ]
        )
    return Table(
        "approvals",
        "Approval turnaround per group",
        "Requests decided in the period, in hours from the request to the decision; a deal "
        "may have several (a new contract version is approved again).",
        ["Approver group", "Decided", "Deals", "Median hours", "p90 hours", "Refused"],
        rows,
    )


def _value(board: Dashboard) -> Table:
    rows = []
    totals: dict[str, Decimal] = {}
    for state in OPEN_STATES:
        for currency, (count, total, unpriced) in sorted(
            board.waiting_value.get(state, {}).items()
        ):
            totals[currency] = totals.get(currency, Decimal(0)) + total
            rows.append(
                [
                    _state(state),
                    Cell(currency),
                    _count(count, f"value:{state}:{currency}"),
                    Cell(_money(total, currency), number=True),
                    Cell(_money(board.converted(currency, total), POLICY_CURRENCY), number=True),
                    Cell(f"{unpriced:,}", number=True),
                ]
            )
    missing = sorted(c for c in totals if board.converted(c, Decimal(0)) is None)
    converted = sum(
        (board.converted(c, amount) for c, amount in totals.items() if c not in missing),
        Decimal(0),
    )
    note = (
        "Each currency summed on its own; the "
        f"{POLICY_CURRENCY} column converts at Finance's policy exchange rates (approvals), "
        "today's rates, for comparison only."
    )
    if missing:
        note += f" No policy rate for {', '.join(missing)}: left out of the converted total."
    if rows:
        rows.append(
            [
                Cell("All waiting deals"),
                Cell(f"≈ {POLICY_CURRENCY}"),
                Cell(""),
                Cell(""),
                Cell(_money(converted, POLICY_CURRENCY), number=True),
                Cell(""),
            ]
        )
    return Table(
        "value",
        "Value waiting per state",
        note,
        ["State", "Currency", "Deals", "Value (TCV)", f"≈ {POLICY_CURRENCY}", "Not priced yet"],
        rows,
    )


def _sla(board: Dashboard) -> Table:
    rows = [
        [
            Cell(stage.label),
            Cell(f"{board.sla_days[stage.key]:,}", number=True),
            _count(len(board.late(stage.key)), f"late:{stage.key}"),
            _count(len(board.overdue[stage.key]), f"overdue:{stage.key}"),
        ]
        for stage in STAGES
    ]
    return Table(
        "sla",
        "SLA breaches per stage",
        "Stages that ended in the period after more days than their SLA "
        "(INSIGHTS_STAGE_SLA_DAYS), and deals whose current stage was already past it at the "
        "end of the period.",
        ["Stage ending at", "SLA days", "Ended late", "Overdue at period end"],
        rows,
    )


def csv_rows(tables: list[Table]) -> Iterator[list[str]]:
    """Every table under its title and header, a blank line between them."""
    for number, table in enumerate(tables):
        if number:
            yield []
        yield [table.title]
        yield table.columns
        for row in table.rows:
            yield [cell.text for cell in row]
