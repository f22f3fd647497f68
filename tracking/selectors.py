"""Reads of tracking data, tuned and bounded.

Staff-facing reads of inner-critic entries go through `redacted_entries`: the database itself
returns NULL instead of the words of a private entry, so no template, CSV or JSON built from
these rows can show them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain
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
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, TruncWeek
from django.urls import reverse
from django.utils import timezone

from clinic.timeline import TimelineItem
from tracking import analysis
from tracking.models import ClientDay, InnerCriticEntry, Pattern, TriggerCategory
from tracking.projections import parse_breakdown_key

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
    symptoms: list[dict] = field(default_factory=list)  # PHQ-9, GAD-7 totals (assessments)

    @property
    def total_entries(self) -> int:
        return int(self.weekly["entries"].sum()) if len(self.weekly) else 0


PRIVATE_TRIGGER = "Kept private"
CHART_PARTS = frozenset({"weekly", "breakdowns", "heatmap", "practice", "scs", "symptoms"})


def chart_range(first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """At most MAX_CHART_WEEKS weeks, ending on `last`."""
    return max(first, last - dt.timedelta(weeks=MAX_CHART_WEEKS) + dt.timedelta(days=1)), last


def client_days(client, first: dt.date, last: dt.date) -> list[ClientDay]:
    """The client's ClientDay rows from `first` to `last` (at most two years of days: one
    indexed query whatever the number of entries). The caller has checked access."""
    return list(ClientDay.objects.filter(client_id=client.pk, day__gte=first, day__lte=last))


def breakdown_counts(days: list[ClientDay], *, for_staff: bool) -> tuple[list, list]:
    """(trigger counts, pattern counts) as rows of category and n, from ClientDay rows. For
    staff a private entry's trigger counts as "Kept private"; its pattern counts as usual."""
    by_key = breakdown_keys(
        ((day.breakdown, day.private_breakdown) for day in days), for_staff=for_staff
    )
    return breakdown_rows(by_key, trigger_names(by_key))


def breakdown_keys(
    days: Iterable[tuple[dict, dict]], *, for_staff: bool
) -> dict[tuple[str | int | None, str], int]:
    """Entries per (trigger id, "Kept private" or None; pattern) from each day's breakdown and
    private breakdown. The stored keys are summed first and each parsed once: a year of days
    repeats the same few keys."""
    stored: dict[tuple[str, bool], int] = {}
    for breakdown, private_breakdown in days:
        for part, private in ((breakdown, False), (private_breakdown, True)):
            for key, n in part.items():
                stored[key, private] = stored.get((key, private), 0) + n
    by_key: dict[tuple[str | int | None, str], int] = {}
    for (key, private), n in stored.items():
        trigger, pattern = parse_breakdown_key(key)
        shown = PRIVATE_TRIGGER if private and for_staff else trigger
        by_key[(shown, pattern)] = by_key.get((shown, pattern), 0) + n
    return by_key


def trigger_names(by_key: dict[tuple[str | int | None, str], int]) -> dict[int, str]:
    """The names of the trigger categories counted in `by_key` (one query, none without)."""
    ids = {trigger for trigger, _ in by_key if isinstance(trigger, int)}
    if not ids:
        return {}
    return dict(TriggerCategory.objects.filter(pk__in=ids).values_list("pk", "name"))


def breakdown_rows(
    by_key: dict[tuple[str | int | None, str], int], names: dict[int, str]
) -> tuple[list, list]:
    """(trigger counts, pattern counts) as rows of category and n from `breakdown_keys`."""
    triggers = [
        {"category": names.get(trigger) if isinstance(trigger, int) else trigger, "n": n}
        for (trigger, _), n in by_key.items()
    ]
    patterns = [{"category": pattern or None, "n": n} for (_, pattern), n in by_key.items()]
    return triggers, patterns


JSON_DAY_FIELDS = frozenset({"hours", "practice_types", "breakdown", "private_breakdown"})


def day_columns(client, first: dt.date, last: dt.date, fields: list[str]) -> dict[str, Sequence]:
    """The `fields` of the client's ClientDay rows from `first` to `last`, column by column, in
    one query (the caller has checked access). The JSON columns come back as text and are
    decoded in a single json.loads call: decoding each value on its own, as the ORM does,
    costs more than the query itself on a year of days."""
    texts = {f"{name}_text": Cast(name, TextField()) for name in fields if name in JSON_DAY_FIELDS}
    rows = list(
        ClientDay.objects.filter(client_id=client.pk, day__gte=first, day__lte=last)
        .order_by()
        .annotate(**texts)
        .values_list(*(f"{name}_text" if name in JSON_DAY_FIELDS else name for name in fields))
    )
    if not rows:
        return {name: () for name in fields}
    columns: dict[str, Sequence] = dict(zip(fields, zip(*rows, strict=True), strict=True))
    decoded = [name for name in fields if name in JSON_DAY_FIELDS]
    if decoded:
        docs = json.loads("[" + ",".join(chain.from_iterable(columns[n] for n in decoded)) + "]")
        for at, name in enumerate(decoded):
            columns[name] = docs[at * len(rows) : (at + 1) * len(rows)]
    return columns


