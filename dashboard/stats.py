"""Pure statistics for the cohort dashboard: plain data in, plain data out.

No Django models, no request. The view layer fetches rows (``QuerySet.values()``) and passes
them here; :mod:`dashboard.charts` turns the results into figures. Every function states its
formula in its docstring, and tests/dashboard/test_stats.py checks each one against numbers
worked out by hand.

Inputs
------
administrations (one instrument, e.g. the SCS; any order), one mapping per questionnaire:
    ``client_id``        int
    ``administered_on``  date (the client's local day)
    ``total``            float or None (None when the total could not be scored)
    ``total_method``     str: how the total was computed (``subscale_mean`` or ``item_mean``
                         for the SCS). Totals by different methods are never compared: their
                         change is missing, not a number. A blank method matches a blank one.
    ``subscales``        mapping of subscale code to float or None

The dose between consecutive questionnaires is not computed here: assessments keeps it on
write (assessments.projections, ScoreInterval), and :func:`association` relates its columns.

Missing values are never dropped silently: :func:`paired_change` refuses them (the caller drops
incomplete pairs and counts them), :func:`association` reports how many pairs it used, and
:func:`cohort_outcomes` reports how many members had no usable pair.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from assessments.reliable_change import DETERIORATED, IMPROVED, NO_RELIABLE_CHANGE
from tracking import analysis

Rows = pd.DataFrame | Iterable[Mapping[str, Any]]

TOTAL = "total"
DOSE_COLUMNS = ("minutes", "reframes", "minutes_per_week")
PRE_POST_COLUMNS = (
    "client_id",
    "pre_on",
    "post_on",
    "pre_total",
    "post_total",
    "total_comparable",
)
PAIRED = "paired"
MISSING_PRE = "missing pre"
MISSING_POST = "missing post"
MISSING_BOTH = "missing both"
STATUSES = (PAIRED, MISSING_PRE, MISSING_POST, MISSING_BOTH)

_RELATIVE_ZERO = 1e-12
"""An SD this small relative to the data's magnitude is rounding noise: treated as 0."""

# --- What a small sample can say ------------------------------------------------------------
# Below these sizes a number is still computed and shown (greyed, "too few to interpret"), but
# not offered as a finding: with 3 pairs a d_z of 2 or a rho of -1.00 is mostly chance, and a
# least-squares line through 3 points is drawn by any one of them.
MIN_PAIRS_EFFECT_SIZE = 10
"""Pairs needed before Cohen's d_z is interpreted."""
MIN_PAIRS_CORRELATION = 10
"""Pairs needed before Spearman's rho is interpreted."""
MIN_POINTS_LINE = 5
"""Points needed before a fitted (least-squares) line is drawn."""
TOO_FEW = "too few to interpret"
THRESHOLDS_TEXT = (
    f"An effect size or a correlation needs at least {MIN_PAIRS_EFFECT_SIZE} pairs and a fitted "
    f"line at least {MIN_POINTS_LINE} points: below that the number is greyed and marked "
    f'"{TOO_FEW}", and no line is drawn.'
)


# --- Paired change ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairedChange:
    """Mean change from pre to post over ``n`` complete pairs (change = post - pre).

    Fields are None when they cannot be computed: everything but ``n`` and ``confidence`` for
    n = 0; the SD, the interval and d_z for n = 1; d_z when every change is the same.
    """

    n: int
    pre_mean: float | None
    post_mean: float | None
    mean_change: float | None
    sd_change: float | None
    ci_low: float | None
    ci_high: float | None
    cohens_dz: float | None
    confidence: float

    @property
    def dz_interpretable(self) -> bool:
        """d_z is offered as a finding only from MIN_PAIRS_EFFECT_SIZE pairs on."""
        return self.cohens_dz is not None and self.n >= MIN_PAIRS_EFFECT_SIZE


