"""Plotly figures for the cohort dashboard, built as plain JSON-safe dicts.

Each function takes plain data (rows, or results of :mod:`dashboard.stats`) and returns a
:class:`tracking.charts.Chart`: the figure, a caption that states n, a :class:`Table`
alternative and an empty state, in the visual style of :mod:`tracking.charts` (its layout and
axis helpers, Okabe-Ito colours). No Django models, no request.

Size: every figure stays within :func:`tracking.charts.check_payload`'s bounds
(:data:`tracking.charts.MAX_POINTS` points and :data:`tracking.charts.MAX_JSON_BYTES` bytes),
whatever the cohort size: trajectories draw at most ``max_lines`` clients and stop early when
the next line would cross either bound; the dose-response scatter draws a fixed random sample
of at most :data:`MAX_SCATTER_POINTS` pairs (the statistics always use every pair). Captions
say when a figure shows only part of the data.

Text safety, as in tracking.charts: client codes, scale labels and axis labels enter a figure
only through :func:`tracking.charts.plotly_text` (HTML-escaped), as trace names, tick text,
``customdata`` or ``meta``, never inside a ``hovertemplate``. Captions and table cells are plain
text: the template escapes them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dashboard.stats import (
    MIN_PAIRS_CORRELATION,
    MIN_POINTS_LINE,
    TOO_FEW,
    Association,
    PairedChange,
    ScaleOutcome,
)
from tracking.charts import (
    BLUE,
    INK,
    MAX_JSON_BYTES,
    MAX_LABEL_LENGTH,
    MAX_POINTS,
    SKY,
    VERMILLION,
    Chart,
    Table,
    axis,
    layout,
    number,
    plotly_text,
    plural,
)

GREY = "#868E96"
"""Thin per-client lines: quiet (thin), yet 3.3:1 on white, so the average carries the eye."""

MAX_SCATTER_POINTS = 750
"""Pairs drawn in the dose-response scatter (plus 2 points of the fitted line, under
:data:`tracking.charts.MAX_POINTS`); more pairs are sampled down, the statistics use all."""

MAX_TABLE_ROWS = 200
"""Rows of the dose-response table alternative; a note row says how many were left out."""

SAMPLE_SEED = 0
"""Seed of the scatter sample, so the same data always draws the same points."""

CAUSATION_CAUTION = (
    "Correlational: clients who practise more may differ in other ways; "
    "this does not show that practice causes change."
)

_BYTES_MARGIN = 512
"""Headroom kept under MAX_JSON_BYTES when adding trajectory lines."""


def _chart(key: str, title: str, caption: str, figure: dict[str, Any], table: Table) -> Chart:
    return Chart(key, title, caption, figure, table)


def _empty(key: str, title: str, caption: str, message: str, table: Table) -> Chart:
    return Chart(key, title, caption, {"data": [], "layout": layout()}, table, True, message)


def _json_bytes(value: Any) -> int:
    return len(json.dumps(value, allow_nan=False).encode())


def _fixed(value: float | None, digits: int = 2, signed: bool = False) -> str:
    """A number as table text ("0.35", "+0.35" when signed), "none" when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "none"
    rounded = round(float(value), digits) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f"{rounded:+.{digits}f}" if signed else f"{rounded:.{digits}f}"


# --- Trajectories -------------------------------------------------------------------------------


