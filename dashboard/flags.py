"""The dashboard's flags: pure rules over plain values (no ORM, no request).

In order of severity (KINDS), the order of "Needs attention first" and of every flag list:

- safety: the client said an entry, a practice or a journal entry brought up something
  difficult (clinic.SafetySignal, raised by that write and open until someone acknowledges it
  with an action and a note);
- risk_item: a questionnaire's risk item was answered above its threshold (PHQ-9 item 9 above
  0; a SafetySignal too);
- deterioration, distress, rising, quiet, overdue: below. Each has thresholds a clinic sets
  (dashboard.models.FlagSettings):

- deterioration: reliable deterioration (Jacobson & Truax, shared/instruments.md) from the SCS
  baseline to the latest SCS, on the total or (by default) a negative subscale;
- quiet: no inner-critic entry and no practice for `quiet_days` days, by a client who had logged
  at least `quiet_min_records` of them before;
- overdue: the next SCS was due more than `overdue_after_days` days ago (the schedule is the
  client's own, else the clinic's default: every `assessment_every_weeks` weeks after the last
  assessment, or after intake when there is none);
- rising: the weekly mean critic intensity rose by at least `rising_min_slope` points a week
  (least-squares trend) over the last `rising_weeks` seven-day windows up to the latest entry,
  with entries in all but at most one window, while that entry is under a week old;
- distress (practice raising distress): distress after a practice exceeded distress before it
  in at least `distress_min_rises` of the client's last 3 rated practices: titration, not a
  crisis.

One safety flag outranks any number of lesser flags: the severity weights are powers of two
(`SEVERITY`), and "Needs attention first" sorts by their sum, then by recency (`attention_key`).

Each flag is about an *episode* (the assessment, the last active day, the due date, the week);
an acknowledgement quiets the flag until the episode changes. The inputs (`FlagInput`) come from
the projections the other apps keep on write; dashboard.selectors states the same rules in SQL
for filtering and sorting; tests/dashboard check that the two agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assessments.instruments import HIGHER_IS_WORSE, TOTAL, Instrument
from assessments.reliable_change import (
    DETERIORATED,
    SDChoice,
    reliable_change_for,
    standard_error_of_difference,
)

SAFETY = "safety"  # clinic.SignalKind.SAFETY
RISK = "risk_item"  # clinic.SignalKind.RISK_ITEM
DETERIORATION = "deterioration"
DISTRESS = "distress"
RISING = "rising"
QUIET = "quiet"
OVERDUE = "overdue"
KINDS = (SAFETY, RISK, DETERIORATION, DISTRESS, RISING, QUIET, OVERDUE)  # most severe first
SIGNAL_KINDS = (SAFETY, RISK)  # raised by a write, open until acknowledged (clinic.safety)
# One flag of a kind outweighs every less severe kind together (2**k > 2**k - 1).
SEVERITY = {kind: 2 ** (len(KINDS) - 1 - rank) for rank, kind in enumerate(KINDS)}


@dataclass(frozen=True)
class Rules:
    """A clinic's thresholds (the defaults are FlagSettings' and AssessmentSettings')."""

    assessment_every_weeks: int = 4
    overdue_after_days: int = 7
    quiet_days: int = 14
    quiet_min_records: int = 3
    rising_weeks: int = 4
    rising_min_slope: float = 0.5
    deterioration_subscales: bool = True
    distress_min_rises: int = 2

    @classmethod
    def from_settings(cls, settings: Any, assessment_every_weeks: int) -> Rules:
        """From a clinic's FlagSettings and its default SCS schedule (AssessmentSettings)."""
        fields = {
            name: getattr(settings, name)
            for name in cls.__dataclass_fields__
            if name != "assessment_every_weeks"
        }
        return cls(assessment_every_weeks=assessment_every_weeks, **fields)

    def explanations(self) -> dict[str, str]:
        """One sentence per flag, most severe first, shown below the table and in the flag's
        tooltip."""
        subscales = " or a negative subscale" if self.deterioration_subscales else ""
        texts = {
            SAFETY: (
                "The client said an entry, a practice or a journal entry brought up something "
                "difficult (perhaps asking to be contacted). Open until acknowledged with the "
                "action taken."
            ),
            RISK: (
                "A risk item was answered above 0 (PHQ-9 item 9: thoughts of death or "
                "self-harm), whatever the total. Open until acknowledged with the action taken."
            ),
            DETERIORATION: (
                f"The latest SCS is reliably worse than the baseline on the total{subscales} "
                "(Jacobson & Truax reliable change, |RC| > 1.96)."
            ),
            QUIET: (
                f"No inner-critic entry or practice for {self.quiet_days} days, by a client who "
                f"had logged at least {self.quiet_min_records}."
            ),
            OVERDUE: (
                f"The next SCS was due more than {self.overdue_after_days} days ago (every "
                f"{self.assessment_every_weeks} weeks unless the client has their own schedule)."
            ),
            RISING: (
                f"Weekly mean critic intensity rose by at least {self.rising_min_slope:g} points "
                f"a week over the last {self.rising_weeks} weeks of entries."
            ),
            DISTRESS: (
                f"Distress after practice exceeded distress before it in "
                f"{self.distress_min_rises} or more of the last 3 rated practices: consider a "
                "shorter or different practice (titration)."
            ),
        }
        return {kind: texts[kind] for kind in KINDS}  # most severe first