def paired_change(
    pre: Sequence[float], post: Sequence[float], confidence: float = 0.95
) -> PairedChange:
    """Mean change with its t confidence interval and Cohen's d_z.

    With d_i = post_i - pre_i for the n pairs:

        mean_change = sum(d_i) / n
        sd_change   = sqrt(sum((d_i - mean_change)^2) / (n - 1))        (sample SD, ddof = 1)
        CI          = mean_change +/- t_{(1 + confidence) / 2, n - 1} * sd_change / sqrt(n)
        d_z         = mean_change / sd_change

    d_z is Cohen's d for paired data: the mean change standardised by the SD of the *changes*,
    not by the pooled SD of the pre and post scores (d_av), so it is usually larger than d_av
    when pre and post scores are correlated; the two are not interchangeable.

    n = 0: every statistic is None. n = 1: the means and the change, but no SD, interval or
    d_z. When every change is the same (sd_change = 0, or below 1e-12 of the data's magnitude,
    which is floating-point noise) the interval is the single value mean_change and d_z is None.

    Raises ValueError when the lengths differ, a value is None or NaN (drop incomplete pairs
    first and report how many), or ``confidence`` is not strictly between 0 and 1.
    """
    if len(pre) != len(post):
        raise ValueError(f"pre and post differ in length: {len(pre)} and {len(post)}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence!r}")
    before, after = _finite(pre, "pre"), _finite(post, "post")
    n = len(before)
    if n == 0:
        return PairedChange(0, None, None, None, None, None, None, None, confidence)
    change = after - before
    mean_change = float(change.mean())
    pre_mean, post_mean = float(before.mean()), float(after.mean())
    if n == 1:
        return PairedChange(1, pre_mean, post_mean, mean_change, None, None, None, None, confidence)
    sd = float(change.std(ddof=1))
    scale = max(1.0, float(np.abs(before).max()), float(np.abs(after).max()))
    if sd <= _RELATIVE_ZERO * scale:
        return PairedChange(
            n, pre_mean, post_mean, mean_change, 0.0, mean_change, mean_change, None, confidence
        )
    half_width = _t_quantile((1 + confidence) / 2, n - 1) * sd / math.sqrt(n)
    return PairedChange(
        n=n,
        pre_mean=pre_mean,
        post_mean=post_mean,
        mean_change=mean_change,
        sd_change=sd,
        ci_low=mean_change - half_width,
        ci_high=mean_change + half_width,
        cohens_dz=mean_change / sd,
        confidence=confidence,
    )


@functools.lru_cache(maxsize=256)
def _t_quantile(q: float, df: int) -> float:
    """Student's t quantile (scipy's), kept: a page asks for the same few again and again."""
    return float(scipy_stats.t.ppf(q, df))


def _finite(values: Sequence[float], name: str) -> np.ndarray:
    """``values`` as a float array; ValueError on None, NaN or infinity."""
    numeric = isinstance(values, np.ndarray) and values.dtype.kind in "fiu"
    if not numeric and any(v is None for v in values):  # a float array holds no None
        raise ValueError(f"{name} holds a missing value: drop incomplete pairs first")
    array = np.asarray(values, dtype=float)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds NaN or infinity: drop incomplete pairs first")
    return array


# --- Reliable-change verdicts ---------------------------------------------------------------------


@dataclass(frozen=True)
class VerdictCounts:
    """How many clients improved, did not change reliably, deteriorated, or got no verdict."""

    improved: int = 0
    unchanged: int = 0
    deteriorated: int = 0
    no_verdict: int = 0

    @property
    def with_verdict(self) -> int:
        """improved + unchanged + deteriorated."""
        return self.improved + self.unchanged + self.deteriorated

    @property
    def total(self) -> int:
        """Every client counted: with_verdict + no_verdict."""
        return self.with_verdict + self.no_verdict

    def percent(self, kind: str) -> float | None:
        """100 * count(kind) / with_verdict: the share among clients *with* a verdict.

        ``kind`` is "improved", "unchanged" or "deteriorated"; None when nobody has a verdict.
        """
        if kind not in ("improved", "unchanged", "deteriorated"):
            raise ValueError(f"unknown verdict kind {kind!r}")
        if self.with_verdict == 0:
            return None
        return 100 * getattr(self, kind) / self.with_verdict


