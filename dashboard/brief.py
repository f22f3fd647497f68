"""Reads for the session brief: one client, since a date, in a fixed number of queries.

The caller has already loaded `client` through clinic.access; the tracking rows come through
tracking.access's staff querysets, so a private entry contributes its time, intensity and
pattern only (its trigger is counted as "Kept private", as on the staff charts).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd
from django.db.models import Avg, Case, CharField, Count, F, Q, Sum, Value, When
from django.db.models.functions import TruncDate

from assessments.instruments import TOTAL, get_instrument
from assessments.models import Administration
from assessments.reliable_change import ReliableChange, reliable_change_for
from assessments.selectors import sd_choices
from clinic.models import AuditAction, AuditEvent, Client, User
from dashboard import charts as dashboard_charts
from dashboard import flags, stats
from dashboard.models import ClientSummary
from dashboard.selectors import SCS, scale_names
from tracking import access as tracking_access
from tracking import charts as tracking_charts
from tracking.charts import Chart
from tracking.models import Pattern, PracticeType
from tracking.selectors import PRIVATE_TRIGGER, chart_data, day_bounds

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


def brief_for(
    user: User, client: Client, since: dt.date, today: dt.date, reason: str, rules: flags.Rules
) -> Brief:
    tz = client.organisation.tz
    brief = Brief(client=client, since=since, today=today, since_reason=reason)
    history = _scs(brief)
    start, end = day_bounds(tz, since, today)
    entries = tracking_access.staff_entries(user, client).filter(
        occurred_at__gte=start, occurred_at__lt=end
    )
    _entries(brief, entries)
    practice = tracking_access.staff_practice(user, client).filter(
        practised_on__gte=since, practised_on__lte=today
    )
    _practice(brief, practice)
    brief.journal_entries = (
        tracking_access.staff_journal(user, client)
        .filter(week_start__gte=since - dt.timedelta(days=6), week_start__lte=today)
        .count()
    )
    summary = ClientSummary.objects.filter(client=client).first()
    brief.flags = flags.flags_for(summary, rules, today, scale_names())
    first = min(since, today - dt.timedelta(weeks=CHART_WEEKS) + dt.timedelta(days=1))
    data = chart_data(
        tracking_access.staff_entries(user, client),
        tracking_access.staff_practice(user, client),
        tz,
        first,
        today,
        client,
        for_staff=True,
        parts=frozenset({"weekly", "practice", "scs"}),
    )
    brief.charts = [
        tracking_charts.scs_chart(data.scs),
        tracking_charts.intensity_chart(data.weekly),
        tracking_charts.practice_chart(data.practice),
    ]
    _dose(brief, user, client, tz, history)
    return brief


def _scs(brief: Brief) -> list[Administration]:
    """The SCS on or before `since` (else the first after it) against the latest one; returns
    the client's SCS history, oldest first."""
    instrument = get_instrument(SCS)
    history = list(
        Administration.objects.scored()
        .filter(client=brief.client, instrument_code=SCS)
        .select_related("score")
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
    sds = sd_choices(brief.client.organisation_id, instrument)

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


def _entries(brief: Brief, entries) -> None:
    reframed = Q(intensity_after__isnull=False)
    totals = entries.order_by().aggregate(
        n=Count("pk"),
        mean=Avg("intensity"),
        reframed=Count("pk", filter=reframed),
        before=Avg("intensity", filter=reframed),
        after=Avg("intensity_after", filter=reframed),
    )
    brief.entries = totals["n"]
    brief.mean_intensity = totals["mean"]
    brief.reframed = totals["reframed"]
    brief.reframe_before, brief.reframe_after = totals["before"], totals["after"]
    trigger = Case(
        When(is_private=True, then=Value(PRIVATE_TRIGGER)),
        default=F("trigger__name"),
        output_field=CharField(),
    )
    pairs = list(entries.order_by().values("pattern", name=trigger).annotate(n=Count("pk")))
    by_trigger: dict[str, int] = {}
    by_pattern: dict[str, int] = {}
    for row in pairs:
        name = row["name"] or "No trigger given"
        by_trigger[name] = by_trigger.get(name, 0) + row["n"]
        label = Pattern(row["pattern"]).label if row["pattern"] else "No pattern given"
        by_pattern[label] = by_pattern.get(label, 0) + row["n"]
    brief.triggers = sorted(by_trigger.items(), key=lambda item: (-item[1], item[0]))[:5]
    brief.patterns = sorted(by_pattern.items(), key=lambda item: (-item[1], item[0]))


def _practice(brief: Brief, practice) -> None:
    rows = list(
        practice.order_by()
        .values("practice_type")
        .annotate(minutes=Sum("minutes"), sessions=Count("pk"))
    )
    brief.practice_kinds = sorted(
        (
            (PracticeType(row["practice_type"]).label, row["minutes"], row["sessions"])
            for row in rows
        ),
        key=lambda item: (-item[1], item[0]),
    )
    brief.practice_minutes = sum(row["minutes"] for row in rows)
    brief.practice_sessions = sum(row["sessions"] for row in rows)


def _dose(brief: Brief, user: User, client: Client, tz, history: list[Administration]) -> None:
    """Practice minutes and reframes between this client's consecutive SCS administrations."""
    if len(history) < 2:
        return
    administrations = [
        {
            "client_id": client.pk,
            "administered_on": a.administered_on,
            "total": a.score.total,
            "total_method": a.score.total_method,
            "subscales": {code: (v or {}).get("score") for code, v in a.score.subscales.items()},
        }
        for a in history
    ]
    first = history[0].administered_on
    practice = [
        {"client_id": client.pk, "day": row["practised_on"], "minutes": row["minutes"]}
        for row in tracking_access.staff_practice(user, client)
        .filter(practised_on__gt=first)
        .order_by()
        .values("practised_on")
        .annotate(minutes=Sum("minutes"))
    ]
    start, _ = day_bounds(tz, first, first)
    reframes = [
        {"client_id": client.pk, "day": row["day"], "n": row["n"]}
        for row in tracking_access.staff_entries(user, client)
        .filter(reframed_at__gte=start)
        .order_by()
        .annotate(day=TruncDate("reframed_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("pk"))
    ]
    frame = stats.dose_between(stats.consecutive_intervals(administrations), practice, reframes)
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
