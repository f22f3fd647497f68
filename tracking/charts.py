"""Plotly figures for the tracking charts, built as plain JSON-safe dicts.

Each chart function takes a result of :mod:`tracking.analysis` and returns a :class:`Chart`:
the figure (``{"data": [...], "layout": {...}}``, for ``json_script`` and ``static/js/charts.js``),
a short plain-language caption, a :class:`Table` for the table alternative, and an ``empty``
flag with a friendly message for the empty state. Building dicts by hand keeps page rendering
cheap (no ``plotly.graph_objects`` import or validation) and the payload small: weekly bins,
at most :data:`tracking.analysis.MAX_WEEKS` weeks; :func:`payload_size` measures a figure.

Text safety: Plotly renders a subset of HTML (``<b>``, ``<br>``, ``<a href>``...) in names, tick
labels and hover text. Every string that comes from users or clinics (trigger category names,
unknown codes) enters a figure only through :func:`plotly_text`, which HTML-escapes it (Plotly
shows the entities as the literal characters), and never inside a ``hovertemplate`` (whose
``%{...}`` would be expanded). Captions and table cells are plain text on purpose: Django's
autoescaping escapes them in the template, so they must not be escaped here as well.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from assessments.instruments import get_instrument
from assessments.labels import scale_labels
from tracking.analysis import PATTERNS, PRACTICE_TYPES

# Okabe-Ito hues, distinguishable with the common colour-vision deficiencies; orange and sky
# are darkened so that every line, marker and bar has at least 3:1 contrast on white (WCAG
# 1.4.11). Colour is never the only cue: lines differ in dash and marker, bars in pattern.
BLUE = "#0072B2"
VERMILLION = "#D55E00"
GREEN = "#009E73"
ORANGE = "#B86E00"
PURPLE = "#A8507F"
SKY = "#3A88C0"
BLACK = "#000000"
INK = "#212529"
GRID = "#E3E6EA"
HEATMAP_SCALE = [[0.0, "#F4F7FB"], [0.35, "#9ECAE1"], [0.7, "#3182BD"], [1.0, "#08306B"]]
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'

MAX_POINTS = 800
"""Upper bound on the data points of one figure (six stacked practice types x 104 weeks = 624)."""

MAX_JSON_BYTES = 64 * 1024
"""Upper bound on one figure's JSON."""

MAX_LABEL_LENGTH = 24
"""Axis labels longer than this are shortened with an ellipsis; hover text keeps the full name."""

SCS = get_instrument("scs")
SCS_LABELS = scale_labels(SCS)
"""Scale names as everywhere else (the instrument file's), "Total" for the total."""
PATTERN_LABELS = {code: SCS_LABELS[code] for code in PATTERNS}
"""An inner-critic pattern is named as the SCS subscale it belongs to."""
PRACTICE_LABELS = {
    "self_compassion_break": "Self-compassion break",
    "hand_on_heart": "Hand on heart",
    "loving_kindness": "Loving-kindness",
    "compassionate_friend": "Compassionate friend",
    "journaling": "Journaling",
    "other": "Other practice",
}
PRACTICE_COLOURS = dict(
    zip(PRACTICE_TYPES, (BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY), strict=True)
)
PRACTICE_PATTERNS = dict(zip(PRACTICE_TYPES, ("", "/", ".", "x", "\\", "+"), strict=True))
"""A fill pattern per practice type, so that stacked bars differ by more than colour."""
SCS_NEGATIVE = frozenset(PATTERNS)
SCS_POSITIVE = tuple(s.code for s in SCS.subscales if s.code not in SCS_NEGATIVE)
SCS_STYLES = {
    # code: (colour, dash, marker): each subscale differs from its panel's others in all three
    "self_kindness": (GREEN, "solid", "circle"),
    "common_humanity": (BLUE, "dash", "square"),
    "mindfulness": (PURPLE, "dot", "diamond"),
    "self_judgment": (VERMILLION, "solid", "triangle-up"),
    "isolation": (ORANGE, "dash", "x"),
    "over_identification": (SKY, "dot", "star"),
}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

