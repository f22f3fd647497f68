"""Scoring of self-report instruments: pure functions, no ORM and no request.

`score_response` scores one administration; `score_frame` scores a DataFrame of them at once and
gives identical numbers. The rules come from the instrument files and the project's facts page
(instruments.md):

- Reverse-keyed items become (min + max) - x, i.e. 6 - x on a 1..5 scale, for the total only.
  SCS subscales are means of RAW responses, as on Neff's (2003) scoring sheet, so a high
  self_judgment mean means more self-judgment; each subscale carries its direction label.
  FSCRS subscales are sums (Gilbert et al. 2004).
- Totals: `subscale_mean` (SCS default) reverses the negative subscale means and takes the mean
  of the six subscale means; `item_mean` (SCS alternative; the SCS-SF total, Raes et al. 2011)
  is the mean of the items after reversal; `item_sum` (PHQ-9, GAD-7: instruments without
  subscales) is the sum of the items. The FSCRS has no total.
- Missing items (rule "selfkind-1"): a subscale of four or more items is scored from its answered
  items when at most one is blank; a two- or three-item subscale needs every item; a sum-scored
  subscale with one blank is prorated (mean of answered x item count). The total is scored only
  when every subscale is scored; `item_mean` is then the mean of the answered items after
  reversal. A composite is scored, from its answered items, when every subscale it draws items
  from is scored. Any score from fewer than all of its items is marked prorated.
- Missing items of an `item_sum` total (rules "selfkind-sum" and "selfkind-sum-prorate-1",
  instruments.md "Depression and anxiety measures"): the total needs every item; a clinic may
  allow proration of one blank item (`allow_proration`): the mean of the answered items x the
  number of items, marked prorated. Other instruments ignore `allow_proration`.
- Status: "scored" when every subscale is scored (so the total, where there is one, is scored
  too; for an `item_sum` instrument: when its total is), else "incomplete"; `score_frame` marks
  rows with an out-of-range or non-whole value "invalid" where `score_response` raises
  `ScoringError`.
- The risk item (PHQ-9 item 9) alerts on any answer above its threshold, whatever the total and
  even on an incomplete form; caseness (PHQ-9 >= 10, GAD-7 >= 8) is read from a scored total.

Arithmetic: every score is ONE division of exact integer sums (a subscale mean is sum / answered;
a prorated sum is sum x items / answered; the subscale_mean total puts the reversed subscale
means over a common denominator). Both scorers therefore return the same correctly rounded
floats, and boundary totals such as exactly 2.5 are exact, so the bands never depend on
rounding noise.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from assessments.instruments import (
    ITEM_MEAN,
    ITEM_SUM,
    SUBSCALE_MEAN,
    SUM,
    Band,
    Instrument,
    Subscale,
    UnknownInstrumentError,
    get_instrument,
)

STATUS_SCORED = "scored"
STATUS_INCOMPLETE = "incomplete"
STATUS_INVALID = "invalid"

ITEM_COLUMN = "item_{}"

# A whole number written as text: optional sign, ASCII digits, optionally ".0", ".00", ...
_WHOLE_NUMBER_TEXT = re.compile(r"[+-]?[0-9]+(?:\.0*)?")


class ScoringError(ValueError):
    """Answers that cannot be scored; the message names the item and the value.

    `problems` lists one message per bad item (the message joins them with "; ").
    """

    def __init__(self, message: str, problems: Sequence[str] = ()):
        super().__init__(message)
        self.problems = tuple(problems) or (message,)


@dataclass(frozen=True)
class SubscaleScore:
    code: str
    score: float | None  # None: not scored under the missing-item rule
    n_items: int
    answered: int
    blank_items: tuple[int, ...]
    prorated: bool  # scored from fewer than all of its items
    scored: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "score": self.score,
            "n_items": self.n_items,
            "answered": self.answered,
            "blank_items": list(self.blank_items),
            "prorated": self.prorated,
            "scored": self.scored,
        }


@dataclass(frozen=True)
class ScoreResult:
    """One scored administration. Treat the dicts as read-only."""

    instrument_code: str
    instrument_version: str
    subscales: dict[str, SubscaleScore]  # in the instrument's subscale order
    total: float | None
    total_method: str | None  # the method asked for (None: the instrument has no total)
    composites: dict[str, float | None]
    band: Band | None  # band of the total
    missing_items: tuple[int, ...]
    status: str  # STATUS_SCORED or STATUS_INCOMPLETE
    prorated: bool  # some score was computed from fewer than all of its items
    missing_rule: str  # id of the missing-item rule applied, see MISSING_ITEM_RULES
    risk_alert: bool | None = None  # the risk item's alert; None: no risk item, or it is blank
    case: bool | None = None  # caseness of the total; None: no caseness, or no total

    @property
    def is_scored(self) -> bool:
        return self.status == STATUS_SCORED

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (e.g. for a JSONField or an API)."""
        return {
            "instrument": self.instrument_code,
            "instrument_version": self.instrument_version,
            "subscales": {code: score.as_dict() for code, score in self.subscales.items()},
            "total": self.total,
            "total_method": self.total_method,
            "composites": dict(self.composites),
            "band": None if self.band is None else self.band.as_dict(),
            "missing_items": list(self.missing_items),
            "status": self.status,
            "prorated": self.prorated,
            "missing_rule": self.missing_rule,
            "risk_alert": self.risk_alert,
            "case": self.case,
        }


