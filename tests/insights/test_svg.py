"""The server-drawn charts: well-formed SVG, named and described, points where the values
say, gaps where nothing was measured, and text escaped."""

import xml.etree.ElementTree as ET

import pytest

from insights.svg import (
    MARGIN_LEFT,
    MARGIN_RIGHT,
    MARGIN_TOP,
    Series,
    bar_chart,
    line_chart,
    nice_ceiling,
)

NS = {"s": "http://www.w3.org/2000/svg"}


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output, parsed to check it


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [
        (0, 1),
        (-3, 1),
        (0.7, 1),
        (1, 1),
        (1.2, 2),
        (2.1, 2.5),
        (3, 5),
        (7, 10),
        (11, 20),
        (240, 250),
    ],
)
def test_the_axis_ends_on_a_round_number(value, ceiling):
    assert nice_ceiling(value) == ceiling


def test_a_line_chart_is_named_described_and_its_points_sit_on_the_values():
    svg = line_chart(
        chart_id="trend",
        title="Median days",
        desc="Two weeks",
        labels=["W1", "W2", "W3"],
        series=[Series("Drafted", [0, 5, 10])],
        unit="days",
        width=300,
        height=136,
    )
    root = parsed(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "trend-title trend-desc"
    assert root.find("s:title", NS).text == "Median days"
    assert root.find("s:desc", NS).text == "Two weeks"
    points = root.find("s:polyline", NS).get("points").split()
    plot_bottom = 136 - 36
    right = 300 - MARGIN_RIGHT
    # 10 is the axis's top (nice_ceiling(10)), 0 its bottom; x spans the plot evenly.
    assert points == [
        f"{MARGIN_LEFT:.1f},{plot_bottom:.1f}",
        f"{(MARGIN_LEFT + right) / 2:.1f},{(plot_bottom + MARGIN_TOP) / 2:.1f}",
        f"{right:.1f},{MARGIN_TOP:.1f}",
    ]
    tooltips = [c.find("s:title", NS).text for c in root.findall("s:circle", NS)]
    assert tooltips == ["Drafted, W1: 0 days", "Drafted, W2: 5 days", "Drafted, W3: 10 days"]


def test_a_week_without_a_value_breaks_the_line():
    svg = line_chart(
        chart_id="gap",
        title="t",
        desc="d",
        labels=["1", "2", "3", "4"],
        series=[Series("A", [1, None, 2, 3]), Series("B", [None, None, None, None])],
        unit="days",
    )
    lines = parsed(svg).findall("s:polyline", NS)
    assert [len(line.get("points").split()) for line in lines] == [1, 2]
    assert {line.get("data-series") for line in lines} == {"A"}


def test_nothing_measured_draws_an_empty_chart_not_an_error():
    root = parsed(
        line_chart(chart_id="e", title="t", desc="d", labels=["1"], series=[], unit="days")
    )
    assert root.findall("s:polyline", NS) == []
    bars = parsed(bar_chart(chart_id="b", title="t", desc="d", labels=["A"], values=[0], unit="x"))
    assert bars.find("s:rect", NS).get("width") == "0.0"


def test_bars_are_as_long_as_their_values():
    root = parsed(
        bar_chart(
            chart_id="waiting",
            title="Waiting",
            desc="d",
            labels=["In review", "Drafting"],
            values=[4, 2],
            unit="deals",
        )
    )
    widths = [float(rect.get("width")) for rect in root.findall("s:rect", NS)]
    assert widths[0] == pytest.approx(2 * widths[1])
    assert [r.find("s:title", NS).text for r in root.findall("s:rect", NS)] == [
        "In review: 4 deals",
        "Drafting: 2 deals",
    ]


def test_text_is_escaped():
    svg = line_chart(
        chart_id="x",
        title="<script>alert(1)</script>",
        desc="a & b",
        labels=["<b>"],
        series=[Series('"><img src=x>', [1])],
        unit="days",
    )
    assert "<script>" not in svg
    assert "<img" not in svg
    assert "<b>" not in svg
    root = parsed(svg)  # still well-formed
    assert root.find("s:title", NS).text == "<script>alert(1)</script>"