def count_verdicts(verdicts: Iterable[str | None]) -> VerdictCounts:
    """Count Jacobson & Truax verdicts (assessments.reliable_change).

    IMPROVED -> improved, NO_RELIABLE_CHANGE -> unchanged, DETERIORATED -> deteriorated;
    anything else ("not enough data", "not interpretable alone", None) -> no_verdict.
    """
    counts = {"improved": 0, "unchanged": 0, "deteriorated": 0, "no_verdict": 0}
    kinds = {IMPROVED: "improved", NO_RELIABLE_CHANGE: "unchanged", DETERIORATED: "deteriorated"}
    for verdict in verdicts:
        counts[kinds.get(verdict, "no_verdict")] += 1
    return VerdictCounts(**counts)


# --- Association --------------------------------------------------------------------------------


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's rho: the Pearson correlation of the average ranks of x and of y.

    Ranks run 1..n; tied values share the mean of the ranks they span (1, 2.5, 2.5, 4). With
    rank vectors r and s:

        rho = sum((r_i - mean r)(s_i - mean s)) / sqrt(sum((r_i - mean r)^2) sum((s_i - mean s)^2))

    (the shortcut 1 - 6 sum(d^2) / (n(n^2 - 1)) is only right without ties, so it is not used).
    None when n < 3 or either side is constant. Values must be finite numbers of equal count
    (ValueError otherwise): :func:`association` drops incomplete pairs first.
    """
    xs, ys = _pair_arrays(x, y)
    if len(xs) < 3:
        return None
    return _pearson(average_ranks(xs), average_ranks(ys))


def average_ranks(values: np.ndarray) -> np.ndarray:
    """The ranks 1..n of values, ties sharing the mean of the ranks they span: the numbers of
    ``scipy.stats.rankdata(values)`` (method "average"). A missing value (NaN) has no rank:
    ValueError (the callers drop incomplete pairs first).

    Each distinct value is found by hashing (``pandas.factorize``, sorted) rather than by
    sorting all n values: questionnaire changes and practice minutes take few distinct values
    (a whole clinic's 190,000 intervals hold at most about a thousand per column), and only
    those are sorted. Measured on that clinic's dose-response, its statistics took 67 ms
    instead of 171 ms with rankdata. A distinct value seen ``count`` times after ``before``
    smaller ones spans the ranks before + 1 .. before + count, whose mean is
    before + (count + 1) / 2."""
    codes, distinct = pd.factorize(values, sort=True)
    if (codes < 0).any():
        raise ValueError("average_ranks cannot rank a missing value (NaN)")
    counts = np.bincount(codes, minlength=len(distinct))
    return (np.cumsum(counts) - (counts - 1) / 2.0)[codes]


def _pearson(a: np.ndarray, b: np.ndarray) -> float | None:
    da, db = a - a.mean(), b - b.mean()
    saa, sbb = float(da @ da), float(db @ db)
    if saa == 0 or sbb == 0:
        return None
    return float(np.clip(float(da @ db) / math.sqrt(saa * sbb), -1.0, 1.0))


def least_squares(x: Sequence[float], y: Sequence[float]) -> tuple[float, float] | None:
    """(slope, intercept) of the ordinary least-squares line y = intercept + slope * x.

        slope     = sum((x_i - mean x)(y_i - mean y)) / sum((x_i - mean x)^2)
        intercept = mean y - slope * mean x

    None when n < 2 or every x is the same. Values must be finite (ValueError otherwise).
    """
    return analysis.least_squares(*_pair_arrays(x, y))


def _pair_arrays(x: Sequence[float], y: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    if len(x) != len(y):
        raise ValueError(f"x and y differ in length: {len(x)} and {len(y)}")
    return _finite(x, "x"), _finite(y, "y")


@dataclass(frozen=True)
class Association:
    """Spearman's rho and the least-squares line over the ``n`` complete pairs."""

    n: int
    rho: float | None
    slope: float | None
    intercept: float | None

    @property
    def rho_interpretable(self) -> bool:
        """rho is offered as a finding only from MIN_PAIRS_CORRELATION pairs on."""
        return self.rho is not None and self.n >= MIN_PAIRS_CORRELATION

    @property
    def line_drawn(self) -> bool:
        """A fitted line is drawn only through MIN_POINTS_LINE points or more."""
        return self.slope is not None and self.intercept is not None and self.n >= MIN_POINTS_LINE


def _numbers(values: Iterable[float | None]) -> np.ndarray:
    """Values as floats, None as NaN. A numeric array or Series (a whole clinic's 190,000
    intervals) is taken as it is; anything else goes value by value, and a value that is not a
    number raises."""
    if isinstance(values, (np.ndarray, pd.Series)) and values.dtype.kind in "fiu":
        return np.asarray(values, dtype=float)
    return (
        pd.to_numeric(pd.Series(list(values), dtype=object), errors="raise")
        .astype(float)
        .to_numpy()
    )


def association(x: Iterable[float | None], y: Iterable[float | None]) -> Association:
    """:func:`spearman` and :func:`least_squares` on the pairs where both values are present.

    A pair with None or NaN on either side is dropped first; ``n`` counts the pairs used, so
    the caller can report how many were left out. rho is None below 3 usable pairs or with a
    constant side; slope and intercept are None below 2 pairs or with a constant x.
    """
    return associations(x, {"y": y})["y"]


def associations(
    x: Iterable[float | None], ys: dict[str, Iterable[float | None]]
) -> dict[str, Association]:
    """:func:`association` of x with each of ``ys``, by name. x is ranked once for every y
    whose complete pairs are the same rows (the whole clinic's dose-response relates one
    practice column of 190,000 intervals to seven changes): the same numbers as association
    one by one, with fewer sorts."""
    xs = _numbers(x)
    x_finite = np.isfinite(xs)
    x_ranks: dict[bytes, np.ndarray] = {}
    results = {}
    for name, y in ys.items():
        yall = _numbers(y)
        if len(xs) != len(yall):
            raise ValueError(f"x and y differ in length: {len(xs)} and {len(yall)}")
        keep = x_finite & np.isfinite(yall)
        xv, yv = xs[keep], yall[keep]
        fit = least_squares(xv, yv)
        rho = None
        if len(xv) >= 3:
            key = keep.tobytes()
            if key not in x_ranks:
                x_ranks[key] = average_ranks(xv)
            rho = _pearson(x_ranks[key], average_ranks(yv))
        results[name] = Association(
            n=len(xv),
            rho=rho,
            slope=None if fit is None else fit[0],
            intercept=None if fit is None else fit[1],
        )
    return results


# --- Administrations ----------------------------------------------------------------------------


class _Administration(NamedTuple):
    """One administration as :func:`pre_post` chooses among them: its client, date, day number
    (date.toordinal), input position (which breaks ties between administrations on the same
    day: the one given later counts as later) and the row itself, whose scores are read only
    if it is chosen."""

    client_id: int
    administered_on: dt.date
    day: int
    order: int
    row: Mapping[str, Any]


_BY_CLIENT_DAY_ORDER = operator.attrgetter("client_id", "day", "order")


def _administrations(rows: Rows) -> tuple[list[_Administration], list[str]]:
    """The administrations sorted by client, day and input order, and the subscale codes seen,
    in order of first appearance."""
    records = rows.to_dict("records") if isinstance(rows, pd.DataFrame) else list(rows)
    codes: dict[str, None] = {}
    seen: set[tuple[str, ...]] = set()  # subscale keys, for codes: rows mostly share them
    administrations = []
    for order, record in enumerate(records):
        keys = tuple(record.get("subscales") or ())
        if keys not in seen:
            seen.add(keys)
            codes.update(dict.fromkeys(keys))
        day = _as_date(record["administered_on"])
        administrations.append(
            _Administration(int(record["client_id"]), day, day.toordinal(), order, record)
        )
    administrations.sort(key=_BY_CLIENT_DAY_ORDER)
    return administrations, list(codes)


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ValueError("administered_on must be a date, not a datetime")
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _method(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


# --- Cohort pre/post ----------------------------------------------------------------------------


WINDOW_DAYS = 42
"""pre_post's default reach of the pre window before a programme's start, and of the post
window after its end."""
GRACE_DAYS = 14
"""pre_post's default reach of the pre window after the start, and of the post before the end."""


def pre_post(
    administrations: Rows,
    members: Iterable[int],
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    window_days: int = WINDOW_DAYS,
    grace_days: int = GRACE_DAYS,
) -> pd.DataFrame:
    """Each member's questionnaire before and after the programme.

    How the before (pre) and after (post) questionnaires are chosen:

    - With a start and an end date, the pre questionnaire is the latest one from
      ``window_days`` days before the start to ``grace_days`` days after it; the post
      questionnaire is the earliest one from ``grace_days`` days before the end to
      ``window_days`` days after it, and on a later day than the pre questionnaire.
      (Defaults: from 6 weeks before to 2 weeks after the start; from 2 weeks before to 6
      weeks after the end.) If the programme is so short that the two windows overlap, they
      are split at its midpoint: the pre window ends on the middle day and the post window
      starts the day after, so one questionnaire cannot be both.
    - Without a start or an end date, the pre questionnaire is the member's first one and the
      post questionnaire their last one, if it is on a later day.
    - Two questionnaires on the same day count in the order they were given.

    One row per member, in the order given (members without any questionnaire too). Columns:
    client_id, pre_on, post_on (dates or None), pre_total, post_total (NaN when missing),
    total_comparable (both totals present and computed the same way), ``pre_<code>`` and
    ``post_<code>`` per subscale seen, and status: "paired", "missing pre", "missing post" or
    "missing both".

    A cohort is a few dozen members: each member's pair is chosen in plain Python and the frame
    is built once (pandas' groupby and reindex cost far more than the choice on inputs this
    small).
    """
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        raise ValueError(f"the programme ends ({ends_on}) before it starts ({starts_on})")
    if window_days < 0 or grace_days < 0:
        raise ValueError("window_days and grace_days must not be negative")
    member_ids = list(dict.fromkeys(int(m) for m in members))
    administrations, codes = _administrations(administrations)
    by_client: dict[int, list[_Administration]] = {pk: [] for pk in member_ids}
    for administration in administrations:
        if administration.client_id in by_client:
            by_client[administration.client_id].append(administration)
    windows = None
    if starts_on is not None and ends_on is not None:
        windows = _windows(starts_on, ends_on, window_days, grace_days)
    chosen = [_pre_and_post(by_client[pk], windows) for pk in member_ids]
    pre = [_scores(a.row, codes) if a else None for a, _ in chosen]
    post = [_scores(a.row, codes) if a else None for _, a in chosen]
    columns: dict[str, Any] = {
        "client_id": np.array(member_ids, dtype="int64"),
        "pre_on": _dates([a for a, _ in chosen]),
        "post_on": _dates([a for _, a in chosen]),
        "pre_total": _column(pre, 0),
        "post_total": _column(post, 0),
        "total_comparable": np.array(
            [
                before is not None
                and after is not None
                and not math.isnan(before[0])
                and not math.isnan(after[0])
                and before[1] == after[1]
                for before, after in zip(pre, post, strict=True)
            ],
            dtype=bool,
        ),
    }
    for i, code in enumerate(codes, start=2):
        columns[f"pre_{code}"] = _column(pre, i)
        columns[f"post_{code}"] = _column(post, i)
    columns["status"] = pd.Series([_status(a, b) for a, b in chosen], dtype=object)
    return pd.DataFrame(columns)


def _scores(row: Mapping[str, Any], codes: list[str]) -> tuple[Any, ...]:
    """(total, total_method, *subscale scores in the order of ``codes``) of a chosen row: the
    scores as floats (NaN when missing), the method as str ("" when missing)."""
    subscales = row.get("subscales") or {}
    return (
        _float(row.get("total")),
        _method(row.get("total_method")),
        *(_float(subscales.get(code)) for code in codes),
    )


def _dates(chosen: list[_Administration | None]) -> np.ndarray:
    return np.array([a.administered_on if a else None for a in chosen], dtype=object)


def _column(scores: list[tuple[Any, ...] | None], i: int) -> np.ndarray:
    return np.array([math.nan if s is None else s[i] for s in scores], dtype=float)


def _pre_and_post(
    administrations: list[_Administration], windows: tuple[int, int, int, int] | None
) -> tuple[_Administration | None, _Administration | None]:
    """One member's (pre, post) among their administrations (sorted), None where missing."""
    if not administrations:
        return None, None
    if windows is None:
        first, last = administrations[0], administrations[-1]
        return first, (last if last.day > first.day else None)
    pre_from, pre_to, post_from, post_to = windows
    pre = None
    for administration in administrations:
        if pre_from <= administration.day <= pre_to:
            pre = administration
    for administration in administrations:
        if post_from <= administration.day <= post_to and (
            pre is None or administration.day > pre.day
        ):
            return pre, administration
    return pre, None


def _status(pre: _Administration | None, post: _Administration | None) -> str:
    if pre is not None and post is not None:
        return PAIRED
    if post is not None:
        return MISSING_PRE
    return MISSING_BOTH if pre is None else MISSING_POST


def _windows(
    starts_on: dt.date, ends_on: dt.date, window_days: int, grace_days: int
) -> tuple[int, int, int, int]:
    """Day numbers (pre_from, pre_to, post_from, post_to), split at the midpoint on overlap."""
    start, end = starts_on.toordinal(), ends_on.toordinal()
    pre_from, pre_to = start - window_days, start + grace_days
    post_from, post_to = end - grace_days, end + window_days
    if pre_to >= post_from:
        middle = start + (end - start) // 2
        pre_to, post_from = middle, middle + 1
    return pre_from, pre_to, post_from, post_to


@dataclass(frozen=True)
class ScaleOutcome:
    """One scale's cohort result: the paired change, the verdict counts, and who is missing.

    ``missing`` = members - change.n: members without a usable pair on this scale (no pre or
    post questionnaire, a score that could not be computed, or totals by different methods).
    """

    scale: str
    change: PairedChange
    verdicts: VerdictCounts
    missing: int


def cohort_outcomes(
    frame: pd.DataFrame,
    scales: Sequence[str],
    verdict: Callable[[str, float, float], str],
    confidence: float = 0.95,
) -> list[ScaleOutcome]:
    """Per scale: :func:`paired_change` and :func:`count_verdicts` over the complete pairs.

    ``frame`` is a :func:`pre_post` result (one row per member). For "total" the pairs are
    pre_total/post_total on rows with total_comparable; for a subscale code they are
    pre_<code>/post_<code> on rows where both are present (a code with no columns has no
    pairs). ``verdict(scale, pre, post)`` gives each pair's reliable-change verdict (e.g.
    through assessments.reliable_change.reliable_change_for). missing = rows - pairs used.
    """
    outcomes = []
    columns = set(frame.columns)
    for scale in scales:
        pre_column, post_column = f"pre_{scale}", f"post_{scale}"
        if pre_column in columns and post_column in columns:
            # column arrays, not Series: a cohort is a few dozen rows, and pandas' indexing
            # costs far more than the selection
            before, after = frame[pre_column].to_numpy(), frame[post_column].to_numpy()
            usable = ~pd.isna(before) & ~pd.isna(after)
            if scale == TOTAL:
                usable &= frame["total_comparable"].to_numpy().astype(bool)
            pre = before[usable].astype(float).tolist()
            post = after[usable].astype(float).tolist()
        else:
            pre, post = [], []
        outcomes.append(
            ScaleOutcome(
                scale=scale,
                change=paired_change(pre, post, confidence),
                verdicts=count_verdicts(
                    verdict(scale, a, b) for a, b in zip(pre, post, strict=True)
                ),
                missing=len(frame) - len(pre),
            )
        )
    return outcomes


# --- Depression and anxiety outcomes (NHS Talking Therapies, shared/instruments.md) -------------


@dataclass(frozen=True)
class MeasureFacts:
    """What the outcomes need of one measure: the reliable-change threshold in points (a change
    of at least this much is reliable) and caseness (a score of at least this is a case)."""

    name: str  # e.g. "PHQ-9"
    threshold: float
    case_at: float


@dataclass(frozen=True)
class SymptomOutcome:
    """Counts over members with a first and a last score (``pairs``).

    improved: a decrease of at least the threshold (combined: on either measure, and a reliable
    increase on neither); deteriorated: an increase of at least the threshold (combined: on
    either); mixed (combined only): reliably better on one and worse on the other, counted as
    deteriorated, not improved; no reliable change: the rest. Recovery counts only members who
    were a case at the first score (``cases``, its denominator): a case on no measure at the
    last. Reliable recovery: recovery and reliable improvement together.
    """

    measure: str
    pairs: int
    improved: int
    deteriorated: int
    unchanged: int
    cases: int
    recovered: int
    reliably_recovered: int
    mixed: int | None = None  # combined only

    @staticmethod
    def percent(count: int, of: int) -> float | None:
        return 100 * count / of if of else None

    @property
    def rates(self) -> dict[str, float | None]:
        return {
            "improved": self.percent(self.improved, self.pairs),
            "deteriorated": self.percent(self.deteriorated, self.pairs),
            "unchanged": self.percent(self.unchanged, self.pairs),
            "recovered": self.percent(self.recovered, self.cases),
            "reliably_recovered": self.percent(self.reliably_recovered, self.cases),
        }


def symptom_outcome(pairs: Iterable[tuple[float, float]], facts: MeasureFacts) -> SymptomOutcome:
    """Outcomes on one measure from (first, last) totals: see :class:`SymptomOutcome`. A change
    of exactly the threshold is reliable; the threshold score itself is a case."""
    improved = deteriorated = cases = recovered = reliably = n = 0
    for first, last in pairs:
        n += 1
        change = last - first
        better, worse = change <= -facts.threshold, change >= facts.threshold
        improved += better
        deteriorated += worse
        if first >= facts.case_at:
            cases += 1
            if last < facts.case_at:
                recovered += 1
                reliably += better
    return SymptomOutcome(
        facts.name, n, improved, deteriorated, n - improved - deteriorated, cases, recovered,
        reliably,
    )  # fmt: skip


def combined_outcome(
    members: Iterable[Mapping[str, tuple[float, float]]], facts: Sequence[MeasureFacts]
) -> SymptomOutcome:
    """Outcomes on the measures together, as NHS Talking Therapies counts them, over members
    with a (first, last) pair on every measure (``members``: measure name -> pair): see
    :class:`SymptomOutcome`."""
    names = [f.name for f in facts]
    improved = deteriorated = mixed = cases = recovered = reliably = n = 0
    for pairs in members:
        if not all(name in pairs for name in names):
            continue
        n += 1
        better = any(pairs[f.name][1] - pairs[f.name][0] <= -f.threshold for f in facts)
        worse = any(pairs[f.name][1] - pairs[f.name][0] >= f.threshold for f in facts)
        mixed += better and worse
        improved += better and not worse
        deteriorated += worse
        if any(pairs[f.name][0] >= f.case_at for f in facts):
            cases += 1
            if not any(pairs[f.name][1] >= f.case_at for f in facts):
                recovered += 1
                reliably += better and not worse
    return SymptomOutcome(
        " and ".join(names), n, improved, deteriorated, n - improved - deteriorated, cases,
        recovered, reliably, mixed,
    )  # fmt: skip