def trajectories_chart(
    points: Sequence[Mapping[str, Any]],
    *,
    pairs: Sequence[Mapping[str, Any]] = (),
    label: str = "SCS total",
    max_lines: int = 200,
) -> Chart:
    """One thin grey line per client over weeks since the programme started, and the mean
    change of the members who have both a before and an after score.

    ``points``: {"client_code": str, "weeks": float, "total": float} (points without a week or
    a total are left out; a client with a single questionnaire is a grey dot). Clients are
    drawn in order of their code, at most ``max_lines`` of them, and fewer if the next line
    would take the figure over the payload bounds; the caption says so.

    ``pairs``: {"pre_weeks", "pre_total", "post_weeks", "post_total"}, one per member with a
    comparable before and after score (dashboard.stats.pre_post). The bold line joins the mean
    before (at the mean week of the before scores) to the mean after, over these same members,
    drawn from two pairs on. A mean of whoever answered in each week is not drawn: it moves with
    who answered (4.1, 2.3, 4.0, 2.1 for a mix of two groups), not with change. ``label`` names
    the score ("SCS total") in the caption, axis and table.
    """
    key, title = "cohort-trajectories", "Scores over time"
    # A cohort's few hundred points are sorted and grouped in plain Python: pandas' frame,
    # sort and groupby cost several times more on inputs this small.
    points = list(points)
    all_weeks = _numeric([point.get("weeks") for point in points])
    all_totals = _numeric([point.get("total") for point in points])
    kept = sorted(
        (
            (str(point.get("client_code")), weeks, total)
            for point, weeks, total in zip(points, all_weeks, all_totals, strict=True)
            if math.isfinite(weeks) and math.isfinite(total)
        ),
        key=lambda point: (point[0], point[1]),
    )  # stable: points on the same client and week keep their order
    groups: dict[str, list[tuple[str, float, float]]] = {}
    for point in kept:
        groups.setdefault(point[0], []).append(point)
    codes = list(groups)
    caption = (
        f"{label} over time for {plural(len(codes), 'client')} "
        f"({plural(len(kept), 'administration')}), weeks since the programme started."
    )
    if not codes:
        message = (
            "No questionnaire results for this group yet. "
            "Each client's scores will show here, week by week."
        )
        return _empty(key, title, caption, message, Table(("Client", "Week", label)))

    traces: list[dict[str, Any]] = []
    mean_trace = _paired_mean_trace(pairs)
    figure_layout = layout(
        height=340,
        showlegend=mean_trace is not None,
        xaxis=axis(title={"text": "Weeks since the programme started"}, zeroline=False),
        yaxis=axis(title={"text": plotly_text(label, MAX_LABEL_LENGTH)}),
    )
    used_points = len(mean_trace["x"]) if mean_trace else 0
    used_bytes = _json_bytes({"data": [mean_trace] if mean_trace else [], "layout": figure_layout})
    for code in codes[: max(max_lines, 0)]:
        rows = groups[code]
        trace = {
            "type": "scatter",
            "mode": "lines",
            "name": plotly_text(code, MAX_LABEL_LENGTH),
            "showlegend": False,
            "x": [round(weeks, 2) for _, weeks, _ in rows],  # tracking.charts.number: finite
            "y": [round(total, 2) for _, _, total in rows],
            "line": {"color": GREY, "width": 1},
            "hovertemplate": "%{fullData.name}<br>Week %{x:.1f}: %{y:.2f}<extra></extra>",
        }
        if len(rows) == 1:  # a line through one point is invisible: draw a dot
            trace |= {"mode": "markers", "marker": {"color": GREY, "size": 5}}
        size = _json_bytes(trace) + 2  # ", " between traces
        if (
            used_points + len(rows) > MAX_POINTS
            or used_bytes + size > MAX_JSON_BYTES - _BYTES_MARGIN
        ):
            break
        traces.append(trace)
        used_points, used_bytes = used_points + len(rows), used_bytes + size
    drawn = codes[: len(traces)]
    if len(drawn) < len(codes):
        caption += (
            f" Lines are drawn for the first {len(drawn)} of {len(codes)} clients by code"
            f"{'; the mean change uses every member with both scores' if mean_trace else ''}."
        )
    if mean_trace:
        caption += (
            f" The thick line joins the average before and the average after of the same "
            f"{len(pairs)} members (those with both), so it shows their change; a weekly "
            "average of whoever answered is not drawn, as it moves with who answered."
        )
        traces.append(mean_trace)
    elif pairs:
        caption += " One member has both a before and an after score: no average is drawn."
    table = Table(
        ("Client", "Week", label),
        tuple(
            (code, round(weeks, 1), round(total, 2))
            for code in drawn
            for _, weeks, total in groups[code]
        ),
    )
    return _chart(key, title, caption, {"data": traces, "layout": figure_layout}, table)