WEEK_HOVER = "Week of %{x|%-d %b %Y}<br>"
PANEL_HEADING = {
    "xref": "paper",
    "yref": "paper",
    "x": 0,
    "xanchor": "left",
    "yanchor": "bottom",
    "showarrow": False,
    "font": {"size": 13, "weight": "bold"},
}
"""A panel's heading in a figure of several panels (an annotation; add "text" and "y")."""
Cell = str | int | float


@dataclass(frozen=True)
class Table:
    """The table alternative: plain-text headers and rows (the template escapes them)."""

    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...] = ()


@dataclass(frozen=True)
class PayloadSize:
    """How big a figure is: data points (heatmap cells count one each) and JSON bytes."""

    points: int
    json_bytes: int


@dataclass(frozen=True)
class Chart:
    """One chart, ready for a template.

    ``figure`` goes through ``json_script`` to ``static/js/charts.js``; ``caption`` is the
    figcaption and the chart element's aria-label; ``table`` is the table alternative. When
    ``empty`` is true there is nothing to draw: show ``empty_message`` instead of the figure.
    A chart with ``on_demand`` text is drawn when the reader opens it (a <details> button).
    """

    key: str
    title: str
    caption: str
    figure: dict[str, Any]
    table: Table
    empty: bool = False
    empty_message: str = ""
    on_demand: str = ""
    """When set, the figure is folded away behind this button text until the reader asks."""

    @property
    def size(self) -> PayloadSize:
        """The figure's :class:`PayloadSize`, measured on demand (tests and benchmarks): the
        pages do not pay for a second JSON encoding of every figure."""
        return payload_size(self.figure)

    @property
    def element_id(self) -> str:
        """An id for ``json_script`` and ``data-figure``: ``{{ chart.figure|json_script:id }}``."""
        return f"sk-chart-{self.key}"


# --- Small helpers ------------------------------------------------------------------------------


def plotly_text(value: object, max_length: int | None = None) -> str:
    """User- or clinic-supplied text made safe for a Plotly figure.

    Whitespace runs become one space, text longer than ``max_length`` is cut with an ellipsis,
    and the result is HTML-escaped so that Plotly shows it literally instead of reading tags.
    """
    text = re.sub(r"\s+", " ", str(value)).strip()
    if max_length is not None and len(text) > max_length:
        text = text[: max_length - 1].rstrip() + "…"
    return html.escape(text, quote=True)


def payload_size(figure: dict[str, Any]) -> PayloadSize:
    """Measure a figure: data points across its traces and the bytes of its JSON.

    The JSON is written as ``json_script`` writes it (standard separators) with NaN refused, so
    this also proves the figure is valid JSON for ``JSON.parse``.
    """
    points = 0
    for trace in figure.get("data", []):
        if "z" in trace:
            points += sum(len(row) for row in trace["z"])
        else:
            points += max(len(trace.get("x") or ()), len(trace.get("y") or ()))
    json_bytes = len(json.dumps(figure, allow_nan=False).encode())
    return PayloadSize(points=points, json_bytes=json_bytes)


def check_payload(
    figure: dict[str, Any], max_points: int = MAX_POINTS, max_bytes: int = MAX_JSON_BYTES
) -> PayloadSize:
    """Return the figure's :class:`PayloadSize`, raising ValueError when over either bound."""
    size = payload_size(figure)
    if size.points > max_points or size.json_bytes > max_bytes:
        raise ValueError(
            f"figure payload too big: {size.points} points (max {max_points}), "
            f"{size.json_bytes} bytes (max {max_bytes})"
        )
    return size


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    """``n`` with the noun in the right number: "1 week", "3 weeks", "2 entries"."""
    return f"{n} {singular if n == 1 else (plural_form or singular + 's')}"


