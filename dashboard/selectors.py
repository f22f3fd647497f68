"""Reads for the dashboard: the caseload table, its flags in SQL, and the 14-day counts.

Every function runs a fixed number of queries whatever the size of the caseload or the data:
the table is one query over the clients in scope joined to their ClientSummary, and the
figures that slide with the calendar (14-day counts) are computed for the rows of one page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast, Coalesce

from assessments.instruments import get_instrument
from assessments.models import Administration
from clinic.access import clients_for
from clinic.models import Client, ClientStatus, Programme, User
from dashboard import flags
from dashboard.models import ClientSummary
from tracking.models import InnerCriticEntry, PracticeSession
from tracking.selectors import day_bounds

RECENT_DAYS = 14
SCS = "scs"
S = "dashboard_summary__"

SORTS = {
    "attention": ("-open_flags", "code"),
    "code": ("code",),
    "-code": ("-code",),
    "name": ("display_name", "code"),
    "-name": ("-display_name", "code"),
    "score": (F(f"{S}scs_latest_total").asc(nulls_last=True), "code"),
    "-score": (F(f"{S}scs_latest_total").desc(nulls_last=True), "code"),
    "change": (F(f"{S}scs_change").asc(nulls_last=True), "code"),
    "-change": (F(f"{S}scs_change").desc(nulls_last=True), "code"),
    "assessed": (F(f"{S}last_assessed_on").asc(nulls_first=True), "code"),
    "-assessed": (F(f"{S}last_assessed_on").desc(nulls_last=True), "code"),
    "due": (F(f"{S}next_due_on").asc(nulls_last=True), "code"),
    "-due": (F(f"{S}next_due_on").desc(nulls_last=True), "code"),
    "activity": (F(f"{S}last_activity_on").asc(nulls_first=True), "code"),
    "-activity": (F(f"{S}last_activity_on").desc(nulls_last=True), "code"),
    "entries": ("entries_recent", "code"),
    "-entries": ("-entries_recent", "code"),
    "minutes": ("minutes_recent", "code"),
    "-minutes": ("-minutes_recent", "code"),
}
SORT_LABELS = {
    "attention": "Needs attention first",
    "code": "Code",
    "name": "Name",
    "score": "Latest SCS total",
    "change": "Change since baseline",
    "assessed": "Last SCS",
    "due": "Next SCS due",
    "activity": "Last activity",
    "entries": "Entries, last 14 days",
    "minutes": "Practice minutes, last 14 days",
}
FLAG_FILTERS = {
    "": "All active clients",
    "open": "With an open flag",
    "none": "Without open flags",
    flags.DETERIORATION: flags.LABELS[flags.DETERIORATION],
    flags.QUIET: flags.LABELS[flags.QUIET],
    flags.OVERDUE: flags.LABELS[flags.OVERDUE],
    flags.RISING: flags.LABELS[flags.RISING],
    "due": "Assessment due now",
}


@dataclass(frozen=True)
class DashboardFilters:
    q: str = ""
    clinician: User | None = None
    programme: Programme | None = None
    flag: str = ""
    sort: str = "attention"


def _not_acked(ack: str, episode: str) -> Q:
    return (
        Q(**{f"{S}{ack}__isnull": True})
        | Q(**{f"{S}{ack}__lt": F(f"{S}{episode}")})
        | Q(**{f"{S}{ack}__gt": F(f"{S}{episode}")})
    )


def open_flag_conditions(rules: flags.Rules, today: dt.date) -> dict[str, Q]:
    """dashboard.flags' rules for an open (raised, not acknowledged) flag, as SQL conditions
    on the client's summary. tests/dashboard check that both say the same."""
    return {
        flags.DETERIORATION: Q(**{f"{S}deterioration": True})
        & Q(**{f"{S}scs_latest_id__isnull": False})
        & _not_acked("ack_deterioration", "scs_latest_id"),
        flags.QUIET: Q(**{f"{S}last_activity_on__lte": today - dt.timedelta(rules.quiet_days)})
        & Q(**{f"{S}activity_count__gte": rules.quiet_min_records})
        & _not_acked("ack_quiet", "last_activity_on"),
        flags.OVERDUE: Q(**{f"{S}next_due_on__lt": today - dt.timedelta(rules.overdue_after_days)})
        & _not_acked("ack_overdue", "next_due_on"),
        flags.RISING: Q(**{f"{S}rising_slope__gte": rules.rising_min_slope})
        & Q(**{f"{S}rising_through__gt": today - dt.timedelta(days=7)})
        & _not_acked("ack_rising", "rising_week"),
    }


