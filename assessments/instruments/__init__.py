"""Self-report instruments as versioned data, and the loader that checks them.

Each instrument is a JSON file next to this module (scs.json, scs-sf.json, fscrs.json,
phq-9.json, gad-7.json) holding its scoring key and the figures the app needs, each with its
source: response range, items, subscales, total methods, composites, bands, reliability and
reference SD; for the symptom measures also the risk item, caseness, the reliable-change
threshold in points and LOINC codes. The facts come from the project's instrument facts page
(instruments.md): Neff 2003 for the SCS, Raes et al. 2011 for the SCS-SF, Gilbert et al. 2004
for the FSCRS, Kroenke et al. 2001 for the PHQ-9, Spitzer et al. 2006 for the GAD-7 and NHS
Talking Therapies for caseness and reliable change of those two.

An instrument scored by the sum of its items (`item_sum`: PHQ-9, GAD-7) has no subscales: its
total is its only score.

No file holds an instrument's published wording. Items carry short labels of our own
("item 8 - self-judgment, reverse-keyed"); a clinic loads the published wording separately.

`load_instrument(path)` validates a file and raises `InstrumentFileError` naming the file and
the field ("scs.json: items[3].subscale: unknown subscale 'foo'"). `get_instrument(code)` and
`all_instruments()` serve the shipped files, loaded once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any, NoReturn

INSTRUMENTS_DIR = Path(__file__).resolve().parent
SCHEMA_VERSION = 1

MEAN = "mean"
SUM = "sum"
AGGREGATIONS = (MEAN, SUM)

HIGHER_IS_BETTER = "higher_is_better"
HIGHER_IS_WORSE = "higher_is_worse"
DIRECTIONS = (HIGHER_IS_BETTER, HIGHER_IS_WORSE)

SUBSCALE_MEAN = "subscale_mean"
ITEM_MEAN = "item_mean"
ITEM_SUM = "item_sum"  # the sum of every item; the instrument has no subscales
TOTAL_METHODS = (SUBSCALE_MEAN, ITEM_MEAN, ITEM_SUM)

TOTAL = "total"

# The missing-item rules the scoring code implements, by the id an instrument file names.
# Stated on every result and export (instruments.md, "Missing items").
MISSING_ITEM_RULES = {
    "selfkind-1": (
        "A subscale of four or more items is scored from the mean of its answered items when at "
        "most one item is blank; a two- or three-item subscale needs every item. A sum-scored "
        "subscale with one blank item is prorated (mean of the answered items x the number of "
        "items). The total is scored only when every subscale is scored. Blank items are listed "
        "and a score from fewer than all of its items is marked prorated."
    ),
    "selfkind-sum": (
        "The total (the sum of the items) is scored only when every item is answered. "
        "Blank items are listed."
    ),
    "selfkind-sum-prorate-1": (
        "The total (the sum of the items) is scored when at most one item is blank, the clinic "
        "having chosen to prorate one: the mean of the answered items x the number of items, "
        "marked prorated. Blank items are listed."
    ),
}
# The rule a sum-scored instrument follows when its clinic allows proration of one blank item.
PRORATED_RULES = {"selfkind-sum": "selfkind-sum-prorate-1"}

# Column names of scored exports: no subscale or composite may take one of them.
RESERVED_CODES = frozenset(
    {TOTAL, "total_method", "band", "case", "risk_alert", "missing_items", "status", "error"}
)

_CODE = re.compile(r"[a-z][a-z0-9_]*")
_INSTRUMENT_CODE = re.compile(r"[a-z][a-z0-9-]*")


class InstrumentFileError(ValueError):
    """An instrument file is unreadable or inconsistent; the message names file and field."""


class UnknownInstrumentError(LookupError):
    """No shipped instrument has this code."""

    def __str__(self) -> str:  # LookupError would repr() a single argument
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Item:
    number: int  # 1-based, in the order of the published form
    label: str  # our own short words, never the published wording
    subscale: str  # "" for an instrument without subscales (item_sum)
    reverse: bool  # reverse-keyed for the total: value becomes (min + max) - value

    @property
    def display_label(self) -> str:
        """E.g. "item 8 - self-judgment, reverse-keyed"."""
        text = f"item {self.number} - {self.label}"
        return f"{text}, reverse-keyed" if self.reverse else text


@dataclass(frozen=True)
class Subscale:
    code: str
    name: str
    items: tuple[int, ...]
    aggregation: str  # MEAN or SUM, of the raw responses
    direction: str  # what a high raw score means: HIGHER_IS_BETTER or HIGHER_IS_WORSE
    high_means: str  # e.g. "more self-criticism"
    interpretable: bool  # False for SCS-SF subscales (Raes et al. 2011)
    reverse_keyed: bool  # its items are reversed for the total
    note: str = ""

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def direction_label(self) -> str:
        """E.g. "higher = more self-criticism"."""
        return direction_label(self.high_means)


@dataclass(frozen=True)
class Composite:
    """A mean of raw item responses across subscales (SCS two-factor view)."""

    code: str
    name: str
    items: tuple[int, ...]
    direction: str
    high_means: str
    note: str = ""

    @property
    def direction_label(self) -> str:
        return direction_label(self.high_means)


@dataclass(frozen=True)
class Band:
    code: str
    label: str
    lower: float | None  # None: open below
    upper: float | None  # None: open above
    lower_inclusive: bool = True
    upper_inclusive: bool = False

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "label": self.label}

    def contains(self, value: float) -> bool:
        if self.lower is not None and (
            value < self.lower or (value == self.lower and not self.lower_inclusive)
        ):
            return False
        return (
            self.upper is None
            or value < self.upper
            or (value == self.upper and self.upper_inclusive)
        )


@dataclass(frozen=True)
class Reliability:
    scale: str  # "total", a subscale code or a composite code
    retest_r: float | None
    retest_source: str
    retest_verified: bool
    alpha: float | None = None
    alpha_source: str = ""


@dataclass(frozen=True)
class ReferenceSD:
    scale: str
    value: float | None  # None: no verified published SD
    source: str
    note: str = ""


@dataclass(frozen=True)
class RiskItem:
    """An item whose answer above `alert_above` raises a risk flag at once, whatever the total
    and even on an incomplete form (PHQ-9 item 9)."""

    item: int
    alert_above: int
    source: str

    def alerts(self, answer: int | None) -> bool:
        return answer is not None and answer > self.alert_above


@dataclass(frozen=True)
class Caseness:
    """A total of at least `at_least` is a case (NHS Talking Therapies)."""

    at_least: float
    source: str

    def is_case(self, total: float | None) -> bool | None:
        return None if total is None else total >= self.at_least


@dataclass(frozen=True)
class ChangeThreshold:
    """Reliable change as a fixed number of points (NHS Talking Therapies): a change of at
    least `points` is reliable. Used instead of Jacobson & Truax where an instrument gives one."""

    scale: str
    points: float
    source: str


@dataclass(frozen=True)
class Loinc:
    panel: str  # the questionnaire
    total: str  # the total score Observation
    items: tuple[tuple[int, str], ...] = ()  # (item number, LOINC code), where known

    def item(self, number: int) -> str | None:
        return dict(self.items).get(number)


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    short_name: str
    version: str
    citation: str
    sources: tuple[str, ...]
    response_min: int
    response_max: int
    response_min_label: str
    response_max_label: str
    items: tuple[Item, ...]
    subscales: tuple[Subscale, ...]
    total_methods: tuple[str, ...]  # empty: the instrument has no total
    default_total_method: str | None
    total_direction: str | None
    total_high_means: str
    total_note: str
    composites: tuple[Composite, ...]
    bands: tuple[Band, ...]  # bands of the total, in ascending order
    bands_source: str
    reliability: tuple[Reliability, ...]
    reference_sds: tuple[ReferenceSD, ...]
    missing_rule: str
    notes: str = ""
    risk_item: RiskItem | None = None
    caseness: Caseness | None = None
    change_thresholds: tuple[ChangeThreshold, ...] = ()
    loinc: Loinc | None = None

    # -- structure ---------------------------------------------------------------------------
    @property
    def item_count(self) -> int:
        return len(self.items)

    @property
    def has_total(self) -> bool:
        return bool(self.total_methods)

    @property
    def reverse_items(self) -> tuple[int, ...]:
        return tuple(item.number for item in self.items if item.reverse)

    @property
    def missing_rule_text(self) -> str:
        return MISSING_ITEM_RULES[self.missing_rule]

    @property
    def total_only(self) -> bool:
        """Scored by the sum of its items, with no subscales (PHQ-9, GAD-7)."""
        return self.total_methods == (ITEM_SUM,)

    def missing_rule_for(self, *, allow_proration: bool = False) -> str:
        """The rule that applies: a sum-scored instrument's prorating rule when the clinic
        allows proration of one blank item, else the instrument's own."""
        if allow_proration:
            return PRORATED_RULES.get(self.missing_rule, self.missing_rule)
        return self.missing_rule

    def risk_alert(self, answers: Mapping[int, int | None]) -> bool:
        """Whether these answers (item number -> value or None) raise the risk item's alert."""
        return self.risk_item is not None and self.risk_item.alerts(
            answers.get(self.risk_item.item)
        )

    def change_threshold(self, scale: str) -> ChangeThreshold | None:
        return next((t for t in self.change_thresholds if t.scale == scale), None)

    def item(self, number: int) -> Item:
        if not isinstance(number, int) or isinstance(number, bool):
            raise KeyError(number)
        if not 1 <= number <= self.item_count:
            raise KeyError(f"{self.code} has no item {number} (items 1..{self.item_count})")
        return self.items[number - 1]

    def subscale(self, code: str) -> Subscale:
        for subscale in self.subscales:
            if subscale.code == code:
                return subscale
        raise KeyError(f"{self.code} has no subscale {code!r}")

    def composite(self, code: str) -> Composite:
        for composite in self.composites:
            if composite.code == code:
                return composite
        raise KeyError(f"{self.code} has no composite {code!r}")

    @property
    def scale_codes(self) -> tuple[str, ...]:
        """Every scale a score can be reported on: subscales, "total" (if any), composites."""
        total = (TOTAL,) if self.has_total else ()
        return (
            tuple(s.code for s in self.subscales) + total + tuple(c.code for c in self.composites)
        )

    # -- display -----------------------------------------------------------------------------
    def item_label(self, number: int) -> str:
        """Our own label for an item, e.g. "item 8 - self-judgment, reverse-keyed"."""
        return self.item(number).display_label

    def item_labels(self) -> dict[int, str]:
        return {item.number: item.display_label for item in self.items}

    def scale_name(self, scale: str) -> str:
        if scale == TOTAL and self.has_total:
            return "Total"
        return self._scale(scale).name

    def direction(self, scale: str) -> str:
        """HIGHER_IS_BETTER or HIGHER_IS_WORSE for a subscale, "total" or a composite."""
        if scale == TOTAL and self.has_total:
            return self.total_direction  # type: ignore[return-value]
        return self._scale(scale).direction

    def direction_label(self, scale: str) -> str:
        """What a high score means on screen and in exports: "higher = more self-criticism"."""
        if scale == TOTAL and self.has_total:
            return direction_label(self.total_high_means)
        return self._scale(scale).direction_label

    # -- figures -----------------------------------------------------------------------------
    def band_for(self, total: float | None) -> Band | None:
        if total is None:
            return None
        return next((band for band in self.bands if band.contains(total)), None)

    def reliability_for(self, scale: str) -> Reliability | None:
        return next((r for r in self.reliability if r.scale == scale), None)

    def reference_sd(self, scale: str) -> ReferenceSD | None:
        return next((sd for sd in self.reference_sds if sd.scale == scale), None)

    def _scale(self, code: str) -> Subscale | Composite:
        for scale in (*self.subscales, *self.composites):
            if scale.code == code:
                return scale
        raise KeyError(f"{self.code} has no scale {code!r}")