def number(value: Any, digits: int = 2) -> float | None:
    """A JSON-safe float (None for missing or NaN), rounded to keep the payload small."""
    if value is None or pd.isna(value):
        return None
    return round(float(value), digits)


def _mean_cell(value: Any) -> str:
    rounded = number(value, 1)
    return "none" if rounded is None else f"{rounded:.1f}"


def day_label(day: dt.date) -> str:
    """A date as the charts write it: "5 May 2025" (no leading zero)."""
    return f"{day.day} {day:%b %Y}"


def _iso(days: pd.Series) -> list[str]:
    return [day.isoformat() for day in days]


def _ints(values: pd.Series) -> list[int]:
    return [int(v) for v in values]


def layout(height: int = 300, **extra: Any) -> dict[str, Any]:
    """The shared layout: responsive, transparent, fixed axes (no zoom), room for 375px screens."""
    base = {
        "autosize": True,
        "height": height,
        "margin": {"l": 8, "r": 8, "t": 8, "b": 8, "pad": 2},
        "font": {"family": FONT, "size": 12, "color": INK},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "hoverlabel": {"font": {"family": FONT, "size": 13}, "namelength": -1},
        "hovermode": "closest",
        "dragmode": False,
        "showlegend": False,
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"},
    }
    base.update(extra)
    return base


def axis(**extra: Any) -> dict[str, Any]:
    base = {"fixedrange": True, "automargin": True, "gridcolor": GRID, "zeroline": False}
    base.update(extra)
    return base


def _week_axis(**extra: Any) -> dict[str, Any]:
    return axis(type="date", tickformat="%-d %b", showgrid=False, **extra)


def _count_axis(largest: float, title: str, **extra: Any) -> dict[str, Any]:
    """A count axis from zero with whole-number ticks (no 0.5 entries)."""
    ticks = {"dtick": 1} if largest <= 5 else {}
    return axis(rangemode="tozero", tickformat="d", title={"text": title}, **ticks, **extra)


def _empty(key: str, title: str, caption: str, message: str, table: Table) -> Chart:
    figure = {"data": [], "layout": layout()}
    return Chart(key, title, caption, figure, table, True, message)


def _chart(key: str, title: str, caption: str, figure: dict[str, Any], table: Table) -> Chart:
    return Chart(key, title, caption, figure, table)


# --- Inner-critic entries -------------------------------------------------------------------------


def entries_per_week_chart(summary: pd.DataFrame) -> Chart:
    """Bar chart of inner-critic entries per week, from ``analysis.weekly_entry_summary``."""
    key, title = "entries-weekly", "Inner-critic entries per week"
    weeks, total = len(summary), int(summary["entries"].sum()) if len(summary) else 0
    caption = f"Entries per week, {plural(weeks, 'week')}, {plural(total, 'entry', 'entries')}"
    table = Table(
        ("Week starting", "Entries"),
        tuple(
            (day_label(w), int(n))
            for w, n in zip(summary["week_start"], summary["entries"], strict=True)
        ),
    )
    if total == 0:
        message = "No inner-critic entries yet. Entries will show here, week by week."
        return _empty(key, title, caption, message, table)
    trace = {
        "type": "bar",
        "name": "Entries",
        "x": _iso(summary["week_start"]),
        "y": _ints(summary["entries"]),
        "marker": {"color": BLUE},
        "hovertemplate": WEEK_HOVER + "Entries: %{y}<extra></extra>",
    }
    figure_layout = layout(
        xaxis=_week_axis(),
        yaxis=_count_axis(summary["entries"].max(), "Entries"),
    )
    return _chart(key, title, caption, {"data": [trace], "layout": figure_layout}, table)


