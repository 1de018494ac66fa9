"""The process dashboard, the deals behind each of its figures, and its CSV."""

import datetime
import hashlib

from django.conf import settings
from django.contrib.auth.decorators import permission_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from dealdesk.csv_export import csv_download, csv_lines, safe_cell
from dealdesk.forms import first_error
from dealdesk.roles import sees_all_deals
from dealdesk.selectors import deals_in_order
from dealdesk.waiting_on import waiting_on
from insights.figures import AGE_BUCKETS, OPEN_STATES, STAGES, Dashboard, dashboard_figures
from insights.forms import PRESETS, DashboardFilterForm, DashboardFilters
from insights.svg import Series, bar_chart, line_chart
from insights.tables import Table, csv_rows, dashboard_tables

VIEW_PERM = "insights.view_dashboard"
PAGE_SIZE = 50
METRIC_MAX_LENGTH = 200


def _filters(request: HttpRequest) -> DashboardFilterForm:
    # Always bound: no query string means the default period, not "no filters yet".
    return DashboardFilterForm(request.GET)


@permission_required(VIEW_PERM, raise_exception=True)
def dashboard(request: HttpRequest) -> HttpResponse:
    form = _filters(request)
    context = {"form": form, "presets": PRESETS}
    if form.is_valid():
        filters, query = form.filters(), form.query_string()
        figures, at = _figures(request, filters, query, fresh="fresh" in request.GET)
        context |= {
            "period": filters.period,
            "figures": figures,
            "figures_at": at,
            "max_age": settings.INSIGHTS_FIGURES_MAX_AGE,
            "query": query,
        }
    return render(request, "insights/dashboard.html", context)


def _figures(
    request: HttpRequest, filters: DashboardFilters, query: str, *, fresh: bool
) -> tuple[SafeString, datetime.datetime]:
    """The figures' part of the page and when it was worked out. Working them out reads every
    deal's history in the period (a tenth of a second and more on a large book), so a rendering
    is kept for INSIGHTS_FIGURES_MAX_AGE seconds per filter set and audience (everyone who sees
    all deals shares one; Sales each their own): a dashboard open on many screens costs one
    computation a minute, and the page says how old its figures are. `fresh` works them out now."""
    audience = "all" if sees_all_deals(request.user) else f"owner-{request.user.pk}"
    # The query and the days, not the filters' instants: a preset's period ends now.
    period = f"{filters.period.first_day}|{filters.period.last_day}"
    key = "insights:figures:" + hashlib.sha256(f"{audience}|{query}|{period}".encode()).hexdigest()
    max_age = settings.INSIGHTS_FIGURES_MAX_AGE
    if max_age and not fresh and (kept := cache.get(key)) is not None:
        return SafeString(kept[0]), datetime.datetime.fromisoformat(kept[1])
    board = dashboard_figures(user=request.user, filters=filters)
    tables = dashboard_tables(board)
    figures = render_to_string(
        "insights/_figures.html",
        {"tables": tables, "charts": _charts(board, {t.key: t for t in tables}), "query": query},
        request=request,
    )
    at = timezone.now()
    if max_age:
        cache.set(key, [str(figures), at.isoformat()], max_age)  # JSON: dealdesk/ops/cache.py
    return SafeString(figures), at


def _charts(
    board: Dashboard, tables: dict[str, Table]
) -> list[tuple[str, SafeString, Table | None]]:
    """(title, chart, the table that says the same in text) triples; None: the chart draws a
    column of a table the page shows anyway."""
    weeks = board.filters.period.weeks()
    trend_title = "Median cycle time per stage, per week"
    trend = line_chart(
        chart_id="cycle-trend",
        title=trend_title,
        desc=(
            f"Median days each stage took, by the week it ended, {weeks[0]:%d %b} to "
            f"{weeks[-1]:%d %b %Y}; weeks without a completed stage are gaps. "
            "The table below gives every figure."
        ),
        labels=[f"{week:%d %b}" for week in weeks],
        series=[
            Series(stage.label, [board.stage_spread(stage.key, week).median for week in weeks])
            for stage in STAGES
        ],
        unit="days",
    )
    waiting = [
        sum(board.aging.get((state, b), 0) for b in range(len(AGE_BUCKETS)))
        for state in OPEN_STATES
    ]
    bars_title = "Deals waiting per state at the end of the period"
    bars = bar_chart(
        chart_id="waiting",
        title=bars_title,
        desc=", ".join(
            f"{row[0].text}: {count}"
            for row, count in zip(tables["aging"].rows, waiting, strict=True)
        ),
        labels=[row[0].text for row in tables["aging"].rows],
        values=waiting,
        unit="deals",
    )
    return [(trend_title, trend, tables["weekly"]), (bars_title, bars, None)]


@permission_required(VIEW_PERM, raise_exception=True)
def dashboard_deals(request: HttpRequest) -> HttpResponse:
    """The deals behind one figure: the figure's own code names them (Dashboard.deal_ids)."""
    form = _filters(request)
    if not form.is_valid():
        return HttpResponseBadRequest(
            f"No deals shown: {first_error(form)}", content_type="text/plain; charset=utf-8"
        )
    metric = request.GET.get("metric", "")[:METRIC_MAX_LENGTH]
    board = dashboard_figures(user=request.user, filters=form.filters())
    ids = board.deal_ids(metric)
    if ids is None:
        raise Http404("no such figure on the dashboard")
    page = Paginator(ids, PAGE_SIZE).get_page(request.GET.get("page"))
    deals = deals_in_order(ids=list(page))
    query = form.query_string()
    page_query = QueryDict(query, mutable=True)
    page_query["metric"] = metric
    return render(
        request,
        "insights/deals.html",
        {
            "figure": _describe(dashboard_tables(board), metric),
            "count": len(ids),
            "page": page,
            "deals": deals,
            "waiting_on": waiting_on(deals),
            "query": query,
            "page_query": page_query.urlencode(),
            "filters": board.filters,
        },
    )


def _describe(tables: list[Table], metric: str) -> str:
    """The figure in words, as the dashboard heads it: "Deals by state…: In review, 3–7 days"."""
    for table in tables:
        for row in table.rows:
            for column, cell in zip(table.columns, row, strict=True):
                if cell.metric == metric and cell is row[0]:
                    return table.title  # a table of one row: its title says it
                if cell.metric == metric:
                    return f"{table.title}: {row[0].text}, {column}"
    return "Deals"


@permission_required(VIEW_PERM, raise_exception=True)
def dashboard_export(request: HttpRequest) -> HttpResponse:
    """What the dashboard shows for these filters, table by table, as one CSV."""
    form = _filters(request)
    if not form.is_valid():
        return HttpResponseBadRequest(
            f"Nothing exported: {first_error(form)}", content_type="text/plain; charset=utf-8"
        )
    filters = form.filters()
    board = dashboard_figures(user=request.user, filters=filters)
    heading = [
        "Dealdesk process dashboard",
        f"{filters.period.first_day.isoformat()} to {filters.period.last_day.isoformat()}",
        f"segment: {filters.segment_label or 'any'}",
        f"pattern: {filters.pattern or 'any'}",
        f"owner: {filters.owner or 'any'}",
    ]
    rows = ([safe_cell(text) for text in row] for row in csv_rows(dashboard_tables(board)))
    name = f"dashboard-{filters.period.first_day}-{filters.period.last_day}.csv"
    return csv_download(csv_lines([safe_cell(h) for h in heading], rows), name)