# -- single administration ----------------------------------------------------------------------
def score_response(
    instrument: Instrument | str,
    answers: Mapping[int | str, Any] | Sequence[Any],
    total_method: str | None = None,
    *,
    allow_proration: bool = False,
) -> ScoreResult:
    """Score one administration.

    `answers` is a mapping of item number to value, or a sequence of every item's value in item
    order. A blank is None (or NaN, or an empty string); an item absent from a mapping is blank.
    Mapping keys may be ints or digit strings (as a JSONField returns them). Values must be whole
    numbers in the response range: ints, floats such as 3.0, or text such as "3"; bools are not
    answers. Raises ScoringError naming every bad item and its value. `allow_proration`: the
    clinic allows proration of one blank item of an item_sum total (PHQ-9, GAD-7).
    """
    instrument = resolve_instrument(instrument)
    method = resolve_total_method(instrument, total_method)
    raw = _answers_in_item_order(instrument, answers)
    values: list[int | None] = []
    problems: list[str] = []
    for number, value in enumerate(raw, start=1):
        try:
            values.append(parse_answer(instrument, number, value))
        except ScoringError as exc:
            problems.append(str(exc))
    if problems:
        raise ScoringError("; ".join(problems), problems)
    return _score_values(instrument, values, method, allow_proration)


def resolve_instrument(instrument: Instrument | str) -> Instrument:
    if isinstance(instrument, Instrument):
        return instrument
    try:
        return get_instrument(instrument)
    except UnknownInstrumentError as exc:
        raise ScoringError(str(exc)) from exc


def resolve_total_method(instrument: Instrument, total_method: str | None) -> str | None:
    """The method to use: the instrument's default when None; None when it has no total."""
    if total_method is None:
        return instrument.default_total_method
    if not instrument.has_total:
        raise ScoringError(f"{instrument.code} has no total, so no total method {total_method!r}")
    if total_method not in instrument.total_methods:
        available = ", ".join(instrument.total_methods)
        raise ScoringError(
            f"unknown total method {total_method!r} for {instrument.code} (available: {available})"
        )
    return total_method


def parse_answer(instrument: Instrument, item: int, value: Any) -> int | None:
    """The answer as an int, or None for a blank; ScoringError names the item and the value."""
    try:
        number = _whole_number(value)
    except ValueError:
        raise ScoringError(f"item {item}: {_shown(value)} is not a whole number") from None
    if number is not None and not instrument.response_min <= number <= instrument.response_max:
        raise ScoringError(
            f"item {item}: {number} is outside the response range "
            f"{instrument.response_min}..{instrument.response_max}"
        )
    return number


def _whole_number(value: Any) -> int | None:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, bool | np.bool_):
        raise ValueError(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real | Decimal):
        if isinstance(value, float | np.floating) and math.isnan(value):
            return None
        if not math.isfinite(value) or value != int(value):
            raise ValueError(value)
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if _WHOLE_NUMBER_TEXT.fullmatch(text):
            return int(text.split(".")[0])
    raise ValueError(value)