def intensity_chart(summary: pd.DataFrame) -> Chart:
    """Mean intensity before vs after reframing per week, with the share of entries reframed.

    Top panel: the reframed entries' mean intensity before and after (0-10), as a dotted and a
    solid line with different markers, so colour is not the only cue; weeks without reframes
    leave a gap. Bottom panel: the share of the week's entries that were reframed.
    """
    key, title = "intensity-weekly", "Inner-critic intensity before and after reframing"
    weeks = len(summary)
    total = int(summary["entries"].sum()) if weeks else 0
    reframed = int(summary["reframed"].sum()) if weeks else 0
    share = round(100 * reframed / total) if total else 0
    caption = (
        f"Average intensity (0 to 10) before and after reframing, per week, "
        f"{plural(weeks, 'week')}; {reframed} of {plural(total, 'entry', 'entries')} "
        f"reframed ({share}%)"
    )
    table = Table(
        ("Week starting", "Entries", "Reframed", "Average before", "Average after"),
        tuple(
            (
                day_label(row.week_start),
                int(row.entries),
                f"{int(row.reframed)} ({round(100 * row.share_reframed)}%)" if row.entries else "0",
                _mean_cell(row.mean_before_reframe),
                _mean_cell(row.mean_after_reframe),
            )
            for row in summary.itertuples(index=False)
        ),
    )
    if reframed == 0:
        message = (
            "No reframes yet. When an entry gets a kinder reframe and a new rating, "
            "the before and after will show here."
        )
        if total == 0:
            message = "No inner-critic entries yet. Intensity will show here, week by week."
        return _empty(key, title, caption, message, table)
    x = _iso(summary["week_start"])
    line = {"type": "scatter", "mode": "lines+markers", "x": x, "connectgaps": False}
    before = line | {
        "name": "Before reframing",
        "y": [number(v) for v in summary["mean_before_reframe"]],
        "line": {"color": VERMILLION, "dash": "dot", "width": 2},
        "marker": {"color": VERMILLION, "symbol": "circle", "size": 7},
        "hovertemplate": WEEK_HOVER + "Before reframing: %{y:.1f}<extra></extra>",
    }
    after = line | {
        "name": "After reframing",
        "y": [number(v) for v in summary["mean_after_reframe"]],
        "line": {"color": BLUE, "width": 2},
        "marker": {"color": BLUE, "symbol": "diamond", "size": 8},
        "hovertemplate": WEEK_HOVER + "After reframing: %{y:.1f}<extra></extra>",
    }
    shares = {
        "type": "bar",
        "name": "Share reframed",
        "x": x,
        "y": [number(None if pd.isna(v) else 100 * v, 0) for v in summary["share_reframed"]],
        "yaxis": "y2",
        "marker": {"color": GREEN},
        "hovertemplate": WEEK_HOVER + "Reframed: %{y:.0f}%<extra></extra>",
    }
    figure_layout = layout(
        height=340,
        showlegend=True,
        xaxis=_week_axis(anchor="y2"),
        yaxis=axis(domain=[0.4, 1], range=[-0.3, 10.3], dtick=2, title={"text": "Intensity"}),
        yaxis2=axis(
            domain=[0, 0.26], range=[0, 100], dtick=50, ticksuffix="%", title={"text": "Reframed"}
        ),
    )
    return _chart(
        key, title, caption, {"data": [before, after, shares], "layout": figure_layout}, table
    )


def _trigger_label(row: Any) -> str:
    if row.kind == "other":
        return "Other triggers"
    if row.kind == "unrecorded":
        return "No trigger noted"
    return str(row.category)


def _pattern_label(row: Any) -> str:
    if row.kind == "other":
        return "Other patterns"
    if row.kind == "unrecorded":
        return "No pattern noted"
    return PATTERN_LABELS.get(row.category, str(row.category))


def _bar_panel(labels: list[str], counts: list[int], prefix: str, axes: str, colour: str):
    """One horizontal bar panel; user text only in escaped tick text and customdata."""
    keys = [f"{prefix}{i}" for i in range(len(labels))]
    trace = {
        "type": "bar",
        "orientation": "h",
        "x": counts,
        "y": keys,
        "customdata": [plotly_text(label) for label in labels],
        "xaxis": f"x{axes}",
        "yaxis": f"y{axes}",
        "marker": {"color": colour},
        "hovertemplate": "%{customdata}: %{x}<extra></extra>",
    }
    yaxis = axis(
        type="category",
        tickmode="array",
        tickvals=keys,
        ticktext=[plotly_text(label, MAX_LABEL_LENGTH) for label in labels],
        autorange="reversed",
        showgrid=False,
    )
    return trace, yaxis


