"""Pure aggregation for the tracking charts: plain rows in, small bounded DataFrames out.

No Django models, no request, no free text. The view layer fetches rows (``QuerySet.values()``
or SQL aggregates) and passes them here; :mod:`tracking.charts` turns the results into figures.

The chart pages read day rollups (tracking's ClientDay) and finish them with the day-row
functions (``*_from_days``, ``breakdown_from_count_rows``, ``scs_trend_from_rows``): plain
Python, the same DataFrames as the pandas ``*_from_buckets`` / ``breakdown_from_counts`` /
``scs_trend`` functions give for the same rows (tests/tracking/test_day_rows.py). The raw-row
functions (``weekly_entry_summary``, ``weekday_hour_heatmap``, ``trigger_breakdown``,
``pattern_breakdown``) are the reference: they carry the time-zone and DST tests, and
tests/tracking/test_rollups_match_pure.py checks the rollups against them on every database.

Input columns (every function accepts a DataFrame or an iterable of mappings; keys not listed
are dropped on the way in, so an entry's text, reframe or privacy flag never reaches an
aggregate, and a private entry counts exactly like any other):

entries (:func:`entries_frame`)
    ``occurred_at``      timezone-aware datetime (the database gives UTC)
    ``intensity``        int 0-10
    ``intensity_after``  int 0-10 or None; an entry *is reframed* when this is set
    ``trigger``          str or None: a trigger category name (clinic-defined, so free text:
                         :mod:`tracking.charts` escapes it)
    ``pattern``          str or None: ``self_judgment``, ``isolation`` or ``over_identification``

hourly buckets (:func:`buckets_frame`): entries pre-aggregated per local date and hour, by
:func:`hourly_buckets` or in SQL for very large histories (see :func:`hourly_buckets`)
    ``local_date``, ``hour`` (0-23), ``n``, ``sum_intensity``, ``n_reframed``,
    ``sum_intensity_reframed`` (intensity of the reframed entries), ``sum_intensity_after``

practice (:func:`practice_frame`): one row per session, or per day and type summed in SQL
    ``practised_on`` date (the client's local date), ``practice_type`` str, ``minutes`` int

scs (:func:`scs_frame`): Self-Compassion Scale subscale scores
    ``administered_on`` date, ``subscale`` str (code), ``score`` float

Dates and weeks: ``start`` and ``end`` are dates in the clinic's time zone, both inclusive, and
either may be None (then the data's first or last date is used). Datetimes are converted to
the clinic's zone (a :class:`zoneinfo.ZoneInfo`) before they are cut into days, so buckets are
right across daylight-saving changes. Weeks start on Monday and are labelled by that Monday.
Every week between the first and the last appears: counts as 0, means as NaN. At most
:data:`MAX_WEEKS` weeks are returned (the latest ones), so the output size never depends on the
number of entries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

MAX_WEEKS = 104
"""The longest weekly series returned (two years); a longer range keeps its latest weeks."""

MAX_CATEGORIES = 12
"""Named trigger categories shown one by one; the rest are summed into one "other" row."""

MAX_ASSESSMENTS = 60
"""SCS administrations kept per subscale (the latest ones)."""

PATTERNS = ("self_judgment", "isolation", "over_identification")
PRACTICE_TYPES = (
    "self_compassion_break",
    "hand_on_heart",
    "loving_kindness",
    "compassionate_friend",
    "journaling",
    "other",
)
SCS_SUBSCALES = (
    "self_kindness",
    "self_judgment",
    "common_humanity",
    "isolation",
    "mindfulness",
    "over_identification",
    "total",
)

ENTRY_COLUMNS = ("occurred_at", "intensity", "intensity_after", "trigger", "pattern")
BUCKET_COLUMNS = (
    "local_date",
    "hour",
    "n",
    "sum_intensity",
    "n_reframed",
    "sum_intensity_reframed",
    "sum_intensity_after",
)
PRACTICE_COLUMNS = ("practised_on", "practice_type", "minutes")
SCS_COLUMNS = ("administered_on", "subscale", "score")

WEEKLY_COLUMNS = (
    "week_start",
    "entries",
    "reframed",
    "share_reframed",
    "mean_intensity",
    "mean_before_reframe",
    "mean_after_reframe",
)
BREAKDOWN_COLUMNS = ("category", "n", "kind")

_BUCKET_SUMS = BUCKET_COLUMNS[2:]
_ONE_DAY = pd.Timedelta(days=1)

Rows = pd.DataFrame | Iterable[Mapping[str, Any]]


# --- Input frames -------------------------------------------------------------------------------


def _frame(rows: Rows, columns: tuple[str, ...]) -> pd.DataFrame:
    """Keep exactly ``columns`` (missing ones filled with None), dropping any other key."""
    df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame.from_records(list(rows))
    return pd.DataFrame({c: df[c] if c in df.columns else None for c in columns}, index=df.index)


def _within_pandas(value: Any) -> Any:
    """`value`, or None when pandas cannot hold it as a timestamp (before 1677 or after 2262)."""
    try:
        pd.Timestamp(value)
    except (pd.errors.OutOfBoundsDatetime, OverflowError):
        return None
    return value


def _days(values: pd.Series) -> pd.Series:
    """Dates (date objects, strings or datetimes) as midnight datetime64 values, no zone.

    A date pandas cannot hold (only a bad row stored before dates were checked has one)
    becomes NaT, and the input frames leave its row out: a page never fails on it."""
    try:
        days = pd.to_datetime(values)
    except (pd.errors.OutOfBoundsDatetime, OverflowError):
        days = pd.to_datetime(values.map(_within_pandas))
    if getattr(days.dt, "tz", None) is not None:
        raise ValueError(f"{values.name} must hold dates, not timezone-aware datetimes")
    days = days.dt.normalize()
    # pandas may hold far dates at a coarser resolution; nanoseconds cannot.
    far = days.notna() & ((days < pd.Timestamp.min) | (days > pd.Timestamp.max))
    return days.mask(far).astype("datetime64[ns]")


def _category_value(value: Any) -> str | None:
    """A category name as str, or None for a missing or blank value."""
    return None if value is None or value != value or str(value).strip() == "" else str(value)


def _category(values: pd.Series) -> pd.Series:
    """Category names as str, with None for missing or blank values."""
    return values.map(_category_value)


def entries_frame(rows: Rows) -> pd.DataFrame:
    """Inner-critic entries as a DataFrame with exactly :data:`ENTRY_COLUMNS`.

    ``occurred_at`` becomes a UTC datetime column (naive datetimes are refused: a wall-clock
    time without a zone cannot be put in the right day), intensities become floats (NaN for a
    missing ``intensity_after``), ``trigger`` and ``pattern`` str or None.
    """
    df = _frame(rows, ENTRY_COLUMNS)
    occurred = df["occurred_at"]
    if pd.api.types.is_datetime64_any_dtype(occurred):
        naive = occurred.dt.tz is None and len(occurred) > 0
    else:
        naive = any(isinstance(v, dt.datetime) and v.tzinfo is None for v in occurred)
    if naive:
        raise ValueError("occurred_at must be timezone-aware datetimes")
    return pd.DataFrame(
        {
            "occurred_at": pd.to_datetime(occurred, utc=True),
            "intensity": pd.to_numeric(df["intensity"], errors="raise").astype(float),
            "intensity_after": pd.to_numeric(df["intensity_after"], errors="raise").astype(float),
            "trigger": _category(df["trigger"]).astype(object),
            "pattern": _category(df["pattern"]).astype(object),
        },
        index=df.index,
    )


def buckets_frame(rows: Rows) -> pd.DataFrame:
    """Hourly buckets as a DataFrame with exactly :data:`BUCKET_COLUMNS` (missing sums are 0)."""
    df = _frame(rows, BUCKET_COLUMNS)
    out = pd.DataFrame({"local_date": _days(df["local_date"])}, index=df.index)
    out["hour"] = pd.to_numeric(df["hour"]).astype("int64")
    for column in _BUCKET_SUMS:
        out[column] = pd.to_numeric(df[column]).fillna(0).astype(float)
    if ((out["hour"] < 0) | (out["hour"] > 23)).any():
        raise ValueError("hour must be 0-23")
    return out[out["local_date"].notna()]


def practice_frame(rows: Rows) -> pd.DataFrame:
    """Practice sessions with exactly :data:`PRACTICE_COLUMNS`; unknown types become "other"."""
    df = _frame(rows, PRACTICE_COLUMNS)
    kind = df["practice_type"].map(lambda v: v if v in PRACTICE_TYPES else "other")
    return pd.DataFrame(
        {
            "practised_on": _days(df["practised_on"]),
            "practice_type": kind.astype(object),
            "minutes": pd.to_numeric(df["minutes"]).fillna(0).astype(float),
        },
        index=df.index,
    ).dropna(subset=["practised_on"])


def scs_frame(rows: Rows) -> pd.DataFrame:
    """SCS subscale scores with exactly :data:`SCS_COLUMNS`; rows without a score are dropped."""
    df = _frame(rows, SCS_COLUMNS)
    out = pd.DataFrame(
        {
            "administered_on": _days(df["administered_on"]),
            "subscale": _category(df["subscale"]).astype(object),
            "score": pd.to_numeric(df["score"]).astype(float),
        },
        index=df.index,
    )
    return out.dropna(subset=["administered_on", "subscale", "score"])


# --- Dates and weeks ------------------------------------------------------------------------------


def week_start(day: dt.date) -> dt.date:
    """The Monday of the week holding ``day``."""
    return day - dt.timedelta(days=day.weekday())


def _week_starts(days: pd.Series) -> pd.Series:
    return days - pd.to_timedelta(days.dt.day_of_week, unit="D")


def _within(days: pd.Series, start: dt.date | None, end: dt.date | None) -> pd.Series:
    keep = pd.Series(True, index=days.index)
    if start is not None:
        keep &= days >= pd.Timestamp(start)
    if end is not None:
        keep &= days <= pd.Timestamp(end)
    return keep


def week_range(
    start: dt.date | None, end: dt.date | None, days: pd.Series | None = None
) -> pd.DatetimeIndex:
    """The Mondays from ``start``'s week to ``end``'s week, at most :data:`MAX_WEEKS` (latest).

    A missing bound comes from ``days`` (the data's dates); with neither, the range is empty.
    """
    if start is not None and end is not None and start > end:
        raise ValueError(f"start {start} is after end {end}")
    observed = days.dropna() if days is not None else pd.Series(dtype="datetime64[ns]")
    first = pd.Timestamp(start) if start is not None else None
    last = pd.Timestamp(end) if end is not None else None
    if not observed.empty:
        first = observed.min() if first is None else first
        last = observed.max() if last is None else last
    first = first if first is not None else last
    last = last if last is not None else first
    if first is None:
        return pd.DatetimeIndex([], name="week_start")
    first_monday = first - pd.Timedelta(days=first.weekday())
    last_monday = last - pd.Timedelta(days=last.weekday())
    first_monday = max(first_monday, last_monday - pd.Timedelta(weeks=MAX_WEEKS - 1))
    return pd.date_range(first_monday, last_monday, freq="7D", name="week_start")


def _as_dates(index: pd.Index) -> list[dt.date]:
    return [ts.date() for ts in index]


# --- Inner-critic entries -------------------------------------------------------------------------


def hourly_buckets(
    entries: Rows,
    tz: ZoneInfo,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pd.DataFrame:
    """Entries counted and summed per local date and hour in ``tz`` (:data:`BUCKET_COLUMNS`).

    This is the one intermediate shape behind the weekly summary and the weekday x hour
    heatmap. For very large histories the view computes the same rows in SQL instead, e.g.::

        Entry.objects.filter(...).annotate(
            local_date=TruncDate("occurred_at", tzinfo=tz),
            hour=ExtractHour("occurred_at", tzinfo=tz),
        ).values("local_date", "hour").annotate(
            n=Count("pk"),
            sum_intensity=Sum("intensity"),
            n_reframed=Count("pk", filter=Q(intensity_after__isnull=False)),
            sum_intensity_reframed=Sum("intensity", filter=Q(intensity_after__isnull=False)),
            sum_intensity_after=Sum("intensity_after"),
        )

    and passes them to :func:`weekly_summary_from_buckets` and :func:`heatmap_from_buckets`:
    at most 24 rows per day, whatever the number of entries.
    """
    df = entries_frame(entries)
    wall = df["occurred_at"].dt.tz_convert(tz).dt.tz_localize(None)
    reframed = df["intensity_after"].notna()
    parts = pd.DataFrame(
        {
            "local_date": wall.dt.normalize().astype("datetime64[ns]"),
            "hour": wall.dt.hour.astype("int64"),
            "n": 1.0,
            "sum_intensity": df["intensity"],
            "n_reframed": reframed.astype(float),
            "sum_intensity_reframed": df["intensity"].where(reframed, 0.0),
            "sum_intensity_after": df["intensity_after"].fillna(0.0),
        }
    )
    parts = parts[_within(parts["local_date"], start, end)]
    buckets = parts.groupby(["local_date", "hour"], as_index=False, sort=True)[
        list(_BUCKET_SUMS)
    ].sum()
    return buckets_frame(buckets)


def _mean(total: pd.Series, count: pd.Series) -> pd.Series:
    return (total / count.where(count > 0)).astype(float)


def weekly_summary_from_buckets(
    buckets: Rows,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pd.DataFrame:
    """Weekly inner-critic summary from hourly buckets, one row per week (:data:`WEEKLY_COLUMNS`).

    ``week_start`` (date, Monday), ``entries`` and ``reframed`` (int, 0 in an empty week),
    ``share_reframed`` (reframed / entries, 0-1), ``mean_intensity`` (all entries),
    ``mean_before_reframe`` and ``mean_after_reframe`` (the reframed entries' intensity before
    and after); the shares and means are NaN in a week without the entries they average.
    """
    df = buckets_frame(buckets)
    df = df[_within(df["local_date"], start, end)]
    weeks = week_range(start, end, df["local_date"])
    sums = (
        df.assign(week_start=_week_starts(df["local_date"]))
        .groupby("week_start")[list(_BUCKET_SUMS)]
        .sum()
        .reindex(weeks, fill_value=0.0)
    )
    return pd.DataFrame(
        {
            "week_start": _as_dates(weeks),
            "entries": sums["n"].astype("int64").to_numpy(),
            "reframed": sums["n_reframed"].astype("int64").to_numpy(),
            "share_reframed": _mean(sums["n_reframed"], sums["n"]).to_numpy(),
            "mean_intensity": _mean(sums["sum_intensity"], sums["n"]).to_numpy(),
            "mean_before_reframe": _mean(
                sums["sum_intensity_reframed"], sums["n_reframed"]
            ).to_numpy(),
            "mean_after_reframe": _mean(sums["sum_intensity_after"], sums["n_reframed"]).to_numpy(),
        },
        columns=list(WEEKLY_COLUMNS),
    )


def weekly_entry_summary(
    entries: Rows,
    tz: ZoneInfo,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pd.DataFrame:
    """Weekly inner-critic summary from raw entries; see :func:`weekly_summary_from_buckets`."""
    return weekly_summary_from_buckets(hourly_buckets(entries, tz, start, end), start, end)


def heatmap_from_buckets(
    buckets: Rows,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pd.DataFrame:
    """Entry counts by local weekday (rows 0=Monday..6=Sunday) and hour (columns 0..23), 7x24."""
    df = buckets_frame(buckets)
    df = df[_within(df["local_date"], start, end)]
    counts = (
        df.assign(weekday=df["local_date"].dt.day_of_week)
        .pivot_table(index="weekday", columns="hour", values="n", aggfunc="sum", fill_value=0)
        .reindex(index=range(7), columns=range(24), fill_value=0)
    )
    counts.index.name, counts.columns.name = "weekday", "hour"
    return counts.astype("int64")


def weekday_hour_heatmap(
    entries: Rows,
    tz: ZoneInfo,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pd.DataFrame:
    """Entry counts by weekday and hour of day in ``tz``; see :func:`heatmap_from_buckets`."""
    return heatmap_from_buckets(hourly_buckets(entries, tz, start, end))


def breakdown_from_counts(
    counts: Rows,
    order: tuple[str, ...] = (),
    limit: int = MAX_CATEGORIES,
) -> pd.DataFrame:
    """Finish category counts (rows of ``category``, ``n``) into a bounded breakdown.

    Returns :data:`BREAKDOWN_COLUMNS`: ``kind`` is "named" for a category, "other" for the one
    row summing the named categories past ``limit``, "unrecorded" for entries without one
    (``category`` None). Categories in ``order`` come first in that order and always appear,
    even with 0; the rest follow by count, largest first. Rows with n == 0 outside ``order``
    are dropped. Suits counts from SQL (``values("trigger").annotate(n=Count("pk"))``) too.
    """
    df = _frame(counts, ("category", "n"))
    df = pd.DataFrame(
        {
            "category": _category(df["category"]).astype(object),
            "n": pd.to_numeric(df["n"]).fillna(0).astype("int64"),
        }
    )
    unrecorded = int(df.loc[df["category"].isna(), "n"].sum())
    totals = df.dropna(subset=["category"]).groupby("category")["n"].sum()
    fixed = [(name, int(totals.get(name, 0))) for name in order]
    rest = totals.drop(labels=[n for n in order if n in totals.index])
    rest = rest[rest > 0].reset_index().sort_values(["n", "category"], ascending=[False, True])
    named = fixed + list(zip(rest["category"], rest["n"].astype(int), strict=True))
    return _bounded_breakdown(named, len(fixed), limit, unrecorded)


def _bounded_breakdown(
    named: list[tuple[str, int]], fixed: int, limit: int, unrecorded: int
) -> pd.DataFrame:
    """The breakdown frame (:data:`BREAKDOWN_COLUMNS`) from the named categories in order
    (the first `fixed` always shown): at most `limit` of them (or `fixed`), one "other" row
    summing the rest, and the "unrecorded" count."""
    shown, hidden = named[: max(limit, fixed)], named[max(limit, fixed) :]
    rows = [(name, n, "named") for name, n in shown]
    if hidden:
        rows.append((None, sum(n for _, n in hidden), "other"))
    if unrecorded:
        rows.append((None, unrecorded, "unrecorded"))
    return pd.DataFrame(
        {
            "category": pd.Series([r[0] for r in rows], dtype=object),
            "n": pd.Series([r[1] for r in rows], dtype="int64"),
            "kind": pd.Series([r[2] for r in rows], dtype=object),
        }
    )


def _entries_in_range(
    entries: Rows, tz: ZoneInfo, start: dt.date | None, end: dt.date | None
) -> pd.DataFrame:
    df = entries_frame(entries)
    days = df["occurred_at"].dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()
    return df[_within(days, start, end)]


def _category_counts(values: pd.Series) -> pd.DataFrame:
    counts = values.value_counts(dropna=False)
    return pd.DataFrame({"category": list(counts.index), "n": counts.to_numpy()})


def trigger_breakdown(
    entries: Rows,
    tz: ZoneInfo,
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int = MAX_CATEGORIES,
) -> pd.DataFrame:
    """Entries per trigger category, largest first; see :func:`breakdown_from_counts`."""
    df = _entries_in_range(entries, tz, start, end)
    return breakdown_from_counts(_category_counts(df["trigger"]), limit=limit)


def pattern_breakdown(
    entries: Rows,
    tz: ZoneInfo,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pd.DataFrame:
    """Entries per pattern: the three :data:`PATTERNS` always (in that order), then any other."""
    df = _entries_in_range(entries, tz, start, end)
    return breakdown_from_counts(_category_counts(df["pattern"]), order=PATTERNS)


# --- Practice -------------------------------------------------------------------------------------


def practice_minutes_weekly(
    practice: Rows,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pd.DataFrame:
    """Practice minutes per week: ``week_start``, one column per type practised, ``total``.

    Type columns follow :data:`PRACTICE_TYPES` order and appear only for types with minutes in
    the range; values are int minutes, 0 in an empty week. ``practised_on`` is already a local
    date, so no time zone is needed.
    """
    df = practice_frame(practice)
    df = df[_within(df["practised_on"], start, end)]
    weeks = week_range(start, end, df["practised_on"])
    wide = (
        df.assign(week_start=_week_starts(df["practised_on"]))
        .pivot_table(
            index="week_start",
            columns="practice_type",
            values="minutes",
            aggfunc="sum",
            fill_value=0.0,
        )
        .reindex(weeks, fill_value=0.0)
    )
    types = [t for t in PRACTICE_TYPES if t in wide.columns and wide[t].sum() > 0]
    out = pd.DataFrame({"week_start": _as_dates(weeks)})
    for kind in types:
        out[kind] = np.rint(wide[kind].to_numpy()).astype("int64")
    out["total"] = out[types].sum(axis=1).astype("int64") if types else 0
    return out


# --- Self-Compassion Scale ------------------------------------------------------------------------


def scs_trend(
    scores: Rows,
    start: dt.date | None = None,
    end: dt.date | None = None,
    max_points: int = MAX_ASSESSMENTS,
) -> pd.DataFrame:
    """SCS scores as a tidy series: ``subscale``, ``administered_on`` (date), ``score``.

    One row per subscale and date (several administrations on one day are averaged), the
    latest ``max_points`` per subscale, subscales in :data:`SCS_SUBSCALES` order then any
    other code alphabetically, dates ascending. No scores (the assessments app not wired up
    yet) gives an empty frame with these columns.
    """
    df = scs_frame(scores)
    df = df[_within(df["administered_on"], start, end)]
    if df.empty:
        return pd.DataFrame(
            {
                "subscale": pd.Series(dtype=object),
                "administered_on": pd.Series(dtype=object),
                "score": pd.Series(dtype=float),
            }
        )
    daily = df.groupby(["subscale", "administered_on"], as_index=False)["score"].mean()
    daily = daily.groupby("subscale", group_keys=False).tail(max_points)
    rank = {code: i for i, code in enumerate(SCS_SUBSCALES)}
    daily["_rank"] = daily["subscale"].map(lambda c: rank.get(c, len(rank)))
    daily = daily.sort_values(["_rank", "subscale", "administered_on"], kind="stable")
    return pd.DataFrame(
        {
            "subscale": daily["subscale"].to_numpy(dtype=object),
            "administered_on": [ts.date() for ts in daily["administered_on"]],
            "score": daily["score"].to_numpy(dtype=float),
        }
    )


# --- Day rows: the chart pages' path, in plain Python -------------------------------------------
#
# The chart pages read one row a day (tracking's ClientDay rollups, dates already local) and a
# handful of categories: at most MAX_WEEKS weeks, 7 x 24 cells. On inputs that small pandas'
# groupby, pivot_table and reindex cost far more than the sums, so these functions add up in
# plain Python and build each DataFrame once. Each returns exactly what its reference above
# returns for the same rows (columns, dtypes, index, NaN); tests/tracking/test_day_rows.py
# checks that on generated rows. ``start`` and ``end`` are required dates here.

DAY_SUMS = ("entries", "intensity_sum", "reframed", "reframed_intensity_sum", "intensity_after_sum")
"""A day row's int sums after its date, as :func:`weekly_summary_from_days` reads them."""


def _mondays(start: dt.date, end: dt.date) -> list[dt.date]:
    """:func:`week_range` for two dates, as dates."""
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    last_monday = week_start(end)
    first_monday = max(week_start(start), last_monday - dt.timedelta(weeks=MAX_WEEKS - 1))
    weeks = (last_monday - first_monday).days // 7 + 1
    return [first_monday + dt.timedelta(weeks=week) for week in range(weeks)]


def _week_of(day: dt.date, start: dt.date, end: dt.date, first_monday: dt.date) -> int | None:
    """The index of ``day``'s week in the range, or None when the day falls outside it."""
    if day < start or day > end:
        return None
    week = (day - first_monday).days // 7
    return week if week >= 0 else None


def _ratio(total: np.ndarray, count: np.ndarray) -> np.ndarray:
    """total / count, NaN where count is not positive (as :func:`_mean`)."""
    return total / np.where(count > 0, count, np.nan)


def weekly_summary_from_days(
    days: Iterable[tuple[dt.date, int, int, int, int, int]], start: dt.date, end: dt.date
) -> pd.DataFrame:
    """:func:`weekly_summary_from_buckets` for day rows: (date, *:data:`DAY_SUMS`) tuples, one
    bucket a day; a day without entries counts for nothing."""
    weeks = _mondays(start, end)
    n, intensity, reframed, before, after = ([0] * len(weeks) for _ in DAY_SUMS)
    for day, entries, intensity_sum, reframed_n, reframed_sum, after_sum in days:
        if not entries or (week := _week_of(day, start, end, weeks[0])) is None:
            continue
        n[week] += entries
        intensity[week] += intensity_sum
        reframed[week] += reframed_n
        before[week] += reframed_sum
        after[week] += after_sum
    n, intensity, reframed, before, after = (
        np.array(sums, dtype=float) for sums in (n, intensity, reframed, before, after)
    )
    return pd.DataFrame(
        {
            "week_start": weeks,
            "entries": n.astype("int64"),
            "reframed": reframed.astype("int64"),
            "share_reframed": _ratio(reframed, n),
            "mean_intensity": _ratio(intensity, n),
            "mean_before_reframe": _ratio(before, reframed),
            "mean_after_reframe": _ratio(after, reframed),
        },
        columns=list(WEEKLY_COLUMNS),
    )


def heatmap_from_days(
    days: Iterable[tuple[dt.date, Sequence[int]]], start: dt.date, end: dt.date
) -> pd.DataFrame:
    """:func:`heatmap_from_buckets` for day rows: (date, entry counts per local hour 0..23)."""
    cells = [[0] * 24 for _ in range(7)]
    for day, hours in days:
        if len(hours) > 24 and any(hours[24:]):
            raise ValueError("hour must be 0-23")
        if day < start or day > end:
            continue
        weekday = cells[day.weekday()]
        for hour, n in enumerate(hours[:24]):
            if n:
                weekday[hour] += n
    return pd.DataFrame(
        np.array(cells, dtype="int64"),
        index=pd.RangeIndex(7, name="weekday"),
        columns=pd.RangeIndex(24, name="hour"),
    )


def practice_minutes_from_days(
    days: Iterable[tuple[dt.date, Mapping[str, Sequence[int]]]], start: dt.date, end: dt.date
) -> pd.DataFrame:
    """:func:`practice_minutes_weekly` for day rows: (date, {practice type: [minutes,
    sessions]}); an unknown type counts as "other"."""
    weeks = _mondays(start, end)
    minutes: dict[str, list[float]] = {}
    for day, types in days:
        if (week := _week_of(day, start, end, weeks[0])) is None:
            continue
        for kind, (spent, _) in types.items():
            column = minutes.setdefault(
                kind if kind in PRACTICE_TYPES else "other", [0.0] * len(weeks)
            )
            column[week] += spent if spent is not None else 0
    wide = {
        kind: np.rint(np.array(minutes[kind], dtype=float)).astype("int64")
        for kind in PRACTICE_TYPES
        if kind in minutes and sum(minutes[kind]) > 0
    }
    total = sum(wide.values()) if wide else np.zeros(len(weeks), dtype="int64")
    return pd.DataFrame({"week_start": weeks, **wide, "total": total})


def breakdown_from_count_rows(
    counts: Iterable[Mapping[str, Any]],
    order: tuple[str, ...] = (),
    limit: int = MAX_CATEGORIES,
) -> pd.DataFrame:
    """:func:`breakdown_from_counts` for rows of ``category`` and int ``n`` (mappings)."""
    unrecorded = 0
    totals: dict[str, int] = {}
    for row in counts:
        category, n = _category_value(row.get("category")), row.get("n")
        n = 0 if n is None or n != n else int(n)
        if category is None:
            unrecorded += n
        else:
            totals[category] = totals.get(category, 0) + n
    fixed = [(name, totals.get(name, 0)) for name in order]
    rest = sorted(
        ((name, n) for name, n in totals.items() if name not in order and n > 0),
        key=lambda item: (-item[1], item[0]),
    )
    named = fixed + rest
    return _bounded_breakdown(named, len(fixed), limit, unrecorded)


def scs_trend_from_rows(
    scores: Iterable[Mapping[str, Any]], start: dt.date, end: dt.date
) -> pd.DataFrame:
    """:func:`scs_trend` for rows of ``administered_on`` (date), ``subscale`` and ``score``
    (number or None), keeping the latest :data:`MAX_ASSESSMENTS` per subscale.

    The mean of one or two scores of a day is the same float however it is summed; for more
    (rare: three administrations on one day) pandas' summation order decides the last bit, so
    those rows go to :func:`scs_trend` itself."""
    scores = list(scores)
    daily: dict[str, dict[dt.date, list[float]]] = {}
    for row in scores:
        on, subscale, score = row.get("administered_on"), row.get("subscale"), row.get("score")
        subscale = _category_value(subscale)
        if on is None or subscale is None or score is None or score != score:
            continue
        if start <= on <= end:
            daily.setdefault(subscale, {}).setdefault(on, []).append(float(score))
    if not daily:
        return pd.DataFrame(
            {
                "subscale": pd.Series(dtype=object),
                "administered_on": pd.Series(dtype=object),
                "score": pd.Series(dtype=float),
            }
        )
    if any(len(day) > 2 for days in daily.values() for day in days.values()):
        return scs_trend(scores, start, end)
    rank = {code: i for i, code in enumerate(SCS_SUBSCALES)}
    subscales, dates, means = [], [], []
    for subscale in sorted(daily, key=lambda code: (rank.get(code, len(rank)), code)):
        for on in sorted(daily[subscale])[-MAX_ASSESSMENTS:]:
            subscales.append(subscale)
            dates.append(on)
            means.append(sum(daily[subscale][on]) / len(daily[subscale][on]))
    return pd.DataFrame(
        {
            "subscale": np.array(subscales, dtype=object),
            "administered_on": dates,
            "score": np.array(means, dtype=float),
        }
    )


# --- The trend of the weekly mean intensity (the dashboard's "rising intensity" flag) ----------

RISING_WEEKS = range(3, 13)
"""The window lengths (weeks) a clinic may choose for the rising-intensity flag."""
RISING_DAYS = 7 * max(RISING_WEEKS)
"""The days rising_slopes reads: the longest window's weeks, up to the latest entry."""


def least_squares(xs: np.ndarray, ys: np.ndarray) -> tuple[float, float] | None:
    """(slope, intercept) of the ordinary least-squares line y = intercept + slope * x over
    finite arrays of equal length; None below 2 points or when every x is the same."""
    if len(xs) < 2:
        return None
    dx = xs - xs.mean()
    sxx = float(dx @ dx)
    if sxx == 0:
        return None
    slope = float(dx @ (ys - ys.mean())) / sxx
    return slope, float(ys.mean() - slope * xs.mean())


def window_means(
    daily: Mapping[dt.date, tuple[int, float]], through: dt.date, weeks: int
) -> list[float | None]:
    """Mean intensity in each of `weeks` seven-day windows ending on `through`, oldest first
    (None for a window without entries). `daily` maps a clinic-local day to (entries, sum).
    One pass over `daily` (every new entry runs this, for the latest 84 days)."""
    entries = [0] * weeks
    totals = [0.0] * weeks
    span = 7 * weeks
    for day, (n, total) in daily.items():
        back = (through - day).days
        if 0 <= back < span:
            window = weeks - 1 - back // 7
            entries[window] += n
            totals[window] += total
    return [total / n if n else None for n, total in zip(entries, totals, strict=True)]


def _slope_of(means: list[float | None], weeks: int) -> float | None:
    """The least-squares slope over the windows with a mean, in plain Python: at most twelve
    points, for which numpy's arrays cost more than the arithmetic (every new entry fits ten)."""
    points = [(index, mean) for index, mean in enumerate(means) if mean is not None]
    if len(points) < max(weeks - 1, 2):
        return None
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx


def rising_slope(
    daily: Mapping[dt.date, tuple[int, float]], through: dt.date | None, weeks: int
) -> float | None:
    """The least-squares trend (points a week) of the window means up to `through`, over the
    windows with entries; None when more than one window is empty."""
    if through is None:
        return None
    return _slope_of(window_means(daily, through, weeks), weeks)


def rising_slopes(
    daily: Mapping[dt.date, tuple[int, float]], through: dt.date | None
) -> dict[str, float | None]:
    """:func:`rising_slope` for every window length in :data:`RISING_WEEKS`, keyed by
    :func:`rising_key` (ClientActivity's column for it). The weekly means are worked out once,
    for the longest window: every shorter window is its latest weeks (a client's every entry
    pays for this)."""
    if through is None:
        return {rising_key(weeks): None for weeks in RISING_WEEKS}
    means = window_means(daily, through, max(RISING_WEEKS))
    return {rising_key(weeks): _slope_of(means[-weeks:], weeks) for weeks in RISING_WEEKS}


def rising_key(weeks: int) -> str:
    """ClientActivity's column for the slope over a window length: "rising_w4"."""
    return f"rising_w{weeks}"


RISING_COLUMNS = tuple(rising_key(weeks) for weeks in RISING_WEEKS)