def _shown(value: Any) -> str:
    """A value as error messages show it: text quoted, numbers as Python writes them."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _answers_in_item_order(instrument: Instrument, answers: Any) -> list[Any]:
    count = instrument.item_count
    if isinstance(answers, Mapping):
        values: list[Any] = [None] * count
        seen: set[int] = set()
        for key, value in answers.items():
            number = _item_number(key)
            if number is None or not 1 <= number <= count:
                raise ScoringError(
                    f"unknown item number {key!r} ({instrument.code} has items 1..{count})"
                )
            if number in seen:
                raise ScoringError(f"item {number} is given twice")
            seen.add(number)
            values[number - 1] = value
        return values
    if isinstance(answers, str | bytes) or not isinstance(answers, Iterable):
        raise ScoringError(
            "answers must be a mapping of item number to value or a sequence in item order"
        )
    values = list(answers)
    if len(values) != count:
        raise ScoringError(f"{instrument.code} has {count} items, got {len(values)} answers")
    return values


def _item_number(key: Any) -> int | None:
    if isinstance(key, numbers.Integral) and not isinstance(key, bool | np.bool_):
        return int(key)
    if isinstance(key, str) and key.isascii() and key.isdigit():
        return int(key)
    return None


def _score_values(
    instrument: Instrument, values: list[int | None], method: str | None, allow_proration: bool
) -> ScoreResult:
    subscales = {s.code: _score_subscale(s, values) for s in instrument.subscales}
    complete = all(score.scored for score in subscales.values())
    prorated = any(score.prorated for score in subscales.values())
    if method == ITEM_SUM:
        total, prorated = _item_sum(values, allow_proration)
        complete = total is not None
    else:
        total = _total(instrument, values, method) if complete and method else None
    composites = {
        composite.code: _score_composite(instrument, composite.items, values, subscales)
        for composite in instrument.composites
    }
    missing = tuple(number for number, value in enumerate(values, start=1) if value is None)
    return ScoreResult(
        instrument_code=instrument.code,
        instrument_version=instrument.version,
        subscales=subscales,
        total=total,
        total_method=method,
        composites=composites,
        band=instrument.band_for(total),
        missing_items=missing,
        status=STATUS_SCORED if complete else STATUS_INCOMPLETE,
        prorated=prorated,
        missing_rule=instrument.missing_rule_for(allow_proration=allow_proration),
        risk_alert=_risk_alert(instrument, values),
        case=instrument.caseness.is_case(total) if instrument.caseness else None,
    )


def _item_sum(values: list[int | None], allow_proration: bool) -> tuple[float | None, bool]:
    """(total, prorated) of an item_sum instrument: the sum of every item; with one blank item
    and the clinic's proration, (sum x items) / answered in one division; else unscored."""
    answered = [value for value in values if value is not None]
    blanks = len(values) - len(answered)
    if not answered or blanks > (1 if allow_proration else 0):
        return None, False
    return sum(answered) * len(values) / len(answered), blanks > 0


def _risk_alert(instrument: Instrument, values: list[int | None]) -> bool | None:
    risk = instrument.risk_item
    if risk is None or values[risk.item - 1] is None:
        return None
    return risk.alerts(values[risk.item - 1])


def allowed_blanks(subscale: Subscale) -> int:
    """Rule selfkind-1: one blank in a subscale of four or more items, none in a shorter one."""
    return 1 if subscale.n_items >= 4 else 0


def _answered(values: list[int | None], items: tuple[int, ...]) -> list[int]:
    return [value for n in items if (value := values[n - 1]) is not None]


def _score_subscale(subscale: Subscale, values: list[int | None]) -> SubscaleScore:
    answered = _answered(values, subscale.items)
    blank = tuple(n for n in subscale.items if values[n - 1] is None)
    scored = len(blank) <= allowed_blanks(subscale)
    score = None
    if scored:
        # One division: a prorated sum is (sum x items) / answered, a mean is sum / answered.
        raw_sum = sum(answered)
        numerator = raw_sum * subscale.n_items if subscale.aggregation == SUM else raw_sum
        score = numerator / len(answered)
    return SubscaleScore(
        code=subscale.code,
        score=score,
        n_items=subscale.n_items,
        answered=len(answered),
        blank_items=blank,
        prorated=scored and bool(blank),
        scored=scored,
    )