def breakdown_chart(triggers: pd.DataFrame, patterns: pd.DataFrame) -> Chart:
    """Horizontal bars: entries per trigger (top panel) and per pattern (bottom panel).

    Takes ``analysis.trigger_breakdown`` and ``analysis.pattern_breakdown``. Trigger names are
    clinic-supplied text: escaped in tick labels (shortened) and hover text (in full).
    """
    key, title = "triggers-patterns", "Triggers and patterns"
    total = int(patterns["n"].sum()) if len(patterns) else 0
    caption = f"Entries by trigger and by pattern, {plural(total, 'entry', 'entries')}"
    trigger_rows = [(_trigger_label(r), int(r.n)) for r in triggers.itertuples(index=False)]
    pattern_rows = [(_pattern_label(r), int(r.n)) for r in patterns.itertuples(index=False)]
    table = Table(
        ("Group", "Category", "Entries"),
        tuple(("Trigger", label, n) for label, n in trigger_rows)
        + tuple(("Pattern", label, n) for label, n in pattern_rows),
    )
    if total == 0:
        message = "No inner-critic entries yet. Triggers and patterns will show here."
        return _empty(key, title, caption, message, table)
    bar_px, gap_px, head_px = 24, 40, 28
    t_rows, p_rows = max(len(trigger_rows), 1), max(len(pattern_rows), 1)
    plot_px = bar_px * (t_rows + p_rows) + gap_px + 2 * head_px
    height = plot_px + 40
    p_top = (bar_px * p_rows) / plot_px
    t_bottom = p_top + (gap_px + head_px) / plot_px
    t_top = 1 - head_px / plot_px
    t_trace, t_axis = _bar_panel(*_unzip(trigger_rows), "t", "", BLUE)
    p_trace, p_axis = _bar_panel(*_unzip(pattern_rows), "p", "2", VERMILLION)
    largest = max([n for _, n in trigger_rows + pattern_rows] or [0])
    heading = PANEL_HEADING
    figure_layout = layout(
        height=height,
        xaxis=_count_axis(largest, "", anchor="y"),
        yaxis=t_axis | {"domain": [t_bottom, t_top], "anchor": "x"},
        xaxis2=_count_axis(largest, "Entries", anchor="y2", matches="x"),
        yaxis2=p_axis | {"domain": [0, p_top], "anchor": "x2"},
        annotations=[
            heading | {"text": "Triggers", "y": t_top},
            heading | {"text": "Patterns", "y": p_top},
        ],
    )
    return _chart(key, title, caption, {"data": [t_trace, p_trace], "layout": figure_layout}, table)


def _unzip(rows: list[tuple[str, int]]) -> tuple[list[str], list[int]]:
    return [label for label, _ in rows], [n for _, n in rows]