LABELS = {
    SAFETY: "Safety",
    RISK: "Risk item",
    DETERIORATION: "Reliable deterioration",
    DISTRESS: "Practice raising distress",
    RISING: "Rising intensity",
    QUIET: "Stopped logging",
    OVERDUE: "Assessment overdue",
}


# --- Values behind the flags ------------------------------------------------------------------


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def next_due(
    last_assessed_on: dt.date | None, intake_date: dt.date, every_weeks: int | None
) -> dt.date | None:
    """When the next assessment is due: `every_weeks` after the last one (after intake when
    there is none); None when the schedule is paused."""
    if not every_weeks:
        return None
    try:
        return (last_assessed_on or intake_date) + dt.timedelta(weeks=every_weeks)
    except OverflowError:  # a bad date stored before dates were checked (year 9999)
        return dt.date.max


@dataclass(frozen=True)
class ScoreValues:
    """One SCS score as plain values."""

    administration_id: int
    administered_on: dt.date
    total: float | None
    total_method: str
    subscales: Mapping[str, float | None]

    def value(self, scale: str) -> float | None:
        return self.total if scale == TOTAL else self.subscales.get(scale)


def deteriorated_scales(
    instrument: Instrument,
    baseline: ScoreValues | None,
    latest: ScoreValues | None,
    sds: Mapping[str, SDChoice],
    *,
    include_subscales: bool = True,
) -> list[str]:
    """The scales on which `latest` is reliably worse than `baseline`: the total (only when both
    totals use the same method) and, if asked, the subscales where higher is worse."""
    if baseline is None or latest is None or baseline.administration_id == latest.administration_id:
        return []
    scales = [TOTAL] if instrument.has_total else []
    if include_subscales:
        scales += [s.code for s in instrument.subscales if s.direction == HIGHER_IS_WORSE]
    worse = []
    for scale in scales:
        if scale == TOTAL and baseline.total_method != latest.total_method:
            continue
        change = reliable_change_for(
            instrument, scale, baseline.value(scale), latest.value(scale), sds.get(scale)
        )
        if change.verdict == DETERIORATED:
            worse.append(scale)
    return worse


# --- Flags as read on a day -------------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    kind: str
    episode: str  # what an acknowledgement names (an id or an ISO date)
    detail: str  # the specifics, e.g. "last entry or practice 3 Nov"
    acknowledged: bool
    at: dt.datetime | dt.date | None = None  # when its data arose: "Needs attention" recency

    @property
    def label(self) -> str:
        return LABELS[self.kind]

    @property
    def is_signal(self) -> bool:
        """Safety and risk flags: acknowledged on the signal's own page (clinic.safety)."""
        return self.kind in SIGNAL_KINDS


