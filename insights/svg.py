"""Charts drawn on the server as SVG: no JavaScript library, nothing from a CDN.

Every chart is an `<svg role="img">` named by its `<title>` and described by its `<desc>`;
the page puts the same figures in a table beside it, which is what a screen reader and the
CSV read. Values are plain numbers (days, counts), never money. Text is escaped.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

# Okabe–Ito: told apart with the common colour-vision deficiencies; dashes tell them apart
# in grey print too.
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
DASHES = ["", "6 3", "2 3", "8 3 2 3", "1 2", "10 4", "4 4"]
TICKS = 4
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 44, 24, 24, 36
LEGEND_ROW = 18


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # one per label; None: nothing measured there (a gap)


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^k at or above `value` (1 for nothing to show), so
    the axis ends on a round number."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value * (1 - 1e-9):
            return float(candidate)
    return float(10 ** (exponent + 1))  # pragma: no cover - the loop ends at 10 × 10^k


def _number(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


@dataclass(frozen=True)
class _Frame:
    width: int
    height: int  # of the plot area's bottom edge from the top
    top: float  # the y axis's highest value

    def x(self, index: int, count: int) -> float:
        inner = self.width - MARGIN_LEFT - MARGIN_RIGHT
        if count == 1:
            return MARGIN_LEFT + inner / 2
        return MARGIN_LEFT + inner * index / (count - 1)

    def y(self, value: float) -> float:
        inner = self.height - MARGIN_TOP
        return self.height - inner * value / self.top


def _axes(frame: _Frame, labels: Sequence[str], unit: str) -> str:
    parts = []
    for tick in range(TICKS + 1):
        value = frame.top * tick / TICKS
        y = frame.y(value)
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#dee2e6"/>'
                '<text x="{}" y="{}" text-anchor="end" font-size="11" fill="#495057">{}</text>',
                MARGIN_LEFT,
                frame.width - MARGIN_RIGHT,
                f"{y:.1f}",
                f"{y:.1f}",
                MARGIN_LEFT - 4,
                f"{y + 4:.1f}",
                _number(value),
            )
        )
    parts.append(
        format_html(
            '<text x="4" y="{}" font-size="11" fill="#495057">{}</text>', MARGIN_TOP - 12, unit
        )
    )
    # At most ~12 labels under the axis, so they never overlap; the table has them all.
    every = max(1, math.ceil(len(labels) / 12))
    for index, label in enumerate(labels):
        if index % every:
            continue
        x = frame.x(index, len(labels))
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" font-size="11" fill="#495057">{}</text>',
                f"{x:.1f}",
                frame.height + 16,
                label,
            )
        )
    return "".join(parts)


def _svg(chart_id: str, title: str, desc: str, width: int, height: int, body: str) -> SafeString:
    return format_html(
        # A phone scrolls a chart sideways rather than shrink its text past reading.
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        'viewBox="0 0 {} {}" width="100%" style="min-width: 440px" '
        'aria-labelledby="{}-title {}-desc" '
        'data-testid="chart-{}"><title id="{}-title">{}</title><desc id="{}-desc">{}</desc>'
        "{}</svg>",
        width,
        height,
        chart_id,
        chart_id,
        chart_id,
        chart_id,
        title,
        chart_id,
        desc,
        mark_safe(body),  # noqa: S308 - built from format_html parts above, each escaped
    )


def line_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[Series],
    unit: str,
    width: int = 560,
    height: int = 240,
) -> SafeString:
    """One line per series over `labels` (weeks), broken where a value is None; each point
    carries its figure as a tooltip. The legend is drawn under the axis."""
    measured = [v for s in series for v in s.values if v is not None]
    plot_bottom = height - MARGIN_BOTTOM
    legend_rows = len(series)
    frame = _Frame(width, plot_bottom, nice_ceiling(max(measured, default=0)))
    parts = [_axes(frame, labels, unit)]
    for number, line in enumerate(series):
        colour, dash = COLOURS[number % len(COLOURS)], DASHES[number % len(DASHES)]
        for run in _runs(line.values):
            points = " ".join(f"{frame.x(i, len(labels)):.1f},{frame.y(v):.1f}" for i, v in run)
            parts.append(
                format_html(
                    '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"'
                    ' stroke-dasharray="{}" data-series="{}"/>',
                    points,
                    colour,
                    dash or "none",
                    line.name,
                )
            )
        parts.append(
            format_html_join(
                "",
                '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{}, {}: {} {}</title></circle>',
                (
                    (
                        f"{frame.x(i, len(labels)):.1f}",
                        f"{frame.y(v):.1f}",
                        colour,
                        line.name,
                        labels[i],
                        _number(v),
                        unit,
                    )
                    for i, v in enumerate(line.values)
                    if v is not None
                ),
            )
        )
        y = height + number * LEGEND_ROW
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-width="2"'
                ' stroke-dasharray="{}"/><text x="{}" y="{}" font-size="12">{}</text>',
                MARGIN_LEFT,
                MARGIN_LEFT + 24,
                y - 4,
                y - 4,
                colour,
                dash or "none",
                MARGIN_LEFT + 30,
                y,
                line.name,
            )
        )
    return _svg(chart_id, title, desc, width, height + legend_rows * LEGEND_ROW, "".join(parts))


def _runs(values: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    """The stretches of consecutive measured values: a line never bridges a week with none."""
    runs: list[list[tuple[int, float]]] = [[]]
    for index, value in enumerate(values):
        if value is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((index, value))
    return [run for run in runs if run]


BAR_LABEL_WIDTH, BAR_HEIGHT, BAR_GAP = 140, 16, 8


def bar_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    values: Sequence[float],
    unit: str,
    width: int = 560,
) -> SafeString:
    """Horizontal bars, one per label (long state names need room), each with its figure."""
    top = nice_ceiling(max(values, default=0))
    inner = width - BAR_LABEL_WIDTH - MARGIN_RIGHT - 40  # room for the figure after a bar
    parts = []
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = MARGIN_TOP + index * (BAR_HEIGHT + BAR_GAP)
        length = inner * value / top
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" font-size="12">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {} {}</title>'
                '</rect><text x="{}" y="{}" font-size="12">{}</text>',
                BAR_LABEL_WIDTH - 6,
                y + BAR_HEIGHT - 4,
                label,
                BAR_LABEL_WIDTH,
                y,
                f"{length:.1f}",
                BAR_HEIGHT,
                COLOURS[0],
                label,
                _number(value),
                unit,
                f"{BAR_LABEL_WIDTH + length + 4:.1f}",
                y + BAR_HEIGHT - 4,
                _number(value),
            )
        )
    height = MARGIN_TOP * 2 + len(values) * (BAR_HEIGHT + BAR_GAP)
    return _svg(chart_id, title, desc, width, height, "".join(parts))