def heatmap_chart(heatmap: pd.DataFrame, tz_name: str = "") -> Chart:
    """Weekday x hour-of-day heatmap of entries, from ``analysis.weekday_hour_heatmap``.

    ``tz_name`` (e.g. "Europe/London") names the clinic time zone in the caption and axis.
    """
    key, title = "weekday-hour", "When the inner critic shows up"
    counts = heatmap.reindex(index=range(7), columns=range(24), fill_value=0)
    total = int(counts.to_numpy().sum())
    zone = f" ({tz_name} time)" if tz_name else ""
    caption = (
        f"Entries by day of the week and hour of the day{zone}, "
        f"{plural(total, 'entry', 'entries')}; darker squares mean more entries"
    )
    table = Table(
        ("Day", *(f"{hour:02d}:00" for hour in range(24))),
        tuple((WEEKDAYS[d], *_ints(counts.loc[d])) for d in range(7)),
    )
    if total == 0:
        message = "No inner-critic entries yet. The times they happen will show here."
        return _empty(key, title, caption, message, table)
    trace = {
        "type": "heatmap",
        "x": list(range(24)),
        "y": [day[:3] for day in WEEKDAYS],
        "z": [_ints(counts.loc[d]) for d in range(7)],
        "zmin": 0,
        "colorscale": HEATMAP_SCALE,
        "xgap": 1,
        "ygap": 1,
        "showscale": False,
        "hovertemplate": "%{y} %{x}:00 to %{x}:59<br>Entries: %{z}<extra></extra>",
    }
    figure_layout = layout(
        height=280,
        xaxis=axis(
            tickmode="array",
            tickvals=list(range(0, 24, 3)),
            ticktext=[f"{hour:02d}" for hour in range(0, 24, 3)],
            showgrid=False,
            title={"text": " ".join(["Hour of day", plotly_text(zone)]).strip()},
        ),
        yaxis=axis(autorange="reversed", showgrid=False),
    )
    return _chart(key, title, caption, {"data": [trace], "layout": figure_layout}, table)


# --- Practice -------------------------------------------------------------------------------------


def practice_chart(minutes: pd.DataFrame) -> Chart:
    """Stacked bars of practice minutes per week by type, from ``practice_minutes_weekly``."""
    key, title = "practice-weekly", "Practice minutes per week"
    types = [c for c in minutes.columns if c in PRACTICE_TYPES]
    weeks = len(minutes)
    total = int(minutes["total"].sum()) if weeks else 0
    caption = (
        f"Practice minutes per week by type, {plural(weeks, 'week')}, "
        f"{plural(total, 'minute')} in total"
    )
    table = Table(
        ("Week starting", *(PRACTICE_LABELS[t] for t in types), "Total"),
        tuple(
            (day_label(row["week_start"]), *(int(row[t]) for t in types), int(row["total"]))
            for _, row in minutes.iterrows()
        ),
    )
    if total == 0:
        message = "No practice logged yet. Minutes of practice will show here, week by week."
        return _empty(key, title, caption, message, table)
    x = _iso(minutes["week_start"])
    traces = [
        {
            "type": "bar",
            "name": PRACTICE_LABELS[kind],
            "x": x,
            "y": _ints(minutes[kind]),
            "marker": {
                "color": PRACTICE_COLOURS[kind],
                "line": {"color": "#FFFFFF", "width": 1},
                # "overlay": white strokes over the type's colour ("replace" would drop it).
                "pattern": {
                    "shape": PRACTICE_PATTERNS[kind],
                    "fgcolor": "#FFFFFF",
                    "size": 6,
                    "fillmode": "overlay",
                },
            },
            "hovertemplate": WEEK_HOVER + "%{fullData.name}: %{y} min<extra></extra>",
        }
        for kind in types
    ]
    figure_layout = layout(
        height=320,
        barmode="stack",
        showlegend=True,
        xaxis=_week_axis(),
        yaxis=_count_axis(minutes["total"].max(), "Minutes"),
    )
    return _chart(key, title, caption, {"data": traces, "layout": figure_layout}, table)


# --- Self-Compassion Scale ------------------------------------------------------------------------


def _scs_label(code: str) -> str:
    return SCS_LABELS.get(code) or str(code)


def _scs_table(trend: pd.DataFrame, codes: list[str]) -> Table:
    """Date, then each scale's score with what a high score means, one row per date."""
    dates = sorted(set(trend["administered_on"]))
    scores = {(row.subscale, row.administered_on): row.score for row in trend.itertuples()}
    return Table(
        ("Date", *(f"{_scs_label(c)} ({_direction(c)})" for c in codes)),
        tuple(
            (day_label(day), *(_mean_cell(scores.get((c, day))) for c in codes)) for day in dates
        ),
    )