def _recent_window(tz, today: dt.date) -> tuple[dt.date, dt.datetime, dt.datetime]:
    first = today - dt.timedelta(days=RECENT_DAYS - 1)
    start, end = day_bounds(tz, first, today)
    return first, start, end


def dashboard_clients(
    user: User, filters: DashboardFilters, rules: flags.Rules, today: dt.date, tz
) -> QuerySet[Client]:
    """The user's active clients (a clinic admin's: the whole clinic), with their summary and
    one 0/1 column per open flag plus `open_flags`, filtered and sorted."""
    clients = clients_for(user).filter(status=ClientStatus.ACTIVE).matching(filters.q)
    if filters.clinician is not None:
        clients = clients.on_care_team_of(filters.clinician)
    if filters.programme is not None:
        clients = clients.filter(programmes=filters.programme)
    conditions = open_flag_conditions(rules, today)
    columns = {
        f"flag_{kind}": Case(When(condition, then=Value(1)), default=Value(0))
        for kind, condition in conditions.items()
    }
    clients = clients.annotate(**columns).annotate(
        open_flags=sum((F(name) for name in columns), Value(0))
    )
    if filters.flag == "open":
        clients = clients.filter(open_flags__gt=0)
    elif filters.flag == "none":
        clients = clients.filter(open_flags=0)
    elif filters.flag in conditions:
        clients = clients.filter(conditions[filters.flag])
    elif filters.flag == "due":
        clients = clients.filter(**{f"{S}next_due_on__lte": today})
    sort = filters.sort if filters.sort in SORTS else "attention"
    if sort.lstrip("-") in ("entries", "minutes"):
        clients = _with_recent_totals(clients, tz, today)
    return clients.select_related("dashboard_summary", "primary_clinician").order_by(*SORTS[sort])


