"""The dashboard's flags: pure rules over plain values (no ORM, no request).

Four flags, each with thresholds a clinic sets (dashboard.models.FlagSettings):

- deterioration: reliable deterioration (Jacobson & Truax, shared/instruments.md) from the SCS
  baseline to the latest SCS, on the total or (by default) a negative subscale;
- quiet: no inner-critic entry and no practice for `quiet_days` days, by a client who had logged
  at least `quiet_min_records` of them before;
- overdue: the next SCS was due more than `overdue_after_days` days ago (the schedule is the
  client's own, else the clinic's default: every `assessment_every_weeks` weeks after the last
  assessment, or after intake when there is none);
- rising: the weekly mean critic intensity rose by at least `rising_min_slope` points a week
  (least-squares trend) over the last `rising_weeks` seven-day windows up to the latest entry,
  with entries in all but at most one window, while that entry is under a week old.

Each flag is about an *episode* (the assessment, the last active day, the due date, the week);
an acknowledgement quiets the flag until the episode changes. dashboard.selectors states the
same rules in SQL for filtering and sorting; tests/dashboard check that the two agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assessments.instruments import HIGHER_IS_WORSE, TOTAL, Instrument
from assessments.reliable_change import DETERIORATED, SDChoice, reliable_change_for
from dashboard.stats import least_squares

DETERIORATION = "deterioration"
QUIET = "quiet"
OVERDUE = "overdue"
RISING = "rising"
KINDS = (DETERIORATION, QUIET, OVERDUE, RISING)


@dataclass(frozen=True)
class Rules:
    """A clinic's thresholds (the defaults are FlagSettings' defaults)."""

    assessment_every_weeks: int = 4
    overdue_after_days: int = 7
    quiet_days: int = 14
    quiet_min_records: int = 3
    rising_weeks: int = 4
    rising_min_slope: float = 0.5
    deterioration_subscales: bool = True

    @classmethod
    def from_settings(cls, settings: Any) -> Rules:
        return cls(**{name: getattr(settings, name) for name in cls.__dataclass_fields__})

    def explanations(self) -> dict[str, str]:
        """One sentence per flag, shown below the table and in the flag's tooltip."""
        subscales = " or a negative subscale" if self.deterioration_subscales else ""
        return {
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
        }


LABELS = {
    DETERIORATION: "Reliable deterioration",
    QUIET: "Stopped logging",
    OVERDUE: "Assessment overdue",
    RISING: "Rising intensity",
}


# --- Values stored on the summary ------------------------------------------------------------


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


def window_means(
    daily: Mapping[dt.date, tuple[int, float]], through: dt.date, weeks: int
) -> list[float | None]:
    """Mean intensity in each of `weeks` seven-day windows ending on `through`, oldest first
    (None for a window without entries). `daily` maps a clinic-local day to (entries, sum)."""
    means: list[float | None] = []
    for back in range(weeks - 1, -1, -1):
        last = through - dt.timedelta(days=7 * back)
        days = [last - dt.timedelta(days=offset) for offset in range(7)]
        n = sum(daily.get(day, (0, 0.0))[0] for day in days)
        total = sum(daily.get(day, (0, 0.0))[1] for day in days)
        means.append(total / n if n else None)
    return means


def rising_slope(
    daily: Mapping[dt.date, tuple[int, float]], through: dt.date | None, weeks: int
) -> float | None:
    """The least-squares trend (points a week) of the window means up to `through`, over the
    windows with entries; None when more than one window is empty."""
    if through is None:
        return None
    means = window_means(daily, through, weeks)
    points = [(index, mean) for index, mean in enumerate(means) if mean is not None]
    if len(points) < max(weeks - 1, 2):
        return None
    fit = least_squares([x for x, _ in points], [y for _, y in points])
    return None if fit is None else fit[0]


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

    @property
    def label(self) -> str:
        return LABELS[self.kind]


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def is_quiet(summary: Any, rules: Rules, today: dt.date) -> bool:
    last = summary.last_activity_on
    return (
        last is not None
        and summary.activity_count >= rules.quiet_min_records
        and (today - last).days >= rules.quiet_days
    )


def is_overdue(summary: Any, rules: Rules, today: dt.date) -> bool:
    due = summary.next_due_on
    return due is not None and (today - due).days > rules.overdue_after_days


def is_due(summary: Any, today: dt.date) -> bool:
    return summary.next_due_on is not None and summary.next_due_on <= today


def is_rising(summary: Any, rules: Rules, today: dt.date) -> bool:
    through = summary.rising_through
    return (
        summary.rising_slope is not None
        and summary.rising_slope >= rules.rising_min_slope
        and through is not None
        and (today - through).days < 7
    )


def flags_for(summary: Any, rules: Rules, today: dt.date, scale_names=None) -> list[Flag]:
    """The flags raised for one client's summary (a ClientSummary or anything with its
    attributes; None for a client without one yet: no flags) on `today`, each marked
    acknowledged when its episode was acknowledged."""
    if summary is None:
        return []
    names = scale_names or {}
    flags = []
    if summary.deterioration and summary.scs_latest_id is not None:
        scales = ", ".join(names.get(code, code) for code in summary.deteriorated)
        flags.append(
            Flag(
                DETERIORATION,
                str(summary.scs_latest_id),
                f"SCS of {_day(summary.scs_latest_on)} vs baseline: {scales}",
                summary.ack_deterioration == summary.scs_latest_id,
            )
        )
    if is_quiet(summary, rules, today):
        last = summary.last_activity_on
        flags.append(
            Flag(
                QUIET,
                last.isoformat(),
                f"last entry or practice {_day(last)} ({(today - last).days} days ago)",
                summary.ack_quiet == last,
            )
        )
    if is_overdue(summary, rules, today):
        due = summary.next_due_on
        flags.append(
            Flag(
                OVERDUE,
                due.isoformat(),
                f"due {_day(due)} ({(today - due).days} days ago)",
                summary.ack_overdue == due,
            )
        )
    if is_rising(summary, rules, today):
        flags.append(
            Flag(
                RISING,
                summary.rising_week.isoformat(),
                f"+{summary.rising_slope:.1f} points a week up to {_day(summary.rising_through)}",
                summary.ack_rising == summary.rising_week,
            )
        )
    return flags


def parse_episode(kind: str, episode: str) -> int | dt.date:
    """An episode as stored on the summary: an administration id or a date. ValueError if
    malformed."""
    if kind == DETERIORATION:
        return int(episode)
    if kind in (QUIET, OVERDUE, RISING):
        return dt.date.fromisoformat(episode)
    raise ValueError(f"unknown flag {kind!r}")