def direction_label(high_means: str) -> str:
    """The label shown next to every score: "higher = " + what a high score means."""
    return f"higher = {high_means}"


# -- registry ----------------------------------------------------------------------------------
def all_instruments() -> tuple[Instrument, ...]:
    """The shipped instruments, ordered by code."""
    return tuple(_registry().values())


def get_instrument(code: str) -> Instrument:
    """The shipped instrument with this code (e.g. "scs", "scs-sf", "fscrs")."""
    registry = _registry()
    try:
        return registry[code]
    except (KeyError, TypeError):
        known = ", ".join(registry)
        raise UnknownInstrumentError(f"unknown instrument {code!r} (known: {known})") from None


@cache
def _registry() -> dict[str, Instrument]:
    instruments: dict[str, Instrument] = {}
    for path in sorted(INSTRUMENTS_DIR.glob("*.json")):
        instrument = load_instrument(path)
        if instrument.code in instruments:
            raise InstrumentFileError(f"{path.name}: code: {instrument.code!r} is used twice")
        instruments[instrument.code] = instrument
    return dict(sorted(instruments.items()))


# -- loading and validation --------------------------------------------------------------------
def load_instrument(path: str | Path) -> Instrument:
    """Read and validate one instrument file; raise InstrumentFileError naming file and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InstrumentFileError(f"{path.name}: cannot read the file: {exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InstrumentFileError(
            f"{path.name}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from exc
    return _InstrumentParser(path.name).parse(data)


# The fields each part of a file may have; anything else is reported (it is usually a typo).
_TOP_FIELDS = {
    "schema", "code", "name", "short_name", "version", "citation", "sources", "notes",
    "response", "items", "subscales", "total", "composites", "bands", "reliability",
    "reference_sd", "missing_rule", "risk_item", "caseness", "reliable_change", "loinc",
}  # fmt: skip
_RESPONSE_FIELDS = {"min", "max", "min_label", "max_label"}
_ITEM_FIELDS = {"number", "label", "subscale", "reverse"}
_SUBSCALE_FIELDS = {
    "code", "name", "items", "aggregation", "direction", "high_means", "interpretable", "note",
}  # fmt: skip
_TOTAL_FIELDS = {"methods", "default", "direction", "high_means", "note"}
_COMPOSITE_FIELDS = {"code", "name", "items", "direction", "high_means", "note"}
_BANDS_FIELDS = {"source", "bands"}
_BAND_FIELDS = {"code", "label", "lower", "upper", "lower_inclusive", "upper_inclusive"}
_RELIABILITY_FIELDS = {"retest_r", "retest_source", "retest_verified", "alpha", "alpha_source"}
_REFERENCE_SD_FIELDS = {"value", "source", "note"}
_RISK_ITEM_FIELDS = {"item", "alert_above", "source"}
_CASENESS_FIELDS = {"at_least", "source"}
_CHANGE_FIELDS = {"points", "source"}
_LOINC_FIELDS = {"panel", "total", "items"}
_LOINC_CODE = re.compile(r"[0-9]{1,7}-[0-9]")


class _Fields:
    """Typed access to one JSON object; every error names the file and the field path."""

    def __init__(self, parser: _InstrumentParser, data: Any, where: str, known: set[str]):
        if not isinstance(data, dict):
            parser.fail(where, f"must be an object, got {_json_type(data)}")
        unknown = sorted(set(data) - known)
        if unknown:
            parser.fail(_join(where, unknown[0]), "unknown field")
        self.parser, self.data, self.where = parser, data, where

    def path(self, key: str) -> str:
        return _join(self.where, key)

    def raw(self, key: str, *, required: bool = True, default: Any = None) -> Any:
        if key not in self.data:
            if required:
                self.parser.fail(self.path(key), "missing")
            return default
        return self.data[key]

    def string(self, key: str, *, required: bool = True, default: str = "") -> str:
        value = self.raw(key, required=required, default=default)
        if not isinstance(value, str) or (required and not value.strip()):
            self.parser.fail(self.path(key), "must be a non-empty string")
        return value

    def boolean(self, key: str, *, required: bool = True, default: bool = False) -> bool:
        value = self.raw(key, required=required, default=default)
        if not isinstance(value, bool):
            self.parser.fail(self.path(key), f"must be true or false, got {value!r}")
        return value

    def integer(self, key: str) -> int:
        value = self.raw(key)
        if not isinstance(value, int) or isinstance(value, bool):
            self.parser.fail(self.path(key), f"must be a whole number, got {value!r}")
        return value

    def number(self, key: str, check: Callable[[float], bool], rule: str) -> float | None:
        """An optional number (null or absent: None) that must pass `check`."""
        value = self.raw(key, required=False)
        if value is None:
            return None
        if not isinstance(value, int | float) or isinstance(value, bool) or not check(value):
            self.parser.fail(self.path(key), f"must be {rule}, got {value!r}")
        return float(value)

    def choice(self, key: str, choices: tuple[str, ...]) -> str:
        value = self.raw(key)
        if value not in choices:
            self.parser.fail(self.path(key), f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def array(self, key: str, *, required: bool = True) -> list[Any]:
        value = self.raw(key, required=required, default=[])
        if not isinstance(value, list):
            self.parser.fail(self.path(key), f"must be a list, got {_json_type(value)}")
        return value

    def item_numbers(self, key: str, item_count: int) -> tuple[int, ...]:
        numbers = self.array(key)
        if not numbers:
            self.parser.fail(self.path(key), "must list at least one item")
        for index, number in enumerate(numbers):
            where = f"{self.path(key)}[{index}]"
            if not isinstance(number, int) or isinstance(number, bool):
                self.parser.fail(where, f"must be an item number, got {number!r}")
            if not 1 <= number <= item_count:
                self.parser.fail(where, f"unknown item {number} (items are 1..{item_count})")
            if number in numbers[:index]:
                self.parser.fail(where, f"item {number} is listed twice")
        return tuple(numbers)

    def items(self) -> Iterator[tuple[str, Any]]:
        return iter(self.data.items())


class _InstrumentParser:
    def __init__(self, filename: str):
        self.filename = filename

    def fail(self, where: str, message: str) -> NoReturn:
        location = f"{where}: " if where else ""
        raise InstrumentFileError(f"{self.filename}: {location}{message}")

    def parse(self, data: Any) -> Instrument:
        top = _Fields(self, data, "", _TOP_FIELDS)
        schema = top.integer("schema")
        if schema != SCHEMA_VERSION:
            self.fail("schema", f"unsupported schema {schema} (this code reads {SCHEMA_VERSION})")
        code = top.string("code")
        if not _INSTRUMENT_CODE.fullmatch(code):
            self.fail("code", f"must be lower-case letters, digits and hyphens, got {code!r}")
        sources = top.array("sources")
        if not all(isinstance(source, str) and source.strip() for source in sources):
            self.fail("sources", "must be a list of non-empty strings")

        low, high, low_label, high_label = self._response(top)
        subscales_raw = top.array("subscales")
        subscale_codes = [self._subscale_code(entry, i) for i, entry in enumerate(subscales_raw)]
        items = self._items(top.array("items"), subscale_codes)
        total = _Fields(self, top.raw("total"), "total", _TOTAL_FIELDS)
        methods = self._total_methods(total)
        self._check_item_sum(methods, subscale_codes, items)
        subscales = tuple(
            self._subscale(entry, index, items, has_total=bool(methods))
            for index, entry in enumerate(subscales_raw)
        )
        self._check_every_item_in_one_subscale(items, subscales)
        if methods and any(s.aggregation != MEAN for s in subscales):
            self.fail("total.methods", "a total needs every subscale to be mean-scored")
        composites = self._composites(top, len(items), subscales)
        scale_codes = {s.code for s in subscales} | {c.code for c in composites}
        if methods:
            scale_codes.add(TOTAL)
        bands, bands_source = self._bands(top, low, high, has_total=bool(methods))
        missing_rule = top.string("missing_rule")
        if missing_rule not in MISSING_ITEM_RULES:
            self.fail("missing_rule", f"unknown rule {missing_rule!r}")
        if (ITEM_SUM in methods) != (missing_rule in PRORATED_RULES):
            self.fail(
                "missing_rule",
                f"{missing_rule!r} does not fit the total methods "
                f"(an item_sum total follows {', '.join(PRORATED_RULES)})",
            )
        return Instrument(
            code=code,
            name=top.string("name"),
            short_name=top.string("short_name"),
            version=top.string("version"),
            citation=top.string("citation"),
            sources=tuple(sources),
            response_min=low,
            response_max=high,
            response_min_label=low_label,
            response_max_label=high_label,
            items=items,
            subscales=subscales,
            total_methods=methods,
            default_total_method=total.raw("default", required=False),
            total_direction=total.raw("direction", required=False),
            total_high_means=total.raw("high_means", required=False) or "",
            total_note=total.string("note"),
            composites=composites,
            bands=bands,
            bands_source=bands_source,
            reliability=self._reliability(top, scale_codes),
            reference_sds=self._reference_sds(top, scale_codes),
            missing_rule=missing_rule,
            notes=top.string("notes", required=False),
            risk_item=self._risk_item(top, len(items), low, high),
            caseness=self._caseness(top, has_total=bool(methods)),
            change_thresholds=self._change_thresholds(top, scale_codes),
            loinc=self._loinc(top, len(items)),
        )

    def _response(self, top: _Fields) -> tuple[int, int, str, str]:
        response = _Fields(self, top.raw("response"), "response", _RESPONSE_FIELDS)
        low, high = response.integer("min"), response.integer("max")
        if low >= high:
            self.fail("response.max", f"must be greater than response.min ({low}), got {high}")
        return low, high, response.string("min_label"), response.string("max_label")

    def _subscale_code(self, entry: Any, index: int) -> str:
        where = f"subscales[{index}].code"
        code = entry.get("code") if isinstance(entry, dict) else None
        if not isinstance(code, str) or not _CODE.fullmatch(code):
            self.fail(where, f"must be a lower_snake_case code, got {code!r}")
        if code in RESERVED_CODES:
            self.fail(where, f"{code!r} is reserved for an export column")
        return code

    def _items(self, raw_items: list[Any], subscale_codes: list[str]) -> tuple[Item, ...]:
        if not raw_items:
            self.fail("items", "must list at least one item")
        items = []
        for index, entry in enumerate(raw_items):
            where = f"items[{index}]"
            fields = _Fields(self, entry, where, _ITEM_FIELDS)
            number = fields.integer("number")
            if number != index + 1:
                self.fail(
                    f"{where}.number",
                    f"expected {index + 1}, got {number} (items are numbered 1..N in order)",
                )
            if subscale_codes:
                subscale = fields.string("subscale")
                if subscale not in subscale_codes:
                    self.fail(f"{where}.subscale", f"unknown subscale {subscale!r}")
            else:
                subscale = ""
                if fields.raw("subscale", required=False) is not None:
                    self.fail(f"{where}.subscale", "this instrument has no subscales")
            items.append(Item(number, fields.string("label"), subscale, fields.boolean("reverse")))
        return tuple(items)

    def _subscale(
        self, entry: Any, index: int, items: tuple[Item, ...], *, has_total: bool
    ) -> Subscale:
        where = f"subscales[{index}]"
        fields = _Fields(self, entry, where, _SUBSCALE_FIELDS)
        code = fields.string("code")
        numbers = fields.item_numbers("items", len(items))
        direction = fields.choice("direction", DIRECTIONS)
        reverse_flags = {items[n - 1].reverse for n in numbers}
        if len(reverse_flags) > 1:
            self.fail(f"{where}.items", "items of one subscale must share the reverse flag")
        reverse = reverse_flags.pop()
        if not has_total and reverse:
            self.fail(f"{where}.items", "reverse-keyed items need a total (total.methods)")
        if has_total and reverse != (direction == HIGHER_IS_WORSE):
            expected = "reverse-keyed" if direction == HIGHER_IS_WORSE else "not reverse-keyed"
            self.fail(
                f"{where}.items", f"a {direction} subscale's items must be {expected} for the total"
            )
        return Subscale(
            code=code,
            name=fields.string("name"),
            items=numbers,
            aggregation=fields.choice("aggregation", AGGREGATIONS),
            direction=direction,
            high_means=fields.string("high_means"),
            interpretable=fields.boolean("interpretable"),
            reverse_keyed=reverse,
            note=fields.string("note", required=False),
        )

    def _check_item_sum(
        self, methods: tuple[str, ...], subscale_codes: list[str], items: tuple[Item, ...]
    ) -> None:
        """An item_sum total is the instrument's only score: no subscales, no other method, no
        reverse-keyed item. Every other instrument has at least one subscale."""
        if ITEM_SUM not in methods:
            if not subscale_codes:
                self.fail("subscales", "must list at least one subscale (only an item_sum total "
                          "stands without)")  # fmt: skip
            return
        if len(methods) != 1:
            self.fail("total.methods", "item_sum is the only method of its instrument")
        if subscale_codes:
            self.fail(
                "subscales", "an item_sum instrument has no subscales (its total is its score)"
            )
        for item in items:
            if item.reverse:
                self.fail(f"items[{item.number - 1}].reverse", "an item_sum total reverses no item")

    def _check_every_item_in_one_subscale(
        self, items: tuple[Item, ...], subscales: tuple[Subscale, ...]
    ) -> None:
        if not subscales:
            return  # an item_sum instrument (checked in _check_item_sum)
        codes = [s.code for s in subscales]
        for index, code in enumerate(codes):
            if code in codes[:index]:
                self.fail(f"subscales[{index}].code", f"{code!r} is used twice")
        owner: dict[int, str] = {}
        for index, subscale in enumerate(subscales):
            for number in subscale.items:
                if number in owner:
                    self.fail(
                        f"subscales[{index}].items",
                        f"item {number} is already in subscale {owner[number]!r}",
                    )
                owner[number] = subscale.code
        for item in items:
            if item.number not in owner:
                self.fail(f"items[{item.number - 1}]", f"item {item.number} is in no subscale")
            if owner[item.number] != item.subscale:
                self.fail(
                    f"items[{item.number - 1}].subscale",
                    f"{item.subscale!r}, but subscale {owner[item.number]!r} lists "
                    f"item {item.number}",
                )

    def _total_methods(self, total: _Fields) -> tuple[str, ...]:
        methods = total.array("methods")
        for index, method in enumerate(methods):
            if method not in TOTAL_METHODS or method in methods[:index]:
                self.fail(
                    f"total.methods[{index}]",
                    f"must be one of {', '.join(TOTAL_METHODS)} (once), got {method!r}",
                )
        default = total.raw("default", required=False)
        if methods:
            if default not in methods:
                self.fail("total.default", f"must be one of total.methods, got {default!r}")
            total.choice("direction", DIRECTIONS)
            total.string("high_means")
        elif any(total.raw(key, required=False) is not None for key in
                 ("default", "direction", "high_means")):  # fmt: skip
            self.fail("total", "an instrument without total methods has no default or direction")
        return tuple(methods)

    def _composites(
        self, top: _Fields, item_count: int, subscales: tuple[Subscale, ...]
    ) -> tuple[Composite, ...]:
        composites: list[Composite] = []
        taken = {s.code for s in subscales}
        for index, entry in enumerate(top.array("composites", required=False)):
            where = f"composites[{index}]"
            fields = _Fields(self, entry, where, _COMPOSITE_FIELDS)
            code = fields.string("code")
            if not _CODE.fullmatch(code) or code in RESERVED_CODES or code in taken:
                self.fail(f"{where}.code", f"must be a new lower_snake_case code, got {code!r}")
            taken.add(code)
            composites.append(
                Composite(
                    code=code,
                    name=fields.string("name"),
                    items=fields.item_numbers("items", item_count),
                    direction=fields.choice("direction", DIRECTIONS),
                    high_means=fields.string("high_means"),
                    note=fields.string("note", required=False),
                )
            )
        return tuple(composites)

    def _bands(
        self, top: _Fields, low: int, high: int, *, has_total: bool
    ) -> tuple[tuple[Band, ...], str]:
        raw = top.raw("bands", required=False)
        if raw is None:
            return (), ""
        if not has_total:
            self.fail("bands", "bands apply to the total and this instrument has none")
        section = _Fields(self, raw, "bands", _BANDS_FIELDS)
        bands: list[Band] = []
        for index, entry in enumerate(section.array("bands")):
            where = f"bands.bands[{index}]"
            fields = _Fields(self, entry, where, _BAND_FIELDS)
            bands.append(
                Band(
                    code=fields.string("code"),
                    label=fields.string("label"),
                    lower=fields.number("lower", lambda v: True, "a number"),
                    upper=fields.number("upper", lambda v: True, "a number"),
                    lower_inclusive=fields.boolean("lower_inclusive", required=False, default=True),
                    upper_inclusive=fields.boolean(
                        "upper_inclusive", required=False, default=False
                    ),
                )
            )
        self._check_bands_tile(bands, low, high)
        return tuple(bands), section.string("source")

    def _check_bands_tile(self, bands: list[Band], low: int, high: int) -> None:
        """Bands must cover low..high in ascending order, each boundary in exactly one band."""
        if not bands:
            self.fail("bands.bands", "must list at least one band")
        if bands[0].lower is not None and bands[0].lower > low:
            self.fail("bands.bands[0].lower", f"must be empty or at most {low}")
        if bands[-1].upper is not None and bands[-1].upper < high:
            self.fail(f"bands.bands[{len(bands) - 1}].upper", f"must be empty or at least {high}")
        for index, (below, above) in enumerate(pairwise(bands), start=1):
            where = f"bands.bands[{index}]"
            if below.upper is None or above.lower != below.upper:
                self.fail(f"{where}.lower", f"must equal the previous band's upper, {below.upper}")
            if below.upper_inclusive == above.lower_inclusive:
                self.fail(
                    f"{where}.lower_inclusive",
                    f"the boundary {above.lower} must belong to exactly one band",
                )
        for index, band in enumerate(bands):
            if band.lower is not None and band.upper is not None and band.lower >= band.upper:
                self.fail(f"bands.bands[{index}].upper", "must be greater than lower")
            if band.code in [b.code for b in bands[:index]]:
                self.fail(f"bands.bands[{index}].code", f"{band.code!r} is used twice")

    def _reliability(self, top: _Fields, scale_codes: set[str]) -> tuple[Reliability, ...]:
        section = self._scale_map(top, "reliability", scale_codes)
        figures = []
        for scale, entry in section.items():
            fields = _Fields(self, entry, f"reliability.{scale}", _RELIABILITY_FIELDS)
            in_unit = "a number between 0 and 1 (exclusive) or null"
            retest = fields.number("retest_r", lambda v: 0 < v < 1, in_unit)
            alpha = fields.number("alpha", lambda v: 0 < v < 1, in_unit)
            figures.append(
                Reliability(
                    scale=scale,
                    retest_r=retest,
                    retest_source=fields.string("retest_source", required=retest is not None),
                    retest_verified=fields.boolean("retest_verified", required=retest is not None),
                    alpha=alpha,
                    alpha_source=fields.string("alpha_source", required=alpha is not None),
                )
            )
        return tuple(figures)

    def _reference_sds(self, top: _Fields, scale_codes: set[str]) -> tuple[ReferenceSD, ...]:
        section = self._scale_map(top, "reference_sd", scale_codes)
        sds = []
        for scale, entry in section.items():
            fields = _Fields(self, entry, f"reference_sd.{scale}", _REFERENCE_SD_FIELDS)
            value = fields.number("value", lambda v: v > 0, "a positive number or null")
            source = fields.string("source", required=value is not None)
            sds.append(ReferenceSD(scale, value, source, fields.string("note", required=False)))
        return tuple(sds)

    def _risk_item(self, top: _Fields, item_count: int, low: int, high: int) -> RiskItem | None:
        raw = top.raw("risk_item", required=False)
        if raw is None:
            return None
        fields = _Fields(self, raw, "risk_item", _RISK_ITEM_FIELDS)
        item = fields.integer("item")
        if not 1 <= item <= item_count:
            self.fail("risk_item.item", f"unknown item {item} (items are 1..{item_count})")
        above = fields.integer("alert_above")
        if not low <= above < high:
            self.fail(
                "risk_item.alert_above",
                f"must be an answer below the highest ({low}..{high - 1}), got {above}",
            )
        return RiskItem(item, above, fields.string("source"))

    def _caseness(self, top: _Fields, *, has_total: bool) -> Caseness | None:
        raw = top.raw("caseness", required=False)
        if raw is None:
            return None
        if not has_total:
            self.fail("caseness", "caseness applies to the total and this instrument has none")
        fields = _Fields(self, raw, "caseness", _CASENESS_FIELDS)
        at_least = fields.number("at_least", lambda v: True, "a number")
        if at_least is None:
            self.fail("caseness.at_least", "missing")
        return Caseness(at_least, fields.string("source"))

    def _change_thresholds(
        self, top: _Fields, scale_codes: set[str]
    ) -> tuple[ChangeThreshold, ...]:
        section = self._scale_map(top, "reliable_change", scale_codes)
        thresholds = []
        for scale, entry in section.items():
            fields = _Fields(self, entry, f"reliable_change.{scale}", _CHANGE_FIELDS)
            points = fields.number("points", lambda v: v > 0, "a positive number")
            if points is None:
                self.fail(f"reliable_change.{scale}.points", "missing")
            thresholds.append(ChangeThreshold(scale, points, fields.string("source")))
        return tuple(thresholds)

    def _loinc(self, top: _Fields, item_count: int) -> Loinc | None:
        raw = top.raw("loinc", required=False)
        if raw is None:
            return None
        fields = _Fields(self, raw, "loinc", _LOINC_FIELDS)
        codes = {"panel": fields.string("panel"), "total": fields.string("total")}
        items_raw = fields.raw("items", required=False, default={})
        items = _Fields(
            self, items_raw, "loinc.items", set(items_raw) if isinstance(items_raw, dict) else set()
        )
        by_item: dict[int, str] = {}
        for key, code in items.items():
            if not (key.isascii() and key.isdigit() and 1 <= int(key) <= item_count):
                self.fail(f"loinc.items.{key}", f"unknown item (items are 1..{item_count})")
            if not isinstance(code, str):
                self.fail(f"loinc.items.{key}", f"must be a LOINC code, got {code!r}")
            by_item[int(key)] = code
        for where, code in [*codes.items(), *((f"items.{n}", c) for n, c in by_item.items())]:
            if not _LOINC_CODE.fullmatch(code):
                self.fail(f"loinc.{where}", f"must be a LOINC code such as 44261-6, got {code!r}")
        return Loinc(codes["panel"], codes["total"], tuple(sorted(by_item.items())))

    def _scale_map(self, top: _Fields, key: str, scale_codes: set[str]) -> _Fields:
        raw = top.raw(key, required=False, default={})
        section = _Fields(self, raw, key, set(raw) if isinstance(raw, dict) else set())
        known = ", ".join(sorted(scale_codes))
        for scale, _entry in section.items():
            if scale not in scale_codes:
                self.fail(f"{key}.{scale}", f"unknown scale (known: {known})")
        return section


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _json_type(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return repr(value)
