"""Reads of tracking data, tuned and bounded.

Staff-facing reads of inner-critic entries go through `redacted_entries`: the database itself
returns NULL instead of the words of a private entry, so no template, CSV or JSON built from
these rows can show them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pandas as pd
from django.db.models import (
    Avg,
    Case,
    CharField,
    Count,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, TruncWeek
from django.urls import reverse
from django.utils import timezone

from clinic.timeline import TimelineItem
from tracking import analysis
from tracking.models import InnerCriticEntry, Pattern, PracticeSession

FEED_LIMIT = 200  # rows shown on one page of a list; the page says when there are more
MAX_CHART_WEEKS = analysis.MAX_WEEKS  # weekly bins on a chart: two years at most

ENTRY_FIELDS = (
    "id",
    "occurred_at",
    "intensity",
    "intensity_after",
    "reframed_at",
    "pattern",
    "emotions",
    "is_private",
    "created_by_id",
    "client_id",
)


# --- Weeks in the clinic's time zone -----------------------------------------------------------


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def local_week_start(tz: ZoneInfo, now: dt.datetime | None = None) -> dt.date:
    return week_start(timezone.localtime(now or timezone.now(), tz).date())


def day_bounds(tz: ZoneInfo, first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Aware [start, end) instants covering local days first..last inclusive."""
    start = dt.datetime.combine(first, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


# --- Entries as rows -----------------------------------------------------------------------


def redacted_entries(entries: QuerySet[InnerCriticEntry]) -> QuerySet:
    """Staff-facing rows: the words of a private entry come back as None from the database."""
    hidden = {
        field: Case(
            When(is_private=True, then=Value(None, output_field=CharField())),
            default=F(field),
            output_field=CharField(),
        )
        for field in InnerCriticEntry.TEXT_FIELDS
    }
    return entries.values(
        *ENTRY_FIELDS,
        trigger_name=F("trigger__name"),
        **{f"{name}_shown": expression for name, expression in hidden.items()},
    )


def own_entry_rows(entries: QuerySet[InnerCriticEntry]) -> QuerySet:
    """The client's own rows, same shape as redacted_entries, words always shown."""
    return entries.values(
        *ENTRY_FIELDS,
        trigger_name=F("trigger__name"),
        **{f"{name}_shown": F(name) for name in InnerCriticEntry.TEXT_FIELDS},
    )


@dataclass
class DayGroup:
    day: dt.date
    entries: list[dict]


def group_by_local_day(rows: list[dict], tz: ZoneInfo) -> list[DayGroup]:
    groups: dict[dt.date, list[dict]] = {}
    for row in rows:
        row["local_time"] = timezone.localtime(row["occurred_at"], tz)
        row["pattern_label"] = Pattern(row["pattern"]).label if row["pattern"] else ""
        groups.setdefault(row["local_time"].date(), []).append(row)
    return [DayGroup(day, entries) for day, entries in groups.items()]


def range_feed(
    rows: QuerySet, tz: ZoneInfo, first: dt.date, last: dt.date
) -> tuple[list[DayGroup], bool]:
    """Entries of local days first..last, newest first, at most FEED_LIMIT (and whether there
    were more)."""
    start, end = day_bounds(tz, first, last)
    window = list(
        rows.filter(occurred_at__gte=start, occurred_at__lt=end).order_by("-occurred_at", "-id")[
            : FEED_LIMIT + 1
        ]
    )
    return group_by_local_day(window[:FEED_LIMIT], tz), len(window) > FEED_LIMIT


def week_feed(rows: QuerySet, tz: ZoneInfo, monday: dt.date) -> tuple[list[DayGroup], bool]:
    """One week of entries (Monday..Sunday, clinic time)."""
    return range_feed(rows, tz, monday, monday + dt.timedelta(days=6))


# --- Chart aggregates (in the database; a handful of rows whatever the number of entries) -----


@dataclass
class ChartData:
    """Bounded summaries from tracking.analysis (weekly bins, 7x24 cells, a few categories)."""

    weekly: pd.DataFrame  # analysis.WEEKLY_COLUMNS
    triggers: pd.DataFrame  # analysis.BREAKDOWN_COLUMNS
    patterns: pd.DataFrame  # analysis.BREAKDOWN_COLUMNS
    heatmap: pd.DataFrame  # 7 x 24 counts
    practice: pd.DataFrame  # week_start, one column per type, total
    scs: pd.DataFrame  # subscale, administered_on, score
    first: dt.date
    last: dt.date

    @property
    def total_entries(self) -> int:
        return int(self.weekly["entries"].sum()) if len(self.weekly) else 0


def _bucket_sums() -> dict:
    reframed = Q(intensity_after__isnull=False)
    return {
        "n": Count("pk"),
        "sum_intensity": Sum("intensity"),
        "n_reframed": Count("pk", filter=reframed),
        "sum_intensity_reframed": Sum("intensity", filter=reframed),
        "sum_intensity_after": Sum("intensity_after"),
    }


def weekly_bucket_rows(
    entries: QuerySet[InnerCriticEntry], tz: ZoneInfo, first: dt.date
) -> list[dict]:
    """Entries summed per local week in SQL, in tracking.analysis's hourly-bucket shape (one
    bucket per week, dated on the week's first day within the range): one row a week."""
    rows = list(
        entries.order_by()
        .annotate(week=TruncWeek("occurred_at", tzinfo=tz))
        .values("week")
        .annotate(**_bucket_sums())
    )
    for row in rows:
        week = row.pop("week")
        week = timezone.localtime(week, tz).date() if isinstance(week, dt.datetime) else week
        row.update(local_date=max(week, first), hour=0)
    return rows


def weekday_hour_bucket_rows(
    entries: QuerySet[InnerCriticEntry], tz: ZoneInfo, first: dt.date
) -> list[dict]:
    """Entries counted per local weekday and hour in SQL (at most 7 x 24 rows), as buckets
    dated on the range's first day with that weekday."""
    rows = list(
        entries.order_by()
        .annotate(
            weekday=ExtractIsoWeekDay("occurred_at", tzinfo=tz),
            hour=ExtractHour("occurred_at", tzinfo=tz),
        )
        .values("weekday", "hour")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        weekday = row.pop("weekday") - 1
        row["local_date"] = first + dt.timedelta(days=(weekday - first.weekday()) % 7)
    return rows


PRIVATE_TRIGGER = "Kept private"
CHART_PARTS = frozenset({"weekly", "breakdowns", "heatmap", "practice", "scs"})


def chart_range(first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """At most MAX_CHART_WEEKS weeks, ending on `last`."""
    return max(first, last - dt.timedelta(weeks=MAX_CHART_WEEKS) + dt.timedelta(days=1)), last


def chart_version(client) -> str:
    """Changes whenever an entry, practice session or questionnaire score of the client is
    added or changed: one query reading three indexes. Cached chart fragments are keyed on it.
    Callers have already checked access to `client`; only timestamps are read, never shown."""
    from django.db.models import OuterRef, Subquery

    from assessments.models import Score

    newest_score = Score.objects.filter(administration__client_id=OuterRef("pk")).order_by(
        "-scored_at"
    )
    newest_entry = InnerCriticEntry.objects.filter(client_id=OuterRef("pk")).order_by("-updated_at")
    newest_practice = PracticeSession.objects.filter(client_id=OuterRef("pk")).order_by(
        "-created_at"
    )
    row = (
        type(client)
        .objects.filter(pk=client.pk)
        .values(
            entries=Subquery(newest_entry.values("updated_at")[:1]),
            # A deletion leaves the newest time unchanged; the count changes.
            entry_count=Subquery(
                InnerCriticEntry.objects.filter(client_id=OuterRef("pk"))
                .order_by()
                .values("client_id")
                .annotate(n=Count("pk"))
                .values("n")[:1]
            ),
            practice=Subquery(newest_practice.values("created_at")[:1]),
            scores=Subquery(newest_score.values("scored_at")[:1]),
        )
        .first()
    ) or {}
    stamps = [row.get("entries"), row.get("practice"), row.get("scores")]
    times = "-".join(str(stamp.timestamp()) if stamp else "0" for stamp in stamps)
    return f"{times}-{row.get('entry_count') or 0}"


def chart_data(
    entries: QuerySet[InnerCriticEntry],
    practice: QuerySet[PracticeSession],
    tz: ZoneInfo,
    first: dt.date,
    last: dt.date,
    client=None,
    *,
    for_staff: bool = True,
    parts: frozenset[str] = CHART_PARTS,
) -> ChartData:
    """Summaries for the six charts: grouped in the database in the clinic's time zone, then
    finished by tracking.analysis. The payload is bounded whatever the number of entries.

    For staff, the trigger of a private entry is counted as "Kept private": staff may see a
    private entry's time, pattern and intensities, nothing more. `parts` (of CHART_PARTS)
    names the summaries wanted; the others are left empty, with no query."""

    first, last = chart_range(first, last)
    start, end = day_bounds(tz, first, last)
    window = entries.filter(occurred_at__gte=start, occurred_at__lt=end).order_by()
    # One scan for both breakdowns: at most (triggers + 1) x 4 rows.
    trigger_name = F("trigger__name")
    if for_staff:
        trigger_name = Case(
            When(is_private=True, then=Value(PRIVATE_TRIGGER)),
            default=F("trigger__name"),
            output_field=CharField(),
        )
    pairs = []
    if "breakdowns" in parts:
        pairs = list(window.values("pattern", trigger_name=trigger_name).annotate(n=Count("pk")))
    triggers = [{"category": row["trigger_name"], "n": row["n"]} for row in pairs]
    patterns = [{"category": row["pattern"], "n": row["n"]} for row in pairs]
    practice_rows = (
        practice.filter(practised_on__gte=first, practised_on__lte=last)
        .order_by()
        .values("practised_on", "practice_type")
        .annotate(minutes=Sum("minutes"))
        if "practice" in parts
        else []
    )
    weekly = weekly_bucket_rows(window, tz, first) if "weekly" in parts else []
    heatmap = weekday_hour_bucket_rows(window, tz, first) if "heatmap" in parts else []
    return ChartData(
        weekly=analysis.weekly_summary_from_buckets(weekly, first, last),
        triggers=analysis.breakdown_from_counts(triggers),
        patterns=analysis.breakdown_from_counts(patterns, order=analysis.PATTERNS),
        heatmap=analysis.heatmap_from_buckets(heatmap, first, last),
        practice=analysis.practice_minutes_weekly(list(practice_rows), first, last),
        scs=analysis.scs_trend(
            scs_trend(client) if client is not None and "scs" in parts else [], first, last
        ),
        first=first,
        last=last,
    )


# --- Timeline on the client record (counts and intensities only, never words) -------------


def timeline_items(client, user) -> list[TimelineItem]:
    from tracking.access import staff_entries, staff_practice

    tz = client.organisation.tz
    monday = local_week_start(tz)
    start, end = day_bounds(tz, monday - dt.timedelta(weeks=3), monday + dt.timedelta(days=6))
    weeks = (
        staff_entries(user, client)
        .filter(occurred_at__gte=start, occurred_at__lt=end)
        .order_by()
        .annotate(week=TruncWeek("occurred_at", tzinfo=tz))
        .values("week")
        .annotate(
            entries=Count("id"),
            mean=Avg("intensity"),
            reframed=Count("id", filter=Q(reframed_at__isnull=False)),
        )
        .order_by("-week")[:4]
    )
    url = reverse("tracking:client_log", kwargs={"client_id": client.pk})
    items = [
        TimelineItem(
            when=row["week"]
            if isinstance(row["week"], dt.datetime)
            else dt.datetime.combine(row["week"], dt.time.min, tzinfo=tz),
            kind="Inner-critic log",
            title=f"{row['entries']} inner-critic entr{'y' if row['entries'] == 1 else 'ies'}",
            url=url,
            summary=f"Mean intensity {row['mean']:.1f}/10; {row['reframed']} reframed",
        )
        for row in weeks
    ]
    practice = (
        staff_practice(user, client)
        .filter(practised_on__gte=monday - dt.timedelta(weeks=3))
        .aggregate(minutes=Sum("minutes"), sessions=Count("id"))
    )
    if practice["sessions"]:
        items.append(
            TimelineItem(
                when=dt.datetime.combine(monday, dt.time.min, tzinfo=tz),
                kind="Practice",
                title=f"{practice['sessions']} practice sessions in the last 4 weeks",
                url=url,
                summary=f"{practice['minutes']} minutes in all",
            )
        )
    return items


# --- Figures: tracking.charts builds them from the summaries --------------------------------


def chart_figures(data: ChartData, *, time_zone: str = ""):
    """The six charts (tracking.charts.Chart: figure, caption, table, empty state)."""
    from tracking import charts

    return [
        charts.entries_per_week_chart(data.weekly),
        charts.intensity_chart(data.weekly),
        charts.breakdown_chart(data.triggers, data.patterns),
        charts.heatmap_chart(data.heatmap, time_zone),
        charts.practice_chart(data.practice),
        charts.scs_chart(data.scs),
    ]


def scs_trend(client) -> list[dict]:
    """SCS subscale scores over time: [{"administered_on", "subscale", "score"}], from the
    assessments app (tracking may read assessments; never the other way round)."""
    from assessments.selectors import scs_subscale_trend

    return scs_subscale_trend(client)