def _total(instrument: Instrument, values: list[int | None], method: str) -> float:
    """The total by `method`; call only when every subscale is scored."""
    mirror = instrument.response_min + instrument.response_max
    if method == ITEM_MEAN:
        answered = [
            (mirror - value if item.reverse else value)
            for item, value in zip(instrument.items, values, strict=True)
            if value is not None
        ]
        return sum(answered) / len(answered)
    # SUBSCALE_MEAN: mean over K subscales of (reversed) sum_s / answered_s, written over the
    # common denominator K x L, where L is divisible by every possible answered count.
    common = _common_multiple(instrument)
    numerator = 0
    for subscale in instrument.subscales:
        answered = _answered(values, subscale.items)
        raw_sum = sum(answered)
        keyed_sum = mirror * len(answered) - raw_sum if subscale.reverse_keyed else raw_sum
        numerator += keyed_sum * (common // len(answered))
    return numerator / (len(instrument.subscales) * common)


def _score_composite(
    instrument: Instrument,
    items: tuple[int, ...],
    values: list[int | None],
    subscales: dict[str, SubscaleScore],
) -> float | None:
    if not all(subscales[code].scored for code in _composite_subscales(instrument, items)):
        return None
    answered = _answered(values, items)
    return sum(answered) / len(answered)


@cache
def _composite_subscales(instrument: Instrument, items: tuple[int, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(instrument.item(n).subscale for n in items))


@cache
def _common_multiple(instrument: Instrument) -> int:
    """Least common multiple of 1..(largest subscale size): divisible by any answered count."""
    return math.lcm(*range(1, max((s.n_items for s in instrument.subscales), default=1) + 1))


# -- many administrations at once ---------------------------------------------------------------
def item_columns(instrument: Instrument) -> list[str]:
    """["item_1", ..., "item_N"]: the item columns `score_frame` and score_csv read."""
    return [ITEM_COLUMN.format(n) for n in range(1, instrument.item_count + 1)]


def result_columns(instrument: Instrument) -> list[str]:
    """The columns `score_frame` returns, in order: `case` and `risk_alert` only for the
    instruments that have caseness or a risk item (PHQ-9, GAD-7)."""
    return [
        *(s.code for s in instrument.subscales),
        "total",
        "total_method",
        *(c.code for c in instrument.composites),
        "band",
        *(["case"] if instrument.caseness else []),
        *(["risk_alert"] if instrument.risk_item else []),
        "missing_items",
        "status",
        "error",
    ]


def score_frame(
    instrument: Instrument | str,
    df: pd.DataFrame,
    total_method: str | None = None,
    *,
    allow_proration: bool = False,
) -> pd.DataFrame:
    """Score every row of `df` (columns item_1..item_N; other columns are ignored).

    Vectorised, and identical to `score_response` row by row. Cells may be numbers (NaN =
    blank) or text ("" = blank, e.g. a CSV read with dtype=str). A row with an out-of-range or
    non-whole value does not stop the frame: it gets status "invalid", empty scores, and an
    `error` naming each bad item and its value. Scores are floats (NaN when not scored); the
    text columns hold "" when empty (`case` and `risk_alert` hold "yes", "no" or ""). Raises
    ScoringError for a missing item column, an unknown instrument or an unknown total method.
    """
    instrument = resolve_instrument(instrument)
    method = resolve_total_method(instrument, total_method)
    columns = item_columns(instrument)
    absent = [name for name in columns if name not in df.columns]
    if absent:
        raise ScoringError(f"missing item columns for {instrument.code}: {', '.join(absent)}")
    grid = _parse_items(instrument, [df[name] for name in columns])
    blanks_allowed = 1 if allow_proration else 0
    scores = _score_grid(_Keys.of(instrument), grid.values, grid.answered, method, blanks_allowed)
    return _result_frame(instrument, scores, grid, method, df.index)


@dataclass(frozen=True)
class _ItemGrid:
    """Parsed answers, one row per administration and one column per item."""

    values: np.ndarray  # float64 holding whole numbers; 0 where blank or bad
    answered: np.ndarray  # float64 1.0 / 0.0
    errors: np.ndarray  # object: "" or the row's messages
    invalid: np.ndarray  # bool per row


def _parse_items(instrument: Instrument, columns: list[pd.Series]) -> _ItemGrid:
    """Parse every cell through `parse_answer`, once per distinct value of a column (fast)."""
    rows = len(columns[0])
    values = np.zeros((rows, len(columns)), order="F")
    answered = np.zeros((rows, len(columns)), order="F")
    bad_columns: list[tuple[np.ndarray, np.ndarray]] = []  # (bad cell mask, message per cell)
    for index, column in enumerate(columns):
        codes, uniques = _factorize(column)
        # One slot per distinct value, plus a last one for code -1 (NaN or None): a blank.
        value_of = np.zeros(len(uniques) + 1)
        answered_of = np.zeros(len(uniques) + 1)
        problem_of = np.full(len(uniques) + 1, None, dtype=object)
        for slot, unique in enumerate(uniques):
            try:
                number = parse_answer(instrument, index + 1, unique)
            except ScoringError as exc:
                problem_of[slot] = str(exc)
                continue
            if number is not None:
                value_of[slot], answered_of[slot] = number, 1.0
        values[:, index] = value_of[codes]
        answered[:, index] = answered_of[codes]
        bad_slots = np.flatnonzero(problem_of != None)  # noqa: E711 - elementwise
        if len(bad_slots):
            bad_columns.append((np.isin(codes, bad_slots), problem_of[codes]))
    errors = np.full(rows, "", dtype=object)
    invalid = np.zeros(rows, dtype=bool)
    for mask, _messages in bad_columns:
        invalid |= mask
    for row in np.flatnonzero(invalid):  # the unhappy path only: rows with a bad value
        errors[row] = "; ".join(messages[row] for mask, messages in bad_columns if mask[row])
    return _ItemGrid(values, answered, errors, invalid)


# Object columns whose values hash together safely (no bools, no mixed text and numbers).
_HASHABLE_KINDS = frozenset({"string", "empty", "integer", "floating", "mixed-integer-float"})


def _factorize(column: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Codes and distinct values; other object columns keep every cell apart.

    Hashing would merge 1, 1.0 and True in an object column, and True is not an answer.
    """
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(), list(column.cat.categories)
    numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if isinstance(dtype, pd.StringDtype):
        column = column.to_numpy(dtype=object)  # hashes much faster than the string array
    elif not numeric and not (
        dtype == np.dtype(object) and pd.api.types.infer_dtype(column) in _HASHABLE_KINDS
    ):
        return np.arange(len(column)), column.tolist()
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    return codes, list(uniques)


@dataclass(frozen=True, eq=False)
class _Keys:
    """An instrument's scoring key as arrays, for matrix products over many rows."""

    membership: np.ndarray  # items x (subscales + composites), 1.0 where the item belongs
    subscale_count: int
    sizes: np.ndarray  # items per subscale
    allowed_blanks: np.ndarray
    sum_scored: np.ndarray
    reverse_keyed: np.ndarray
    composite_needs: tuple[np.ndarray, ...]  # per composite: the subscales it draws items from
    mirror: int
    common: int

    @staticmethod
    @cache
    def of(instrument: Instrument) -> _Keys:
        groups = [s.items for s in instrument.subscales] + [c.items for c in instrument.composites]
        membership = np.zeros((instrument.item_count, len(groups)))
        for column, items in enumerate(groups):
            membership[np.asarray(items) - 1, column] = 1.0
        codes = [s.code for s in instrument.subscales]
        return _Keys(
            membership=membership,
            subscale_count=len(codes),
            sizes=np.array([s.n_items for s in instrument.subscales], dtype=float),
            allowed_blanks=np.array([allowed_blanks(s) for s in instrument.subscales], dtype=float),
            sum_scored=np.array([s.aggregation == SUM for s in instrument.subscales]),
            reverse_keyed=np.array([s.reverse_keyed for s in instrument.subscales]),
            composite_needs=tuple(
                np.array([code in _composite_subscales(instrument, c.items) for code in codes])
                for c in instrument.composites
            ),
            mirror=instrument.response_min + instrument.response_max,
            common=_common_multiple(instrument),
        )


def _score_grid(
    keys: _Keys,
    values: np.ndarray,
    answered: np.ndarray,
    method: str | None,
    sum_blanks_allowed: int = 0,
) -> dict[str, np.ndarray]:
    """The arithmetic of `score_response` for every row at once.

    The matrix products add whole numbers far below 2**53, so they are exact; each score is
    then one division, as in the single scorer.
    """
    all_sums = values @ keys.membership  # rows x (subscales + composites)
    all_counts = answered @ keys.membership
    split = keys.subscale_count
    sums, counts = all_sums[:, :split], all_counts[:, :split]
    scored = counts >= keys.sizes - keys.allowed_blanks
    safe_counts = np.where(counts > 0, counts, 1.0)
    numerators = np.where(keys.sum_scored, sums * keys.sizes, sums)
    subscale_scores = np.where(scored, numerators / safe_counts, np.nan)
    complete = scored.all(axis=1)

    reversed_sums = np.where(keys.reverse_keyed, keys.mirror * counts - sums, sums)
    if method == SUBSCALE_MEAN:
        over_common = (reversed_sums * (keys.common / safe_counts)).sum(axis=1)
        totals = over_common / (split * keys.common)
    elif method == ITEM_MEAN:
        totals = reversed_sums.sum(axis=1) / np.where(complete, counts.sum(axis=1), 1.0)
    elif method == ITEM_SUM:
        items = values.shape[1]
        answered_items = answered.sum(axis=1)
        complete = (answered_items > 0) & (answered_items >= items - sum_blanks_allowed)
        totals = values.sum(axis=1) * items / np.where(answered_items > 0, answered_items, 1.0)
    else:
        totals = np.full(len(values), np.nan)

    composite_sums, composite_counts = all_sums[:, split:], all_counts[:, split:]
    composite_scores = composite_sums / np.where(composite_counts > 0, composite_counts, 1.0)
    for position, needs in enumerate(keys.composite_needs):
        composite_scores[~scored[:, needs].all(axis=1), position] = np.nan
    return {
        "subscales": subscale_scores,
        "total": np.where(complete, totals, np.nan),
        "composites": composite_scores,
        "complete": complete,
    }


def _result_frame(
    instrument: Instrument,
    scores: dict[str, np.ndarray],
    grid: _ItemGrid,
    method: str | None,
    index: pd.Index,
) -> pd.DataFrame:
    """Scores as float columns (NaN when not scored); text columns as object, "" when empty."""
    invalid = grid.invalid
    status = np.where(scores["complete"], STATUS_SCORED, STATUS_INCOMPLETE)
    total = np.where(invalid, np.nan, scores["total"])
    texts = {
        "total_method": np.where(invalid, "", method or ""),
        "band": _band_codes(instrument, total),
        "case": _case_flags(instrument, total),
        "risk_alert": _risk_flags(instrument, grid, invalid),
        "missing_items": _blank_item_lists((grid.answered == 0) & ~invalid[:, None]),
        "status": np.where(invalid, STATUS_INVALID, status),
        "error": grid.errors,
    }
    columns = result_columns(instrument)
    data: dict[str, Any] = {
        name: pd.Series(v, index=index, dtype=object)
        for name, v in texts.items()
        if name in columns
    }
    for position, subscale in enumerate(instrument.subscales):
        data[subscale.code] = np.where(invalid, np.nan, scores["subscales"][:, position])
    data["total"] = total
    for position, composite in enumerate(instrument.composites):
        data[composite.code] = np.where(invalid, np.nan, scores["composites"][:, position])
    return pd.DataFrame(data, index=index, columns=columns)


def _yes_no(flags: np.ndarray, known: np.ndarray) -> np.ndarray:
    return np.where(known, np.where(flags, "yes", "no"), "").astype(object)


def _case_flags(instrument: Instrument, totals: np.ndarray) -> np.ndarray:
    if instrument.caseness is None:
        return np.full(len(totals), "", dtype=object)
    known = ~np.isnan(totals)
    return _yes_no(np.where(known, totals, 0) >= instrument.caseness.at_least, known)


def _risk_flags(instrument: Instrument, grid: _ItemGrid, invalid: np.ndarray) -> np.ndarray:
    risk = instrument.risk_item
    if risk is None:
        return np.full(len(invalid), "", dtype=object)
    column = risk.item - 1
    known = (grid.answered[:, column] == 1) & ~invalid
    return _yes_no(grid.values[:, column] > risk.alert_above, known)


def _band_codes(instrument: Instrument, totals: np.ndarray) -> np.ndarray:
    codes = np.full(len(totals), "", dtype=object)
    for band in instrument.bands:
        inside = ~np.isnan(totals)
        if band.lower is not None:
            inside &= (totals >= band.lower) if band.lower_inclusive else (totals > band.lower)
        if band.upper is not None:
            inside &= (totals <= band.upper) if band.upper_inclusive else (totals < band.upper)
        codes[inside] = band.code
    return codes


def _blank_item_lists(blank: np.ndarray) -> np.ndarray:
    """Space-separated blank item numbers per row, built once per distinct blank pattern."""
    lists = np.full(blank.shape[0], "", dtype=object)
    with_blanks = np.flatnonzero(blank.any(axis=1))
    if len(with_blanks):
        patterns, inverse = np.unique(blank[with_blanks], axis=0, return_inverse=True)
        texts = np.array(
            [" ".join(str(n + 1) for n in np.flatnonzero(p)) for p in patterns], dtype=object
        )
        lists[with_blanks] = texts[inverse.ravel()]
    return lists