@dataclass(frozen=True)
class Signal:
    """An open safety or risk signal (clinic.SafetySignal) as plain values."""

    id: int
    kind: str  # SAFETY or RISK
    raised_at: dt.datetime
    asked_for_contact: bool = False
    summary: str = ""


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


@dataclass(frozen=True)
class FlagInput:
    """One client's values behind the flags, as read from the projections."""

    baseline: ScoreValues | None = None  # the first scored SCS
    latest: ScoreValues | None = None  # the latest scored SCS
    next_due_on: dt.date | None = None  # None: the schedule is paused
    last_activity_on: dt.date | None = None
    activity_count: int = 0
    last_entry_on: dt.date | None = None
    rising_slope: float | None = None  # for the clinic's number of weeks
    signals: tuple[Signal, ...] = ()  # open safety and risk signals, newest first
    rated_practices: tuple[tuple[str, int, int], ...] = ()  # last 3: (iso day, before, after)
    distress_rises: int = 0  # how many of them raised distress
    last_rated_id: int | None = None  # the latest rated practice
    last_rated_on: dt.date | None = None
    ack_deterioration: int | None = None
    ack_quiet: dt.date | None = None
    ack_overdue: dt.date | None = None
    ack_rising: dt.date | None = None
    ack_distress: int | None = None

    @property
    def rising_week(self) -> dt.date | None:
        return week_start(self.last_entry_on) if self.last_entry_on else None


def is_quiet(state: FlagInput, rules: Rules, today: dt.date) -> bool:
    last = state.last_activity_on
    return (
        last is not None
        and state.activity_count >= rules.quiet_min_records
        and (today - last).days >= rules.quiet_days
    )


def is_overdue(state: FlagInput, rules: Rules, today: dt.date) -> bool:
    due = state.next_due_on
    return due is not None and (today - due).days > rules.overdue_after_days


def is_due(state: FlagInput, today: dt.date) -> bool:
    return state.next_due_on is not None and state.next_due_on <= today


def is_rising(state: FlagInput, rules: Rules, today: dt.date) -> bool:
    through = state.last_entry_on
    return (
        state.rising_slope is not None
        and state.rising_slope >= rules.rising_min_slope
        and through is not None
        and (today - through).days < 7
    )


def is_distress(state: FlagInput, rules: Rules) -> bool:
    return state.last_rated_id is not None and state.distress_rises >= rules.distress_min_rises


def _signal_flags(state: FlagInput) -> list[Flag]:
    """One flag per kind of open signal: the newest names the episode and the time."""
    found = []
    for kind in SIGNAL_KINDS:
        signals = sorted(
            (s for s in state.signals if s.kind == kind), key=lambda s: (s.raised_at, s.id)
        )
        if not signals:
            continue
        newest = signals[-1]
        asked = sum(s.asked_for_contact for s in signals)
        detail = f"{newest.summary or LABELS[kind]} ({newest.raised_at:%d %b %H:%M})"
        if len(signals) > 1:
            detail = f"{len(signals)} open; the latest: {detail}"
        if asked:
            detail += f"; {'the client asked' if asked == 1 else f'{asked} ask'} to be contacted"
        found.append(Flag(kind, str(newest.id), detail, False, newest.raised_at))
    return found


def deterioration_limits(
    instrument: Instrument, sds: Mapping[str, SDChoice], *, include_subscales: bool = True
) -> dict[str, tuple[float, str]]:
    """Per scale the deterioration flag watches: (S_diff, direction), for the scales with an SD
    and a test-retest r. The change (later - earlier) is a reliable deterioration when
    change / S_diff < -1.96 (higher is better) or > 1.96 (higher is worse): what
    `deteriorated_scales` decides, as numbers the database can compare with."""
    scales = [TOTAL] if instrument.has_total else []
    if include_subscales:
        scales += [s.code for s in instrument.subscales if s.direction == HIGHER_IS_WORSE]
    limits = {}
    for scale in scales:
        sd = sds.get(scale)
        reliability = instrument.reliability_for(scale)
        interpretable = scale == TOTAL or all(
            s.interpretable for s in instrument.subscales if s.code == scale
        )
        if sd is None or sd.value is None or reliability is None or not interpretable:
            continue
        if reliability.retest_r is None:
            continue
        limits[scale] = (
            standard_error_of_difference(sd.value, reliability.retest_r),
            instrument.direction(scale),
        )
    return limits


