"""Reads for the session brief: one client, since a date, in a fixed number of queries.

The caller has already loaded `client` through clinic.access; the tracking rows come through
tracking.access's staff querysets, so a private entry contributes its time, intensity and
pattern only (its trigger is counted as "Kept private", as on the staff charts).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from assessments.instruments import TOTAL, get_instrument
from assessments.models import Administration
from assessments.reliable_change import ReliableChange, reliable_change_for
from clinic.models import AuditAction, AuditEvent, Client, User
from dashboard import charts as dashboard_charts
from dashboard import flags, selectors, stats
from dashboard.selectors import SCS
from tracking import access as tracking_access
from tracking import charts as tracking_charts
from tracking.charts import Chart
from tracking.models import Pattern, PracticeType
from tracking.selectors import breakdown_counts, chart_data, client_days, day_bounds

SUBJECT = "session brief"
DEFAULT_DAYS = 28
CHART_WEEKS = 12


@dataclass
class ScaleChange:
    code: str
    name: str
    direction_label: str
    then: float | None
    latest: float | None
    since_then: ReliableChange | None
    since_baseline: ReliableChange | None


@dataclass
class Brief:
    client: Client
    since: dt.date
    today: dt.date
    since_reason: str
    then_on: dt.date | None = None
    latest_on: dt.date | None = None
    baseline_on: dt.date | None = None
    scales: list[ScaleChange] = field(default_factory=list)
    entries: int = 0
    mean_intensity: float | None = None
    triggers: list[tuple[str, int]] = field(default_factory=list)
    patterns: list[tuple[str, int]] = field(default_factory=list)
    reframed: int = 0
    reframe_before: float | None = None
    reframe_after: float | None = None
    practice_minutes: int = 0
    practice_sessions: int = 0
    practice_kinds: list[tuple[str, int, int]] = field(default_factory=list)
    journal_entries: int = 0
    flags: list[flags.Flag] = field(default_factory=list)
    symptoms: list[selectors.SymptomScore] = field(default_factory=list)  # PHQ-9, GAD-7
    charts: list[Chart] = field(default_factory=list)
    dose: pd.DataFrame | None = None
    dose_chart: Chart | None = None

    @property
    def reframe_drop(self) -> float | None:
        if self.reframe_before is None or self.reframe_after is None:
            return None
        return self.reframe_before - self.reframe_after

    @property
    def days(self) -> int:
        return (self.today - self.since).days + 1


def default_since(user: User, client: Client, today: dt.date) -> tuple[dt.date, str]:
    """The day of this user's last brief of this client before today (that day included, as
    the session may have come after the brief), else the last 4 weeks."""
    tz = client.organisation.tz
    start_of_today, _ = day_bounds(tz, today, today)
    last = (
        AuditEvent.objects.filter(
            client=client, actor=user, subject=SUBJECT, action=AuditAction.VIEW
        )
        .filter(at__lt=start_of_today)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    if last is not None:
        day = last.astimezone(tz).date()
        return day, f"since your last brief for this client ({day.day} {day:%b %Y})"
    since = today - dt.timedelta(days=DEFAULT_DAYS - 1)
    return since, f"the last {DEFAULT_DAYS} days (no earlier brief of yours)"


def brief_for(user: User, client: Client, since: dt.date, today: dt.date, reason: str) -> Brief:
    """The brief of a client the caller has checked access to: from the projections (SCS
    summaries and intervals, day rollups) and, for the journal, a count."""
    brief = Brief(client=client, since=since, today=today, since_reason=reason)
    context = selectors.clinic_context(client.organisation_id)
    history = _scs(brief, context.sds)
    days = client_days(client, since, today)
    _entries(brief, days)
    _practice(brief, days)
    brief.journal_entries = (
        tracking_access.staff_journal(user, client)
        .filter(week_start__gte=since - dt.timedelta(days=6), week_start__lte=today)
        .count()
    )
    row = selectors.client_row(client, context, today)
    brief.flags = row.flags
    brief.symptoms = list(row.symptoms.values())  # PHQ-9, then GAD-7 (SYMPTOM_MEASURES)
    first = min(since, today - dt.timedelta(weeks=CHART_WEEKS) + dt.timedelta(days=1))
    if client.intake_date and first < client.intake_date <= today:
        first = client.intake_date - dt.timedelta(days=client.intake_date.weekday())
    data = chart_data(
        client,
        first,
        today,
        for_staff=True,
        parts=frozenset({"weekly", "practice", "scs", "symptoms"}),
    )
    brief.charts = [
        tracking_charts.scs_chart(data.scs),
        tracking_charts.intensity_chart(data.weekly),
        tracking_charts.practice_chart(data.practice),
    ]
    if data.symptoms:
        brief.charts.append(tracking_charts.symptom_chart(data.symptoms))
    _dose(brief, client, history)
    return brief


def _scs(brief: Brief, sds) -> list[Administration]:
    """The SCS on or before `since` (else the first after it) against the latest one; returns
    the client's SCS history, oldest first."""
    instrument = get_instrument(SCS)
    history = list(
        Administration.objects.scored()
        .filter(client=brief.client, instrument_code=SCS)
        .with_score_values()
        .order_by("administered_on", "created_at", "pk")
    )
    if not history:
        return history
    baseline, latest = history[0], history[-1]
    before = [a for a in history if a.administered_on <= brief.since]
    then = before[-1] if before else history[0]
    brief.baseline_on, brief.latest_on = baseline.administered_on, latest.administered_on
    if then.pk == latest.pk:
        brief.then_on = None
    else:
        brief.then_on = then.administered_on

    def change(earlier, scale):
        if earlier is None or earlier.pk == latest.pk:
            return None
        if scale == TOTAL and earlier.score.total_method != latest.score.total_method:
            return None
        return reliable_change_for(
            instrument,
            scale,
            earlier.score.scale_value(scale),
            latest.score.scale_value(scale),
            sds.get(scale),
        )

    then_or_none = then if brief.then_on else None
    rows = [(TOTAL, "Total", instrument.direction_label(TOTAL))] if instrument.has_total else []
    rows += [(s.code, s.name, s.direction_label) for s in instrument.subscales]
    brief.scales = [
        ScaleChange(
            code=code,
            name=name,
            direction_label=direction,
            then=then.score.scale_value(code) if then_or_none else None,
            latest=latest.score.scale_value(code),
            since_then=change(then_or_none, code),
            since_baseline=change(baseline, code),
        )
        for code, name, direction in rows
    ]
    return history