DAY_FIELDS = {
    "weekly": analysis.DAY_SUMS,
    "heatmap": ("hours",),
    "practice": ("practice_types",),
    "breakdowns": ("breakdown", "private_breakdown"),
}
"""The ClientDay columns each chart part reads (besides the day)."""


def chart_data(
    client,
    first: dt.date,
    last: dt.date,
    *,
    for_staff: bool = True,
    parts: frozenset[str] = CHART_PARTS,
) -> ChartData:
    """Summaries for the six charts, from the client's ClientDay rows (days in the clinic's
    time zone), finished by tracking.analysis. The payload and the work are bounded whatever
    the number of entries. The caller has checked access to `client`.

    For staff, the trigger of a private entry is counted as "Kept private": staff may see a
    private entry's time, pattern and intensities, nothing more. `parts` (of CHART_PARTS)
    names the summaries wanted; the others are left empty.

    The day rows are read as plain values, only the columns the parts need, and summed by
    tracking.analysis's day-row functions (plain Python: pandas' groupby costs far more than
    the sums on a few hundred rows); they give what the pandas reference gives."""
    first, last = chart_range(first, last)
    wanted = [name for part, names in DAY_FIELDS.items() if part in parts for name in names]
    days = day_columns(client, first, last, ["day", *wanted]) if wanted else {}

    def rows(part: str) -> Iterable[tuple]:
        """The day rows of a part as tuples: (day, *its columns); none for a part not asked."""
        if part not in parts:
            return []
        return zip(days["day"], *(days[name] for name in DAY_FIELDS[part]), strict=True)

    triggers, patterns = ([], [])
    if "breakdowns" in parts:
        by_key = breakdown_keys(
            zip(days["breakdown"], days["private_breakdown"], strict=True), for_staff=for_staff
        )
        triggers, patterns = breakdown_rows(by_key, trigger_names(by_key))
    return ChartData(
        weekly=analysis.weekly_summary_from_days(rows("weekly"), first, last),
        triggers=analysis.breakdown_from_count_rows(triggers),
        patterns=analysis.breakdown_from_count_rows(patterns, order=analysis.PATTERNS),
        heatmap=analysis.heatmap_from_days(rows("heatmap"), first, last),
        practice=analysis.practice_minutes_from_days(rows("practice"), first, last),
        scs=analysis.scs_trend_from_rows(scs_trend(client) if "scs" in parts else [], first, last),
        first=first,
        last=last,
        symptoms=symptom_trend(client, first, last) if "symptoms" in parts else [],
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
            title=(
                f"{row['entries']} inner-critic entr{'y' if row['entries'] == 1 else 'ies'} "
                f"in the week of {_week_label(row['week'], tz)}"
            ),
            url=url,
            summary=f"Mean intensity {row['mean']:.1f}/10; {row['reframed']} reframed",
            timed=False,
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
                timed=False,
            )
        )
    return items


def _week_label(week, tz: ZoneInfo) -> str:
    """A week's Monday as "23 Nov" (TruncWeek gives a local midnight, or a date)."""
    day = timezone.localtime(week, tz).date() if isinstance(week, dt.datetime) else week
    return f"{day.day} {day:%b}"


# --- Figures: tracking.charts builds them from the summaries --------------------------------


def chart_figures(data: ChartData, *, time_zone: str = ""):
    """The charts (tracking.charts.Chart: figure, caption, table, empty state); the SCS
    subscales on demand."""
    from tracking import charts

    return [
        charts.entries_per_week_chart(data.weekly),
        charts.intensity_chart(data.weekly),
        charts.breakdown_chart(data.triggers, data.patterns),
        charts.heatmap_chart(data.heatmap, time_zone),
        charts.practice_chart(data.practice),
        charts.scs_chart(data.scs),
        charts.scs_subscales_chart(data.scs),
        charts.symptom_chart(data.symptoms),
    ]


def symptom_trend(client, first: dt.date, last: dt.date) -> list[dict]:
    """PHQ-9 and GAD-7 totals over the chart's days, from the assessments app."""
    from assessments.selectors import symptom_totals

    return symptom_totals(client, first, last)


def scs_trend(client) -> list[dict]:
    """SCS subscale scores over time: [{"administered_on", "subscale", "score"}], from the
    assessments app (tracking may read assessments; never the other way round)."""
    from assessments.selectors import scs_subscale_trend

    return scs_subscale_trend(client)
