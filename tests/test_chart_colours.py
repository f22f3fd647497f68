"""Every chart's colours pass contrast, and colour is never the only cue.

WCAG 1.4.11: the lines, markers and bars that carry data have at least 3:1 contrast on the
white page. WCAG 1.4.1: series shown in one legend differ by more than colour (a line style, a
marker or a fill pattern). Checked on every figure the charts modules build (pure, no browser).
"""

from __future__ import annotations

import datetime as dt
import types

import numpy as np
import pandas as pd
import pytest

from dashboard import charts as dashboard_charts
from dashboard import stats
from tracking import analysis
from tracking import charts as tracking_charts

WHITE = "#FFFFFF"


def luminance(colour: str) -> float:
    value = colour.lstrip("#")
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str = WHITE) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_contrast_formula_matches_known_values():
    assert contrast("#000000") == pytest.approx(21)
    assert contrast("#767676") == pytest.approx(4.54, abs=0.01)


def every_figure() -> list[tuple[str, dict]]:
    """One of each figure, drawn from data that fills every series."""
    start = dt.datetime(2025, 3, 3, 8, tzinfo=dt.UTC)
    entries = [
        {
            "occurred_at": start + dt.timedelta(hours=7 * i),
            "intensity": 3 + i % 7,
            "intensity_after": i % 4 if i % 2 else None,
            "trigger": ["Work", "Family", None][i % 3],
            "pattern": [*analysis.PATTERNS, None][i % 4],
        }
        for i in range(200)
    ]
    summary = analysis.weekly_entry_summary(entries, dt.UTC)
    practice = [
        {"practised_on": dt.date(2025, 3, 3) + dt.timedelta(days=d), "practice_type": kind,
         "minutes": 5 + d % 9}
        for d in range(40)
        for kind in analysis.PRACTICE_TYPES
    ]  # fmt: skip
    scs = analysis.scs_trend(
        [
            {"administered_on": dt.date(2025, m, 1), "subscale": c, "score": 2 + m / 5}
            for m in (1, 2, 4)
            for c in analysis.SCS_SUBSCALES
        ]
    )
    figures = [
        tracking_charts.entries_per_week_chart(summary),
        tracking_charts.intensity_chart(summary),
        tracking_charts.breakdown_chart(
            analysis.trigger_breakdown(entries, dt.UTC), analysis.pattern_breakdown(entries, dt.UTC)
        ),
        tracking_charts.practice_chart(analysis.practice_minutes_weekly(practice)),
        tracking_charts.scs_chart(scs),
        tracking_charts.scs_subscales_chart(scs),
    ]
    points = [
        {"client_code": f"C-{i}", "weeks": w, "total": 2.5 + 0.1 * w}
        for i in range(6)
        for w in (0, 4, 8)
    ]
    pairs = [{"pre_weeks": 0, "pre_total": 2.5, "post_weeks": 8, "post_total": 3.3}] * 6
    figures.append(dashboard_charts.trajectories_chart(points, pairs=pairs))
    change = stats.paired_change([2.0, 2.5, 3.0], [2.6, 2.9, 3.1])
    outcome = stats.ScaleOutcome("total", change, stats.count_verdicts([]), 0)
    figures.append(dashboard_charts.pre_post_chart([outcome], {"total": "Total"}))
    frame = pd.DataFrame({"minutes": np.arange(12) * 10, "change_total": np.linspace(-1, 1, 12)})
    figures.append(
        dashboard_charts.dose_response_chart(
            frame,
            x_label="Minutes",
            y_label="Change",
            association=stats.association(frame["minutes"], frame["change_total"]),
        )
    )
    from assessments.instruments import get_instrument
    from assessments.selectors import subscale_figure

    rows = [types.SimpleNamespace(name="Self-Kindness", score=3.2, baseline=2.8)]
    administration = types.SimpleNamespace(administered_on=dt.date(2026, 3, 2))
    results = subscale_figure(get_instrument("scs"), rows, administration, administration)
    assert all(not chart.empty for chart in figures)
    return [(chart.key, chart.figure) for chart in figures] + [("results", results)]


def on_white(colour: str, opacity: float) -> str:
    """A colour drawn with this opacity on the white page, as the eye sees it."""
    value = colour.lstrip("#")
    channels = [int(value[i : i + 2], 16) for i in (0, 2, 4)]
    return "#" + "".join(f"{round(c * opacity + 255 * (1 - opacity)):02X}" for c in channels)


def data_colours(trace: dict) -> list[str]:
    found = []
    for part in ("line", "marker"):
        settings = trace.get(part) or {}
        colour = settings.get("color")
        colours = colour if isinstance(colour, list) else [colour] if colour else []
        opacity = settings.get("opacity", 1) * trace.get("opacity", 1)
        found += [on_white(c, opacity) if c.upper() != WHITE else c for c in colours]
    return found


@pytest.mark.parametrize(("key", "figure"), every_figure())
def test_every_line_marker_and_bar_has_three_to_one_contrast_on_white(key, figure):
    for trace in figure["data"]:
        if trace["type"] == "heatmap":
            continue  # one sequential scale: darker means more, every value in the table
        for colour in data_colours(trace):
            if colour.upper() == WHITE:
                continue  # bar outlines and pattern strokes on a coloured bar
            assert contrast(colour) >= 3, f"{key}: {trace.get('name')} {colour}"


def test_a_white_pattern_is_laid_over_its_colour_never_in_place_of_it():
    for key, figure in every_figure():
        for trace in figure["data"]:
            pattern = (trace.get("marker") or {}).get("pattern") or {}
            if pattern.get("shape") and pattern.get("fgcolor", "").upper() == WHITE:
                assert pattern.get("fillmode") == "overlay", f"{key}: {trace.get('name')}"


def cue(trace: dict) -> tuple:
    line, marker = trace.get("line") or {}, trace.get("marker") or {}
    return (
        trace["type"],
        trace.get("mode"),
        line.get("dash", "solid"),
        str(marker.get("symbol", "circle")),
        (marker.get("pattern") or {}).get("shape", ""),
    )


@pytest.mark.parametrize(("key", "figure"), every_figure())
def test_series_in_one_legend_differ_by_more_than_colour(key, figure):
    shown = figure["layout"].get("showlegend", True)
    legend = [t for t in figure["data"] if shown and t.get("showlegend", True)]
    panels: dict[tuple, list[dict]] = {}
    for trace in legend:
        panels.setdefault((trace.get("xaxis", "x"), trace.get("yaxis", "y")), []).append(trace)
    for traces in panels.values():
        cues = [cue(t) for t in traces]
        assert len(set(cues)) == len(cues), f"{key}: {[t.get('name') for t in traces]}"