def _numeric(values: list[Any]) -> list[float]:
    """Values as floats, NaN for what is not a number (None, text that is not a number):
    ``pd.to_numeric(..., errors="coerce")``, without pandas when every value is already an int
    or a float (the common case)."""
    if all(value is None or type(value) in (int, float) for value in values):
        return [math.nan if value is None else float(value) for value in values]
    return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").astype(float).tolist()


def _paired_mean_trace(pairs: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Mean before -> mean after over members with both (at least two), n in the hover."""
    frame = pd.DataFrame(
        list(pairs), columns=["pre_weeks", "pre_total", "post_weeks", "post_total"]
    ).apply(pd.to_numeric, errors="coerce")
    frame = frame[np.isfinite(frame.to_numpy(dtype=float)).all(axis=1)]
    n = len(frame)
    if n < 2:
        return None
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "name": f"Average of the {n} members with before and after",
        "x": [number(frame["pre_weeks"].mean(), 1), number(frame["post_weeks"].mean(), 1)],
        "y": [number(frame["pre_total"].mean()), number(frame["post_total"].mean())],
        "customdata": [["before", n], ["after", n]],
        "line": {"color": BLUE, "width": 4},
        "marker": {"color": BLUE, "size": 9, "symbol": ["circle", "diamond"]},
        "hovertemplate": "Average %{customdata[0]}, week %{x}: %{y:.2f}"
        "<br>the same %{customdata[1]} members<extra></extra>",
    }


# --- Before and after ---------------------------------------------------------------------------


def pre_post_chart(outcomes: Sequence[ScaleOutcome], labels: Mapping[str, str]) -> Chart:
    """Grouped bars: the average before and after the programme, per scale.

    Only clients with both a before and an after score on a scale count for it (n per scale,
    from :func:`dashboard.stats.cohort_outcomes`). The bars show the two averages; the change,
    its confidence interval and d_z are in the hover text of the "after" bar and in the table.
    "Before" bars are hatched so that colour is not the only cue. ``labels`` maps scale codes
    to display names (missing ones show the code).
    """
    key, title = "cohort-pre-post", "Before and after the programme"
    confidence = outcomes[0].change.confidence if outcomes else 0.95
    ci_header = f"{confidence * 100:g}% CI"
    table = Table(
        ("Scale", "n", "Before", "After", "Change", ci_header, "d_z"),
        tuple(_outcome_row(o, labels.get(o.scale, o.scale)) for o in outcomes),
    )
    drawn = [o for o in outcomes if o.change.n > 0]
    members = {o.change.n + o.missing for o in outcomes}
    of_members = f" of {plural(members.pop(), 'member')}" if len(members) == 1 else ""
    sizes = sorted({o.change.n for o in outcomes})
    if not sizes:
        n_text = "n = 0"
    elif len(sizes) == 1:
        n_text = f"n = {sizes[0]}{of_members}" + (" per scale" if len(outcomes) > 1 else "")
    else:
        n_text = f"n = {sizes[0]} to {sizes[-1]}{of_members}, depending on the scale"
    caption = (
        f"Average scores before and after the programme, for the clients with both "
        f"questionnaires ({n_text}). The table gives each change with its {ci_header}."
    )
    if not drawn:
        message = (
            "No client has both a before and an after questionnaire yet. "
            "Averages will show here once they do."
        )
        return _empty(key, title, caption, message, table)
    keys = [f"s{i}" for i in range(len(drawn))]
    names = [plotly_text(labels.get(o.scale, o.scale)) for o in drawn]
    bar = {"type": "bar", "x": keys}
    before = bar | {
        "name": "Before",
        "y": [number(o.change.pre_mean) for o in drawn],
        "customdata": [[name, o.change.n] for name, o in zip(names, drawn, strict=True)],
        "marker": {"color": SKY, "pattern": {"shape": "/", "fgcolor": INK, "size": 6}},
        "hovertemplate": "%{customdata[0]}<br>Before: %{y:.2f} (n = %{customdata[1]})"
        "<extra></extra>",
    }
    after = bar | {
        "name": "After",
        "y": [number(o.change.post_mean) for o in drawn],
        "customdata": [
            [name, o.change.n, _change_text(o.change)] for name, o in zip(names, drawn, strict=True)
        ],
        "marker": {"color": BLUE},
        "hovertemplate": "%{customdata[0]}<br>After: %{y:.2f} (n = %{customdata[1]})"
        "<br>Change: %{customdata[2]}<extra></extra>",
    }
    figure_layout = layout(
        height=320,
        barmode="group",
        showlegend=True,
        xaxis=axis(
            type="category",
            tickmode="array",
            tickvals=keys,
            ticktext=[plotly_text(labels.get(o.scale, o.scale), MAX_LABEL_LENGTH) for o in drawn],
            showgrid=False,
        ),
        yaxis=axis(title={"text": "Average score"}, rangemode="tozero"),
    )
    return _chart(key, title, caption, {"data": [before, after], "layout": figure_layout}, table)


def _change_text(change: PairedChange) -> str:
    text = _fixed(change.mean_change, signed=True)
    if change.ci_low is not None and change.ci_high is not None:
        text += (
            f" ({change.confidence * 100:g}% CI {_fixed(change.ci_low)} to "
            f"{_fixed(change.ci_high)})"
        )
    return text


def _outcome_row(outcome: ScaleOutcome, label: str) -> tuple[str | int, ...]:
    change = outcome.change
    if change.ci_low is None or change.ci_high is None:
        interval = "none"
    else:
        interval = f"{_fixed(change.ci_low)} to {_fixed(change.ci_high)}"
    return (
        label,
        change.n,
        _fixed(change.pre_mean),
        _fixed(change.post_mean),
        _fixed(change.mean_change, signed=True),
        interval,
        _dz_text(change),
    )


def _dz_text(change: PairedChange) -> str:
    """d_z as table text, marked when there are too few pairs to interpret it."""
    text = _fixed(change.cohens_dz)
    if change.cohens_dz is not None and not change.dz_interpretable:
        text += f" ({TOO_FEW}: n = {change.n})"
    return text


# --- Dose-response ------------------------------------------------------------------------------


def in_sentence(label: str) -> str:
    """An axis label inside a sentence: "Practice minutes" reads "practice minutes" after
    "Change in SCS total and". A label that opens with an acronym ("SCS total", "PHQ-9") or a
    single capital keeps its case."""
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label


def dose_response_chart(
    frame: pd.DataFrame,
    *,
    x: str = "minutes",
    y: str = "change_total",
    x_label: str,
    y_label: str,
    association: Association,
) -> Chart:
    """Scatter of change against practice for intervals between questionnaires, with the line.

    ``frame`` is :func:`dashboard.selectors.dose_frame`'s result; ``association`` is
    :func:`dashboard.stats.association` of its ``x`` and ``y`` columns (n, Spearman's rho and
    the least-squares line). Pairs with a missing value are left out. At most
    :data:`MAX_SCATTER_POINTS` pairs are drawn: a fixed random sample (seed
    :data:`SAMPLE_SEED`) when there are more, which the caption says; the statistics use all.
    The fitted line y = intercept + slope * x spans the x range of all pairs, drawn only from
    :data:`dashboard.stats.MIN_POINTS_LINE` pairs on; below
    :data:`dashboard.stats.MIN_PAIRS_CORRELATION` pairs rho is marked "too few to interpret".
    The caption ends with a plain-language caution: this is correlational.
    """
    key = f"dose-{x}-{y}".replace("_", "-")
    title = f"{y_label} and {in_sentence(x_label)}"
    # plain arrays, not frames: a cohort's few hundred pairs cost more in pandas' indexing
    # than in the work itself
    xs = pd.to_numeric(frame[x], errors="coerce").astype(float).to_numpy()
    ys = pd.to_numeric(frame[y], errors="coerce").astype(float).to_numpy()
    complete = np.isfinite(xs) & np.isfinite(ys)
    xs, ys = xs[complete], ys[complete]
    n = len(xs)
    sample_x, sample_y = xs, ys
    if n > MAX_SCATTER_POINTS:
        chosen = np.random.default_rng(SAMPLE_SEED).choice(n, MAX_SCATTER_POINTS, replace=False)
        chosen.sort()
        sample_x, sample_y = xs[chosen], ys[chosen]
    caption = (
        f"{y_label} against {in_sentence(x_label)}, "
        f"{plural(association.n, 'pair')} of consecutive questionnaires"
    )
    if association.rho_interpretable:
        caption += f"; Spearman's rho = {_fixed(association.rho)}."
    elif association.rho is not None:
        caption += (
            f"; Spearman's rho = {_fixed(association.rho)}, {TOO_FEW} "
            f"(fewer than {MIN_PAIRS_CORRELATION} pairs)."
        )
    elif association.n < 3:
        caption += "; too few pairs for a correlation."
    else:
        caption += "; no correlation, as every value on one axis is the same."
    if len(sample_x) < n:
        caption += (
            f" The chart shows a random sample of {len(sample_x)} of the {n} pairs; "
            f"the statistics use all of them."
        )
    if 0 < n < MIN_POINTS_LINE:
        caption += f" No fitted line: a line needs at least {MIN_POINTS_LINE} pairs."
    caption += " " + CAUSATION_CAUTION
    by_x = np.argsort(sample_x, kind="stable")
    table = _scatter_table(sample_x[by_x], sample_y[by_x], x_label, y_label, n)
    if n == 0:
        message = "No pairs to compare yet: a client needs two questionnaires on different days."
        return _empty(key, title, caption, message, table)
    meta = [plotly_text(x_label), plotly_text(y_label)]
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "markers",
            "name": "Pairs of questionnaires",
            "x": [round(v, 2) for v in sample_x.tolist()],  # tracking.charts.number: finite
            "y": [round(v, 2) for v in sample_y.tolist()],
            "meta": meta,
            "marker": {"color": BLUE, "size": 6, "opacity": 0.8},  # 3.7:1 on white
            "hovertemplate": "%{meta[0]}: %{x}<br>%{meta[1]}: %{y:.2f}<extra></extra>",
        }
    ]
    if association.line_drawn:
        ends = [float(xs.min()), float(xs.max())]
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "Least-squares line",
                "x": [number(v) for v in ends],
                "y": [number(association.intercept + association.slope * v) for v in ends],
                "line": {"color": VERMILLION, "width": 2, "dash": "dash"},
                "hovertemplate": "Least-squares line: %{y:.2f}<extra></extra>",
            }
        )
    figure_layout = layout(
        height=340,
        showlegend=True,
        xaxis=axis(title={"text": plotly_text(x_label, 48)}),
        yaxis=axis(title={"text": plotly_text(y_label, 48)}, zeroline=True, zerolinecolor=GREY),
    )
    return _chart(key, title, caption, {"data": traces, "layout": figure_layout}, table)


def _scatter_table(xs: np.ndarray, ys: np.ndarray, x_label: str, y_label: str, n: int) -> Table:
    """At most MAX_TABLE_ROWS pairs (given sorted by x), then a note row saying how many are
    left out."""
    shown_x, shown_y = xs[:MAX_TABLE_ROWS].tolist(), ys[:MAX_TABLE_ROWS].tolist()
    whole = bool(np.all(np.mod(xs, 1) == 0))
    rows: list[tuple[str | int | float, ...]] = [
        (int(a) if whole else _fixed(a), _fixed(b)) for a, b in zip(shown_x, shown_y, strict=True)
    ]
    if len(shown_x) < n:
        rows.append((f"{n - len(shown_x)} more pairs not listed", ""))
    return Table((x_label, y_label), tuple(rows))