def _with_recent_totals(clients: QuerySet[Client], tz, today: dt.date) -> QuerySet[Client]:
    """Annotate the 14-day counts for sorting (a subquery per client: used only to sort)."""
    first, start, end = _recent_window(tz, today)
    entries = (
        InnerCriticEntry.objects.filter(
            client_id=OuterRef("pk"), occurred_at__gte=start, occurred_at__lt=end
        )
        .order_by()
        .values("client_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    minutes = (
        PracticeSession.objects.filter(
            client_id=OuterRef("pk"), practised_on__gte=first, practised_on__lte=today
        )
        .order_by()
        .values("client_id")
        .annotate(m=Sum("minutes"))
        .values("m")
    )
    return clients.annotate(
        entries_recent=Coalesce(Subquery(entries, output_field=IntegerField()), 0),
        minutes_recent=Coalesce(Subquery(minutes, output_field=IntegerField()), 0),
    )


def recent_totals(client_ids: Iterable[int], tz, today: dt.date) -> dict[int, tuple[int, int]]:
    """(inner-critic entries, practice minutes) per client over the last 14 clinic days,
    today included: two grouped queries for the clients of one page."""
    ids = list(client_ids)
    first, start, end = _recent_window(tz, today)
    entries = dict(
        InnerCriticEntry.objects.filter(
            client_id__in=ids, occurred_at__gte=start, occurred_at__lt=end
        )
        .order_by()
        .values("client_id")
        .annotate(n=Count("pk"))
        .values_list("client_id", "n")
    )
    minutes = dict(
        PracticeSession.objects.filter(
            client_id__in=ids, practised_on__gte=first, practised_on__lte=today
        )
        .order_by()
        .values("client_id")
        .annotate(m=Sum("minutes"))
        .values_list("client_id", "m")
    )
    return {pk: (entries.get(pk, 0), minutes.get(pk) or 0) for pk in ids}


def clients_in_order(ids: Iterable[int]) -> list[Client]:
    """These clients (ids from dashboard_clients, already scoped) with their summary and
    primary clinician, in the order given: one query."""
    ids = list(ids)
    found = Client.objects.filter(pk__in=ids).select_related(
        "dashboard_summary", "primary_clinician"
    )
    by_id = {client.pk: client for client in found}
    return [by_id[pk] for pk in ids if pk in by_id]


# --- Rows for the template and the CSV -----------------------------------------------------


@dataclass
class DashboardRow:
    client: Client
    summary: ClientSummary | None
    flags: list[flags.Flag]
    entries_recent: int
    minutes_recent: int
    due: bool
    sparkline: str = ""  # SVG polyline points, "" when fewer than two totals
    scale_names: dict = field(default_factory=dict)

    @property
    def open_flags(self) -> list[flags.Flag]:
        return [flag for flag in self.flags if not flag.acknowledged]


SPARK_WIDTH, SPARK_HEIGHT = 80, 20


def sparkline_points(history: list, low: float = 1.0, high: float = 5.0) -> str:
    """SVG polyline points for SCS totals (1-5 scale) across a small fixed box."""
    values = [total for _, total in history if total is not None]
    if len(values) < 2:
        return ""
    step = SPARK_WIDTH / (len(values) - 1)
    span = high - low
    return " ".join(
        f"{i * step:.1f},{SPARK_HEIGHT - (min(max(v, low), high) - low) / span * SPARK_HEIGHT:.1f}"
        for i, v in enumerate(values)
    )


def dashboard_rows(clients: Iterable[Client], rules: flags.Rules, today: dt.date, tz):
    """The rows of one page (or one export chunk): flags in words and the 14-day counts."""
    clients = list(clients)
    totals = recent_totals([c.pk for c in clients], tz, today)
    names = scale_names()
    rows = []
    for client in clients:
        summary = getattr(client, "dashboard_summary", None)
        entries, minutes = totals.get(client.pk, (0, 0))
        rows.append(
            DashboardRow(
                client=client,
                summary=summary,
                flags=flags.flags_for(summary, rules, today, names),
                entries_recent=entries,
                minutes_recent=minutes,
                due=bool(summary and flags.is_due(summary, today)),
                sparkline=sparkline_points(summary.scs_history) if summary else "",
            )
        )
    return rows


def scale_names() -> dict[str, str]:
    instrument = get_instrument("scs")
    return {"total": "total", **{s.code: s.name.lower() for s in instrument.subscales}}


def summaries_for(clients: QuerySet[Client]) -> QuerySet[ClientSummary]:
    return ClientSummary.objects.filter(client__in=clients)


def scs_rows(clients: Iterable[int] | QuerySet[Client]) -> list[dict]:
    """Final, scored SCS administrations of these clients (ids, or a scoped Client queryset,
    which stays a subquery: a clinic's 10,000 ids would not) as plain rows for the pure layers
    (dashboard.flags, dashboard.stats), oldest first per client, in one query: id, client_id,
    administered_on, total, total_method, band and subscales ({code: score or None})."""
    scope = clients.values("pk") if isinstance(clients, QuerySet) else list(clients)
    codes = [subscale.code for subscale in get_instrument(SCS).subscales]
    # Subscale scores read out of the JSON in SQL as numbers: decoding every document in
    # Python took 10 s for a clinic's 200,000 administrations.
    subscales = {
        f"sub_{code}": Cast(
            KeyTextTransform("score", KeyTransform(code, "score__subscales")), FloatField()
        )
        for code in codes
    }
    rows = (
        Administration.objects.final()
        .filter(client_id__in=scope, instrument_code=SCS, score__isnull=False)
        .order_by("client_id", "administered_on", "created_at", "pk")
        .annotate(**subscales)
        .values_list(
            "pk",
            "client_id",
            "administered_on",
            "score__total",
            "score__total_method",
            "score__band",
            *subscales,
        )
    )
    return [
        {
            "id": row[0],
            "client_id": row[1],
            "administered_on": row[2],
            "total": row[3],
            "total_method": row[4] or "",
            "band": row[5] or "",
            "subscales": dict(zip(codes, row[6:], strict=True)),
        }
        for row in rows
    ]