def _entries(brief: Brief, days) -> None:
    """Entries of the period from the day rollups: counts, means, reframes, and the top
    triggers and patterns (a private entry's trigger counts as "Kept private")."""
    brief.entries = sum(day.entries for day in days)
    brief.mean_intensity = (
        sum(day.intensity_sum for day in days) / brief.entries if brief.entries else None
    )
    brief.reframed = sum(day.reframed for day in days)
    if brief.reframed:
        brief.reframe_before = sum(day.reframed_intensity_sum for day in days) / brief.reframed
        brief.reframe_after = sum(day.intensity_after_sum for day in days) / brief.reframed
    triggers, patterns = breakdown_counts(days, for_staff=True)
    by_trigger: dict[str, int] = {}
    for row in triggers:
        name = row["category"] or "No trigger given"
        by_trigger[name] = by_trigger.get(name, 0) + row["n"]
    by_pattern: dict[str, int] = {}
    for row in patterns:
        label = Pattern(row["category"]).label if row["category"] else "No pattern given"
        by_pattern[label] = by_pattern.get(label, 0) + row["n"]
    brief.triggers = sorted(by_trigger.items(), key=lambda item: (-item[1], item[0]))[:5]
    brief.patterns = sorted(by_pattern.items(), key=lambda item: (-item[1], item[0]))


def _practice(brief: Brief, days) -> None:
    kinds: dict[str, list[int]] = {}
    for day in days:
        for kind, (minutes, sessions) in day.practice_types.items():
            total = kinds.setdefault(kind, [0, 0])
            total[0] += minutes
            total[1] += sessions
    brief.practice_kinds = sorted(
        (
            (PracticeType(kind).label, minutes, sessions)
            for kind, (minutes, sessions) in kinds.items()
        ),
        key=lambda item: (-item[1], item[0]),
    )
    brief.practice_minutes = sum(minutes for minutes, _ in kinds.values())
    brief.practice_sessions = sum(sessions for _, sessions in kinds.values())


def _dose(brief: Brief, client: Client, history: list[Administration]) -> None:
    """Practice minutes and reframes between this client's consecutive SCS administrations."""
    if len(history) < 2:
        return
    frame = selectors.dose_frame([client.pk])
    brief.dose = frame
    association = stats.association(frame["minutes"], frame["change_total"])
    brief.dose_chart = dashboard_charts.dose_response_chart(
        frame,
        x="minutes",
        y="change_total",
        x_label="Practice minutes between questionnaires",
        y_label="Change in SCS total",
        association=association,
    )
