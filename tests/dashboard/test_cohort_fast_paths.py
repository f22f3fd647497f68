"""The cohort page's plain-Python paths give exactly what the pandas versions they replaced gave.

Each replaced function is kept here, as it was, as a private reference (``_reference_*``);
hypothesis generates inputs and every test asserts the new result equals the reference's:
the same frame (columns, dtypes, values, NaN), the same outcomes, the same figure and table.
Pure tests: no database, no Django models.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import charts, stats
from tracking.charts import (
    BLUE,
    MAX_JSON_BYTES,
    MAX_LABEL_LENGTH,
    MAX_POINTS,
    VERMILLION,
    Chart,
    Table,
    axis,
    layout,
    number,
    plotly_text,
    plural,
)

D = dt.date
START = D(2025, 3, 3)
CODES = ("self_kindness", "isolation", "mindfulness")


# --- Reference: stats.pre_post as it was (pandas groupby, reindex, np.select) -------------------


def _reference_administrations_frame(rows: stats.Rows) -> pd.DataFrame:
    records = rows.to_dict("records") if isinstance(rows, pd.DataFrame) else list(rows)
    codes: dict[str, None] = {}
    for record in records:
        codes.update(dict.fromkeys(record.get("subscales") or {}))
    frame = pd.DataFrame(
        {
            "client_id": pd.Series([r["client_id"] for r in records], dtype="int64"),
            "administered_on": pd.Series(
                [stats._as_date(r["administered_on"]) for r in records], dtype=object
            ),
            "total": _reference_floats([r.get("total") for r in records]),
            "total_method": pd.Series(
                [stats._method(r.get("total_method")) for r in records], dtype=object
            ),
            **{
                f"sub_{code}": _reference_floats(
                    [(r.get("subscales") or {}).get(code) for r in records]
                )
                for code in codes
            },
            "order": pd.Series(range(len(records)), dtype="int64"),
        }
    )
    return frame.sort_values(["client_id", "administered_on", "order"], ignore_index=True)


def _reference_floats(values: list[Any]) -> pd.Series:
    return pd.Series([np.nan if v is None else v for v in values], dtype="float64")


def _reference_dates_or_none(values: pd.Series) -> np.ndarray:
    return np.array([v if isinstance(v, dt.date) else None for v in values], dtype=object)


def _reference_pre_post(
    administrations, members, starts_on, ends_on, window_days=42, grace_days=14
) -> pd.DataFrame:
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        raise ValueError(f"the programme ends ({ends_on}) before it starts ({starts_on})")
    if window_days < 0 or grace_days < 0:
        raise ValueError("window_days and grace_days must not be negative")
    member_ids = list(dict.fromkeys(int(m) for m in members))
    frame = _reference_administrations_frame(administrations)
    codes = [c.removeprefix("sub_") for c in frame.columns if c.startswith("sub_")]
    frame = frame[frame["client_id"].isin(member_ids)].copy()
    frame["day"] = np.fromiter(
        (d.toordinal() for d in frame["administered_on"]), dtype="int64", count=len(frame)
    )
    by_client = "client_id"
    if starts_on is not None and ends_on is not None:
        pre_from, pre_to, post_from, post_to = stats._windows(
            starts_on, ends_on, window_days, grace_days
        )
        in_pre = frame["day"].between(pre_from, pre_to)
        pre = frame[in_pre].groupby(by_client, sort=False).tail(1)
        candidates = frame[frame["day"].between(post_from, post_to)]
    else:
        pre = frame.groupby(by_client, sort=False).head(1)
        candidates = frame.groupby(by_client, sort=False).tail(1)
    pre_day = candidates[by_client].map(pre.set_index(by_client)["day"])
    after_pre = pre_day.isna() | (candidates["day"] > pre_day)
    post = candidates[after_pre.to_numpy()].groupby(by_client, sort=False).head(1)

    pre, post = pre.set_index(by_client), post.set_index(by_client)
    index = pd.Index(member_ids, dtype="int64", name=by_client)
    pre, post = pre.reindex(index), post.reindex(index)
    has_pre, has_post = pre["order"].notna(), post["order"].notna()
    out = pd.DataFrame(
        {
            "client_id": index.to_numpy(),
            "pre_on": _reference_dates_or_none(pre["administered_on"]),
            "post_on": _reference_dates_or_none(post["administered_on"]),
            "pre_total": pre["total"].astype("float64").to_numpy(),
            "post_total": post["total"].astype("float64").to_numpy(),
        }
    )
    out["total_comparable"] = (
        out["pre_total"].notna().to_numpy()
        & out["post_total"].notna().to_numpy()
        & (pre["total_method"] == post["total_method"]).to_numpy()
    )
    for code in codes:
        out[f"pre_{code}"] = pre[f"sub_{code}"].astype("float64").to_numpy()
        out[f"post_{code}"] = post[f"sub_{code}"].astype("float64").to_numpy()
    status = np.select(
        [has_pre & has_post, has_post, has_pre],
        [stats.PAIRED, stats.MISSING_PRE, stats.MISSING_POST],
        default=stats.MISSING_BOTH,
    )
    out["status"] = pd.Series(status, dtype=object)
    return out


# --- Reference: stats.cohort_outcomes as it was (Series masks and .loc per scale) ----------------


def _reference_cohort_outcomes(frame, scales, verdict, confidence=0.95):
    outcomes = []
    for scale in scales:
        pre_column, post_column = f"pre_{scale}", f"post_{scale}"
        if pre_column in frame.columns and post_column in frame.columns:
            usable = frame[pre_column].notna() & frame[post_column].notna()
            if scale == stats.TOTAL:
                usable &= frame["total_comparable"].astype(bool)
            pre = frame.loc[usable, pre_column].astype(float).tolist()
            post = frame.loc[usable, post_column].astype(float).tolist()
        else:
            pre, post = [], []
        outcomes.append(
            stats.ScaleOutcome(
                scale=scale,
                change=stats.paired_change(pre, post, confidence),
                verdicts=stats.count_verdicts(
                    verdict(scale, a, b) for a, b in zip(pre, post, strict=True)
                ),
                missing=len(frame) - len(pre),
            )
        )
    return outcomes


def _verdict(scale: str, pre: float, post: float) -> str:
    """A stand-in for reliable_change_for that depends on the scale and both scores."""
    change = post - pre if scale == stats.TOTAL else pre - post
    return (
        "improved" if change >= 0.5 else "deteriorated" if change <= -0.5 else "no reliable change"
    )


# --- Reference: charts.trajectories_chart as it was (a frame, sort_values and groupby) ---------


def _reference_trajectories_chart(points, *, pairs=(), label="SCS total", max_lines=200):
    key, title = "cohort-trajectories", "Scores over time"
    frame = pd.DataFrame(list(points), columns=["client_code", "weeks", "total"])
    frame["weeks"] = pd.to_numeric(frame["weeks"], errors="coerce").astype(float)
    frame["total"] = pd.to_numeric(frame["total"], errors="coerce").astype(float)
    frame = frame[np.isfinite(frame["weeks"]) & np.isfinite(frame["total"])]
    frame = frame.assign(client_code=frame["client_code"].astype(str))
    frame = frame.sort_values(["client_code", "weeks"], kind="stable", ignore_index=True)
    codes = list(dict.fromkeys(frame["client_code"]))
    caption = (
        f"{label} over time for {plural(len(codes), 'client')} "
        f"({plural(len(frame), 'administration')}), weeks since the programme started."
    )
    if not codes:
        message = (
            "No questionnaire results for this group yet. "
            "Each client's scores will show here, week by week."
        )
        return charts._empty(key, title, caption, message, Table(("Client", "Week", label)))

    traces = []
    mean_trace = charts._paired_mean_trace(pairs)
    figure_layout = layout(
        height=340,
        showlegend=mean_trace is not None,
        xaxis=axis(title={"text": "Weeks since the programme started"}, zeroline=False),
        yaxis=axis(title={"text": plotly_text(label, MAX_LABEL_LENGTH)}),
    )
    used_points = len(mean_trace["x"]) if mean_trace else 0
    used_bytes = charts._json_bytes(
        {"data": [mean_trace] if mean_trace else [], "layout": figure_layout}
    )
    groups = dict(tuple(frame.groupby("client_code", sort=False)))
    for code in codes[: max(max_lines, 0)]:
        rows = groups[code]
        trace = {
            "type": "scatter",
            "mode": "lines",
            "name": plotly_text(code, MAX_LABEL_LENGTH),
            "showlegend": False,
            "x": [number(v) for v in rows["weeks"]],
            "y": [number(v) for v in rows["total"]],
            "line": {"color": charts.GREY, "width": 1},
            "hovertemplate": "%{fullData.name}<br>Week %{x:.1f}: %{y:.2f}<extra></extra>",
        }
        if len(rows) == 1:
            trace |= {"mode": "markers", "marker": {"color": charts.GREY, "size": 5}}
        size = charts._json_bytes(trace) + 2
        if (
            used_points + len(rows) > MAX_POINTS
            or used_bytes + size > MAX_JSON_BYTES - charts._BYTES_MARGIN
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
    shown = frame[frame["client_code"].isin(drawn)]
    table = Table(
        ("Client", "Week", label),
        tuple(
            (str(code), number(weeks, 1), number(total, 2))
            for code, weeks, total in zip(
                shown["client_code"], shown["weeks"], shown["total"], strict=True
            )
        ),
    )
    return charts._chart(key, title, caption, {"data": traces, "layout": figure_layout}, table)


# --- Reference: charts.dose_response_chart as it was (frames for the sample and the table) -----


def _reference_dose_response_chart(frame, *, x, y, x_label, y_label, association):
    key = f"dose-{x}-{y}".replace("_", "-")
    title = f"{y_label} and {charts.in_sentence(x_label)}"
    values = frame[[x, y]].apply(pd.to_numeric, errors="coerce").astype(float)
    values = values[np.isfinite(values[x]) & np.isfinite(values[y])]
    n = len(values)
    sample = values
    if n > charts.MAX_SCATTER_POINTS:
        chosen = np.random.default_rng(charts.SAMPLE_SEED).choice(
            n, charts.MAX_SCATTER_POINTS, replace=False
        )
        sample = values.iloc[np.sort(chosen)]
    caption = (
        f"{y_label} against {charts.in_sentence(x_label)}, "
        f"{plural(association.n, 'pair')} of consecutive questionnaires"
    )
    if association.rho_interpretable:
        caption += f"; Spearman's rho = {charts._fixed(association.rho)}."
    elif association.rho is not None:
        caption += (
            f"; Spearman's rho = {charts._fixed(association.rho)}, {stats.TOO_FEW} "
            f"(fewer than {stats.MIN_PAIRS_CORRELATION} pairs)."
        )
    elif association.n < 3:
        caption += "; too few pairs for a correlation."
    else:
        caption += "; no correlation, as every value on one axis is the same."
    if len(sample) < n:
        caption += (
            f" The chart shows a random sample of {len(sample)} of the {n} pairs; "
            f"the statistics use all of them."
        )
    if 0 < n < stats.MIN_POINTS_LINE:
        caption += f" No fitted line: a line needs at least {stats.MIN_POINTS_LINE} pairs."
    caption += " " + charts.CAUSATION_CAUTION
    table = _reference_scatter_table(
        sample.sort_values(x, kind="stable"), x, y, x_label, y_label, n
    )
    if n == 0:
        message = "No pairs to compare yet: a client needs two questionnaires on different days."
        return charts._empty(key, title, caption, message, table)
    meta = [plotly_text(x_label), plotly_text(y_label)]
    traces = [
        {
            "type": "scatter",
            "mode": "markers",
            "name": "Pairs of questionnaires",
            "x": [number(v) for v in sample[x]],
            "y": [number(v) for v in sample[y]],
            "meta": meta,
            "marker": {"color": BLUE, "size": 6, "opacity": 0.8},
            "hovertemplate": "%{meta[0]}: %{x}<br>%{meta[1]}: %{y:.2f}<extra></extra>",
        }
    ]
    if association.line_drawn:
        ends = [float(values[x].min()), float(values[x].max())]
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
        yaxis=axis(
            title={"text": plotly_text(y_label, 48)}, zeroline=True, zerolinecolor=charts.GREY
        ),
    )
    return charts._chart(key, title, caption, {"data": traces, "layout": figure_layout}, table)


def _reference_scatter_table(sample, x, y, x_label, y_label, n):
    shown = sample.head(charts.MAX_TABLE_ROWS)
    whole = bool(np.all(np.mod(sample[x].to_numpy(), 1) == 0))
    rows = [
        (int(a) if whole else charts._fixed(a), charts._fixed(b))
        for a, b in zip(shown[x], shown[y], strict=True)
    ]
    if len(shown) < n:
        rows.append((f"{n - len(shown)} more pairs not listed", ""))
    return Table((x_label, y_label), tuple(rows))


def _same_chart(new: Chart, old: Chart) -> None:
    """Equal, and equal as JSON too (so -0.0 against 0.0 or an int against a float shows)."""
    assert new == old
    assert json.dumps(new.figure) == json.dumps(old.figure)
    assert repr(new.table) == repr(old.table)


# --- Generated cohorts --------------------------------------------------------------------------

scores = st.one_of(
    st.none(),
    st.just(math.nan),
    st.floats(0, 5, allow_nan=False),
    st.integers(0, 27),
)
administrations = st.lists(
    st.fixed_dictionaries(
        {
            "client_id": st.integers(1, 6),
            # 8 weeks before the start to 20 weeks after: every window and beyond
            "administered_on": st.integers(-60, 140).map(lambda d: START + dt.timedelta(days=d)),
            "total": scores,
            "total_method": st.sampled_from(["subscale_mean", "item_mean", "", None]),
            "subscales": st.dictionaries(st.sampled_from(CODES), scores, max_size=3),
        }
    ),
    max_size=40,
)
members = st.lists(st.integers(1, 8), max_size=10)
programmes = st.one_of(
    st.tuples(st.none(), st.none()),
    st.tuples(st.just(START), st.none()),
    st.tuples(st.none(), st.just(START)),
    # from a day (windows overlap, split at the midpoint) to a year
    st.integers(0, 365).map(lambda days: (START, START + dt.timedelta(days=days))),
)


@settings(max_examples=300, deadline=None)
@given(
    administrations,
    members,
    programmes,
    st.integers(0, 60),
    st.integers(0, 30),
    st.booleans(),
)
def test_pre_post_chooses_and_frames_exactly_as_the_pandas_version_did(
    rows, member_ids, dates, window_days, grace_days, as_frame
):
    starts_on, ends_on = dates
    given_rows = pd.DataFrame(rows) if as_frame and rows else rows
    new = stats.pre_post(given_rows, member_ids, starts_on, ends_on, window_days, grace_days)
    old = _reference_pre_post(given_rows, member_ids, starts_on, ends_on, window_days, grace_days)
    pd.testing.assert_frame_equal(new, old, check_exact=True)
    for column in ("pre_on", "post_on", "status"):
        assert [type(v) for v in new[column]] == [type(v) for v in old[column]]


@settings(max_examples=200, deadline=None)
@given(administrations, members, programmes, st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_cohort_outcomes_pair_count_and_judge_exactly_as_the_pandas_version_did(
    rows, member_ids, dates, confidence
):
    frame = stats.pre_post(rows, member_ids, *dates)
    scales = [stats.TOTAL, *CODES, "absent"]  # a scale nobody answered has no pairs
    new = stats.cohort_outcomes(frame, scales, _verdict, confidence)
    assert new == _reference_cohort_outcomes(frame, scales, _verdict, confidence)


numbers = st.one_of(
    st.none(),
    st.just(math.nan),
    st.just(math.inf),
    st.just(-0.0),
    st.integers(-30, 60),
    st.floats(-30, 60, allow_nan=False),
    st.sampled_from(["2.5", "not a number", True]),
)
trajectory_points = st.lists(
    st.fixed_dictionaries(
        {
            "client_code": st.one_of(
                st.sampled_from(["A-01", "A-02", "b-1", "Ä", "10"]), st.text()
            ),
            "weeks": numbers,
            "total": numbers,
        }
    ),
    max_size=60,
)
trajectory_pairs = st.lists(
    st.fixed_dictionaries(
        {
            "pre_weeks": st.floats(-8, 2, allow_nan=False),
            "pre_total": st.floats(1, 5, allow_nan=False),
            "post_weeks": st.floats(6, 30, allow_nan=False),
            "post_total": st.floats(1, 5, allow_nan=False),
        }
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(
    trajectory_points,
    trajectory_pairs,
    st.sampled_from(["SCS total", "<b>x</b>"]),
    st.integers(-1, 8),
)
def test_the_trajectories_chart_draws_and_tabulates_exactly_as_the_pandas_version_did(
    points, pairs, label, max_lines
):
    new = charts.trajectories_chart(points, pairs=pairs, label=label, max_lines=max_lines)
    old = _reference_trajectories_chart(points, pairs=pairs, label=label, max_lines=max_lines)
    _same_chart(new, old)


def test_the_trajectories_chart_stops_at_the_payload_bounds_as_the_pandas_version_did():
    # 300 clients of 40 points each: over MAX_POINTS, so lines stop early in both
    points = [
        {"client_code": f"C-{c:03d}", "weeks": w / 2, "total": 1 + (c * w % 40) / 10}
        for c in range(300)
        for w in range(40)
    ]
    new = charts.trajectories_chart(points, max_lines=300)
    _same_chart(new, _reference_trajectories_chart(points, max_lines=300))
    assert len(new.figure["data"]) < 300


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 1000),
    st.integers(0, 2**32 - 1),
    st.floats(0, 0.3),
    st.booleans(),
    st.sampled_from(["object", "float"]),
)
def test_the_dose_response_chart_samples_draws_and_tabulates_exactly_as_the_frame_version_did(
    size, seed, missing_share, whole_minutes, dtype
):
    """Frames of 0 to 1,000 intervals (over MAX_SCATTER_POINTS: sampled), with missing
    values, whole or fractional minutes, ties and negative zeros, numbers or objects."""
    rng = np.random.default_rng(seed)
    minutes = rng.integers(0, 120, size).astype(float)
    if not whole_minutes:
        minutes += rng.choice([0.0, 0.25, 0.5], size)
    change = rng.normal(0, 0.4, size).round(rng.integers(1, 4))
    change[rng.random(size) < 0.05] = -0.0
    minutes[rng.random(size) < missing_share] = np.nan
    change[rng.random(size) < missing_share] = np.nan
    frame = pd.DataFrame({"client_id": np.arange(size), "minutes": minutes, "change": change})
    if dtype == "object":  # None for missing, as values from rows would be
        frame = frame.astype(object).where(frame.notna(), None)
    association = stats.association(frame["minutes"], frame["change"])
    arguments = {
        "x": "minutes",
        "y": "change",
        "x_label": "Practice minutes",
        "y_label": "Change",
        "association": association,
    }
    new = charts.dose_response_chart(frame, **arguments)
    _same_chart(new, _reference_dose_response_chart(frame, **arguments))