def flags_for(
    state: FlagInput,
    rules: Rules,
    today: dt.date,
    instrument: Instrument,
    sds: Mapping[str, SDChoice],
    scale_names=None,
) -> list[Flag]:
    """The flags raised for one client on `today`, each marked acknowledged when its episode
    was acknowledged."""
    names = scale_names or {}
    flags = _signal_flags(state)
    worse = deteriorated_scales(
        instrument,
        state.baseline,
        state.latest,
        sds,
        include_subscales=rules.deterioration_subscales,
    )
    if worse:
        latest = state.latest
        scales = ", ".join(names.get(code, code) for code in worse)
        flags.append(
            Flag(
                DETERIORATION,
                str(latest.administration_id),
                f"SCS of {_day(latest.administered_on)} vs baseline: {scales}",
                state.ack_deterioration == latest.administration_id,
                latest.administered_on,
            )
        )
    if is_distress(state, rules):
        rises = ", ".join(
            f"{before}→{after} on {_day(dt.date.fromisoformat(day))}"
            for day, before, after in state.rated_practices
        )
        flags.append(
            Flag(
                DISTRESS,
                str(state.last_rated_id),
                f"distress before→after in the last {len(state.rated_practices)} rated "
                f"practices: {rises}",
                state.ack_distress == state.last_rated_id,
                state.last_rated_on,
            )
        )
    if is_rising(state, rules, today):
        flags.append(
            Flag(
                RISING,
                state.rising_week.isoformat(),
                f"+{state.rising_slope:.1f} points a week up to {_day(state.last_entry_on)}",
                state.ack_rising == state.rising_week,
                state.last_entry_on,
            )
        )
    if is_quiet(state, rules, today):
        last = state.last_activity_on
        flags.append(
            Flag(
                QUIET,
                last.isoformat(),
                f"last entry or practice {_day(last)} ({(today - last).days} days ago)",
                state.ack_quiet == last,
                last,
            )
        )
    if is_overdue(state, rules, today):
        due = state.next_due_on
        flags.append(
            Flag(
                OVERDUE,
                due.isoformat(),
                f"due {_day(due)} ({(today - due).days} days ago)",
                state.ack_overdue == due,
                due,
            )
        )
    return flags


def attention_key(flags: list[Flag]) -> tuple[int, float, int]:
    """How "Needs attention first" ranks a client by their open flags: the sum of the severity
    weights (one flag of a kind outranks every less severe kind together), then the newest open
    signal, then the date behind the most severe other flag; larger first. The SQL sort
    (dashboard.selectors) states the same; tests/dashboard check that the two agree."""
    open_flags = [flag for flag in flags if not flag.acknowledged]
    weight = sum(SEVERITY[flag.kind] for flag in open_flags)
    signal_at = max(
        (flag.at.timestamp() for flag in open_flags if flag.is_signal and flag.at is not None),
        default=float("-inf"),
    )
    dated = [flag for flag in open_flags if not flag.is_signal and flag.at is not None]
    most_severe = min(dated, key=lambda flag: KINDS.index(flag.kind), default=None)
    on = most_severe.at.toordinal() if most_severe is not None else -1
    return weight, signal_at, on


def parse_episode(kind: str, episode: str) -> int | dt.date:
    """An episode as stored on the summary: an administration id or a date. ValueError if
    malformed."""
    if kind in (DETERIORATION, DISTRESS):
        return int(episode)
    if kind in (QUIET, OVERDUE, RISING):
        return dt.date.fromisoformat(episode)
    raise ValueError(f"unknown flag {kind!r}")