def _direction(code: str) -> str:
    return "higher is worse" if code in SCS_NEGATIVE else "higher is better"


def _scs_axis(values: pd.Series, **extra: Any) -> dict[str, Any]:
    in_scale = bool(len(values)) and values.between(1, 5).all()
    return axis(**({"range": [0.9, 5.1], "dtick": 1} if in_scale else {}), **extra)


def scs_chart(trend: pd.DataFrame) -> Chart:
    """The SCS total over time (higher = more self-compassion), from ``analysis.scs_trend``.

    The total is what a reader sees first; the six subscales, three of them "higher is worse",
    are in :func:`scs_subscales_chart`, on demand. The table alternative has every scale.
    """
    key, title = "scs-trend", "Self-Compassion Scale over time"
    total = trend[trend["subscale"] == "total"]
    dates = sorted(set(trend["administered_on"]))
    codes = list(dict.fromkeys(trend["subscale"]))
    codes = (["total"] if "total" in codes else []) + [c for c in codes if c != "total"]
    caption = (
        f"Self-Compassion Scale total over time (1 to 5, higher = more self-compassion), "
        f"{plural(len(dates), 'questionnaire')}; the table also gives the six subscales."
    )
    table = _scs_table(trend, codes)
    if total.empty:
        message = (
            "No Self-Compassion Scale total yet. "
            "The trend will show here after the first scored questionnaire."
        )
        return _empty(key, title, caption, message, table)
    trace = {
        "type": "scatter",
        "mode": "lines+markers",
        "name": "Total",
        "x": _iso(total["administered_on"]),
        "y": [number(v) for v in total["score"]],
        "line": {"color": BLACK, "width": 3},
        "marker": {"color": BLACK, "size": 8},
        "hovertemplate": "%{x|%-d %b %Y}<br>Total: %{y:.2f}<extra></extra>",
    }
    figure_layout = layout(
        height=300,
        xaxis=axis(type="date", tickformat="%-d %b %Y", showgrid=False),
        yaxis=_scs_axis(total["score"], title={"text": "Total (higher is better)"}),
    )
    return _chart(key, title, caption, {"data": [trace], "layout": figure_layout}, table)


def scs_subscales_chart(trend: pd.DataFrame) -> Chart:
    """The six SCS subscales over time, shown on demand, in two panels by direction.

    Top: the compassionate subscales (self-kindness, common humanity, mindfulness), where
    higher is better. Bottom: the uncompassionate ones (self-judgment, isolation,
    over-identification), on raw responses as the facts page reports them, where higher means
    more self-criticism: a fall there is an improvement. Within a panel each line differs in
    colour, dash and marker.
    """
    key, title = "scs-subscales", "Self-Compassion Scale subscales over time"
    subscales = trend[trend["subscale"] != "total"]
    dates = sorted(set(subscales["administered_on"]))
    codes = list(dict.fromkeys(subscales["subscale"]))
    caption = (
        f"The six subscales, {plural(len(dates), 'questionnaire')}. Top panel: compassionate "
        "subscales, higher is better. Bottom panel: uncompassionate subscales, higher means a "
        "louder inner critic, so a fall there is an improvement."
    )
    table = _scs_table(subscales, codes)
    if subscales.empty:
        message = "No subscale scores yet. They will show here after the first questionnaire."
        return _empty(key, title, caption, message, table)
    traces = []
    for code in codes:
        rows = subscales[subscales["subscale"] == code]
        colour, dash, symbol = SCS_STYLES.get(code, (INK, "solid", "circle"))
        negative = code in SCS_NEGATIVE
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": plotly_text(_scs_label(code), MAX_LABEL_LENGTH),
                "legendgroup": "negative" if negative else "positive",
                "x": _iso(rows["administered_on"]),
                "y": [number(v) for v in rows["score"]],
                "xaxis": "x2" if negative else "x",
                "yaxis": "y2" if negative else "y",
                "line": {"color": colour, "width": 2, "dash": dash},
                "marker": {"color": colour, "size": 8, "symbol": symbol},
                "hovertemplate": "%{x|%-d %b %Y}<br>%{fullData.name}: %{y:.2f}<extra></extra>",
            }
        )
    heading = PANEL_HEADING
    date_axis = {"type": "date", "tickformat": "%-d %b %Y", "showgrid": False}
    figure_layout = layout(
        height=520,
        showlegend=True,
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -0.12, "yanchor": "top"},
        xaxis=axis(**date_axis, anchor="y"),
        yaxis=_scs_axis(subscales["score"], domain=[0.58, 0.94], anchor="x"),
        xaxis2=axis(**date_axis, anchor="y2", matches="x"),
        yaxis2=_scs_axis(subscales["score"], domain=[0, 0.36], anchor="x2"),
        annotations=[
            heading | {"text": "Compassionate: higher is better", "y": 0.95},
            heading | {"text": "Uncompassionate: higher is worse", "y": 0.37},
        ],
    )
    return Chart(
        key,
        title,
        caption,
        {"data": traces, "layout": figure_layout},
        table,
        on_demand="Show the six subscales",
    )
    return _chart(key, title, caption, {"data": traces, "layout": figure_layout}, table)


# --- Depression and anxiety (PHQ-9, GAD-7) -------------------------------------------------------

SYMPTOM_COLOURS = {"PHQ-9": "#7a3e9d", "GAD-7": "#0f6e8c"}


def symptom_chart(rows: list[dict]) -> Chart:
    """PHQ-9 and GAD-7 totals over time (sums of items; higher = more severe), from
    ``assessments.selectors.symptom_totals``, each with its caseness threshold dotted."""
    key, title = "symptom-trend", "PHQ-9 and GAD-7 over time"
    measures = list(dict.fromkeys(row["instrument"] for row in rows))
    dates = sorted({row["administered_on"] for row in rows})
    totals = {(row["instrument"], row["administered_on"]): row["total"] for row in rows}
    caption = (
        f"PHQ-9 (depression, 0-27) and GAD-7 (anxiety, 0-21) totals, higher = more severe, "
        f"{plural(len(dates), 'questionnaire date')}; dotted: the caseness threshold"
    )
    table = Table(
        ("Date", *measures),
        tuple(
            (day_label(day), *(_mean_cell(totals.get((m, day))) for m in measures)) for day in dates
        ),
    )
    if not rows:
        message = "No PHQ-9 or GAD-7 yet. The totals will show here after the first one."
        return _empty(key, title, caption, message, table)
    traces = []
    for measure in measures:
        own = [row for row in rows if row["instrument"] == measure]
        colour = SYMPTOM_COLOURS.get(measure, INK)
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": plotly_text(measure, MAX_LABEL_LENGTH),
                "x": [row["administered_on"].isoformat() for row in own],
                "y": [number(row["total"], 3) for row in own],
                "line": {"color": colour, "width": 2},
                "marker": {"color": colour, "size": 7},
                "hovertemplate": "%{x|%-d %b %Y}<br>%{fullData.name}: %{y}<extra></extra>",
            }
        )
        case_at = own[0]["case_at"]
        if case_at is not None and len(dates) > 1:
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": plotly_text(f"{measure} caseness ({case_at:g})", MAX_LABEL_LENGTH),
                    "x": [dates[0].isoformat(), dates[-1].isoformat()],
                    "y": [case_at, case_at],
                    "line": {"color": colour, "width": 1, "dash": "dot"},
                    "hoverinfo": "skip",
                }
            )
    figure_layout = layout(
        height=320,
        showlegend=True,
        xaxis=axis(type="date", tickformat="%-d %b %Y", showgrid=False),
        yaxis=axis(title={"text": "Total"}, rangemode="tozero"),
    )
    return _chart(key, title, caption, {"data": traces, "layout": figure_layout}, table)
