"""Reads for the dashboard: the caseload table, its flags in SQL, and the 14-day counts.

Every figure comes from the projections the other apps keep on write (assessments'
ScoreSummary, ScoreInterval and BaselineMoments; tracking's ClientDay and ClientActivity) and
the dashboard's own FlagState; whatever depends on today is worked out here, from stored dates.
Every function runs a fixed number of queries whatever the size of the caseload or the data:
the table is one query over the clients in scope joined to their projections, and the figures
that slide with the calendar (14-day counts) are computed for the rows of one page.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    Case,
    DateTimeField,
    Exists,
    F,
    FloatField,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, TruncWeek
from django.db.models.lookups import GreaterThan, GreaterThanOrEqual, LessThan

from assessments.instruments import HIGHER_IS_BETTER, TOTAL, Instrument, get_instrument
from assessments.labels import scale_labels
from assessments.models import (
    Administration,
    AssessmentSettings,
    QuestionnaireInvitation,
    ScoreInterval,
    ScoreSummary,
)
from assessments.reliable_change import RC_THRESHOLD, SDChoice, reliable_change_for
from assessments.selectors import (
    UNDELIVERED,
    sd_choices,
    undelivered_invitations,
    with_next_due,
)
from clinic.access import clients_for, safety_signals_for
from clinic.models import Client, ClientStatus, Programme, SafetySignal, User
from dashboard import flags
from dashboard.models import FlagSettings, FlagState
from tracking.analysis import rising_key
from tracking.models import ClientActivity, ClientDay

RECENT_DAYS = 14
SCS = "scs"
SYMPTOM_MEASURES = ("phq-9", "gad-7")  # shown beside the SCS: latest total, band, change
SAFETY_PANEL_LIMIT = 50

# "Needs attention first" (the default) is ordered by `DashboardIds`; these are the other sorts.
SORTS = {
    "code": ("code",),
    "-code": ("-code",),
    "name": ("display_name", "code"),
    "-name": ("-display_name", "code"),
    "score": (F("scs__latest_total").asc(nulls_last=True), "code"),
    "-score": (F("scs__latest_total").desc(nulls_last=True), "code"),
    "change": (F("scs__total_change").asc(nulls_last=True), "code"),
    "-change": (F("scs__total_change").desc(nulls_last=True), "code"),
    "assessed": (F("scs__latest_on").asc(nulls_first=True), "code"),
    "-assessed": (F("scs__latest_on").desc(nulls_last=True), "code"),
    "due": (F("next_due").asc(nulls_last=True), "code"),
    "-due": (F("next_due").desc(nulls_last=True), "code"),
    "activity": (F("activity__last_activity_on").asc(nulls_first=True), "code"),
    "-activity": (F("activity__last_activity_on").desc(nulls_last=True), "code"),
    "entries": ("entries_recent", "code"),
    "-entries": ("-entries_recent", "code"),
    "minutes": ("minutes_recent", "code"),
    "-minutes": ("-minutes_recent", "code"),
}
SORT_KEYS = ("attention", *SORTS)
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
    **{kind: flags.LABELS[kind] for kind in flags.KINDS},
    "due": "Assessment due now",
    "undelivered": "Questionnaire not delivered",
}


@dataclass(frozen=True)
class DashboardFilters:
    q: str = ""
    clinician: User | None = None
    programme: Programme | None = None
    flag: str = ""
    sort: str = "attention"


@dataclass(frozen=True)
class ClinicContext:
    """What every dashboard read of one clinic needs once: its thresholds, the SCS, its SDs."""

    rules: flags.Rules
    instrument: Instrument
    sds: dict[str, SDChoice]


def clinic_context(organisation_id: int) -> ClinicContext:
    """The clinic's rules and SDs for the SCS: four small queries, no cache."""
    instrument = get_instrument(SCS)
    rules = flags.Rules.from_settings(
        FlagSettings.for_organisation(organisation_id),
        AssessmentSettings.for_organisation(organisation_id).every_weeks,
    )
    return ClinicContext(rules, instrument, sd_choices(organisation_id, instrument))


# --- The table in SQL ----------------------------------------------------------------------


def _with_projections(clients: QuerySet[Client], rules: flags.Rules) -> QuerySet[Client]:
    """Join the clients' SCS summary (as `scs`) and annotate the due date (`next_due`)."""
    return with_next_due(clients, rules.assessment_every_weeks)


def _json_number(key: str, field: str) -> Cast:
    return Cast(KeyTextTransform(key, field), FloatField())


def _not_acked(ack: str, episode) -> Q:
    """No acknowledgement of this flag's current episode (a NULL-safe "ack != episode")."""
    return Q(**{f"flag_state__{ack}__isnull": True}) | ~Q(**{f"flag_state__{ack}": episode})


def _open_signals(kind: str | None = None) -> QuerySet[SafetySignal]:
    """The open safety or risk signals of the outer query's client."""
    signals = SafetySignal.objects.filter(client=OuterRef("pk"), acknowledged_at__isnull=True)
    return signals.filter(kind=kind) if kind else signals


def open_flag_conditions(context: ClinicContext, today: dt.date) -> dict[str, Q]:
    """dashboard.flags' rules for an open (raised, not acknowledged) flag, as SQL conditions on
    a queryset from `_with_projections`, in order of severity. tests/dashboard check that both
    say the same."""
    rules = context.rules
    limits = flags.deterioration_limits(
        context.instrument, context.sds, include_subscales=rules.deterioration_subscales
    )
    worse = Q(pk__in=[])
    for scale, (s_diff, direction) in limits.items():
        # The total and each SCS subscale (ScoreSummary.SUBSCALES) have a typed change column.
        change = F("scs__total_change" if scale == TOTAL else f"scs__change_{scale}")
        rc = change / Value(s_diff)
        if direction == HIGHER_IS_BETTER:
            worse |= Q(LessThan(rc, -RC_THRESHOLD))
        else:
            worse |= Q(GreaterThan(rc, RC_THRESHOLD))
    rising_slope = F(f"activity__{rising_key(rules.rising_weeks)}")
    return {
        flags.SAFETY: Q(Exists(_open_signals(flags.SAFETY))),
        flags.RISK: Q(Exists(_open_signals(flags.RISK))),
        flags.DETERIORATION: Q(scs__latest_id__isnull=False)
        & ~Q(scs__latest_id=F("scs__baseline_id"))
        & worse
        & _not_acked("ack_deterioration", F("scs__latest_id")),
        flags.DISTRESS: Q(activity__last_rated_id__isnull=False)
        & Q(activity__distress_rises__gte=rules.distress_min_rises)
        & _not_acked("ack_distress", F("activity__last_rated_id")),
        flags.RISING: Q(GreaterThanOrEqual(rising_slope, rules.rising_min_slope))
        & Q(activity__last_entry_on__gt=today - dt.timedelta(days=7))
        & _not_acked("ack_rising", TruncWeek("activity__last_entry_on")),
        flags.QUIET: Q(activity__last_activity_on__lte=today - dt.timedelta(rules.quiet_days))
        & Q(
            GreaterThanOrEqual(
                F("activity__entries") + F("activity__practice_sessions"), rules.quiet_min_records
            )
        )
        & _not_acked("ack_quiet", F("activity__last_activity_on")),
        flags.OVERDUE: Q(next_due__lt=today - dt.timedelta(rules.overdue_after_days))
        & _not_acked("ack_overdue", F("next_due")),
    }


def _recent_window(today: dt.date) -> tuple[dt.date, dt.date]:
    return today - dt.timedelta(days=RECENT_DAYS - 1), today


def dashboard_clients(
    user: User, filters: DashboardFilters, context: ClinicContext, today: dt.date
) -> QuerySet[Client]:
    """The user's active clients (a clinic admin's: the whole clinic), filtered, and sorted
    unless the sort is "needs attention first" (see `dashboard_ids`). The flags' columns are
    left to `with_flag_columns`: the count and the other sorts do not read them (building
    and counting with them took about 2.5 of a clinician dashboard's 35 ms in Python)."""
    rules = context.rules
    clients = clients_for(user).filter(status=ClientStatus.ACTIVE).matching(filters.q)
    if filters.clinician is not None:
        clients = clients.on_care_team_of(filters.clinician)
    if filters.programme is not None:
        clients = clients.filter(programmes=filters.programme)
    clients = _with_projections(clients, rules)
    if filters.flag in OPEN_FILTERS:
        clients = _with_open_flags(clients, context, today, some=filters.flag == "open")
    elif filters.flag in flags.KINDS:
        clients = clients.filter(open_flag_conditions(context, today)[filters.flag])
    elif filters.flag == "due":
        clients = clients.filter(next_due__lte=today)
    elif filters.flag == "undelivered":
        clients = clients.filter(
            Exists(
                QuestionnaireInvitation.objects.filter(
                    UNDELIVERED, client=OuterRef("pk"), due_on=OuterRef("next_due")
                )
            )
        )
    sort = filters.sort if filters.sort in SORT_KEYS else "attention"
    if sort.lstrip("-") in ("entries", "minutes"):
        clients = _with_recent_totals(clients, today)
    return clients.order_by(*SORTS[sort]) if sort in SORTS else clients.order_by()


OPEN_FILTERS = ("open", "none")  # filters on how many flags are open: need the columns


def with_flag_columns(
    clients: QuerySet[Client], context: ClinicContext, today: dt.date
) -> QuerySet[Client]:
    """`clients` (from `dashboard_clients`) with one 0/1 column per open flag, `flag_<kind>`.
    NULL-safe: a condition that is unknown (a NULL compared) gives 0."""
    return clients.annotate(
        **{
            f"flag_{kind}": Case(When(condition, then=Value(1)), default=Value(0))
            for kind, condition in open_flag_conditions(context, today).items()
        }
    )


def _with_open_flags(
    clients: QuerySet[Client], context: ClinicContext, today: dt.date, *, some: bool
) -> QuerySet[Client]:
    """Clients with at least one open flag (`some`) or with none."""
    counted = with_flag_columns(clients, context, today)
    counted = counted.annotate(
        open_flags=sum((F(f"flag_{kind}") for kind in flags.KINDS), Value(0))
    )
    return counted.filter(open_flags__gt=0) if some else counted.filter(open_flags=0)


def dashboard_ids(
    user: User, filters: DashboardFilters, context: ClinicContext, today: dt.date
) -> DashboardIds:
    """The ids of `dashboard_clients` in the table's order, countable and sliceable (for a
    Paginator and the export's chunks)."""
    clients = dashboard_clients(user, filters, context, today)
    if filters.sort in SORTS:
        return DashboardIds(clients, None)
    flagged = clients  # the open/none filters have the flag columns already (_with_open_flags)
    if filters.flag not in OPEN_FILTERS:
        flagged = with_flag_columns(clients, context, today)
    return DashboardIds(clients, _attention_columns(flagged))


# The date behind each flag that "needs attention first" ranks by (flags.attention_key), in
# order of severity; the signal flags rank by the newest open signal instead.
_FLAG_DATES = {
    flags.DETERIORATION: "scs__latest_on",
    flags.DISTRESS: "activity__last_rated_on",
    flags.RISING: "activity__last_entry_on",
    flags.QUIET: "activity__last_activity_on",
    flags.OVERDUE: "next_due",
}


def _attention_columns(clients: QuerySet[Client]) -> QuerySet[Client]:
    """The columns "needs attention first" sorts on: each flag, the newest open signal, the
    date behind each flag and the code."""
    newest = _open_signals().order_by().values("client").annotate(at=Max("raised_at"))
    return clients.annotate(
        row_id=F("pk"),
        row_code=F("code"),
        # Looked up only for a client with an open signal: on a clinic admin's page of 9,000
        # clients a lookup for each took 18 of the query's 145 ms.
        signal_at=Case(
            When(Exists(_open_signals()), then=Subquery(newest.values("at"))),
            default=None,
            output_field=DateTimeField(),
        ),
        **{f"date_{kind}": F(path) for kind, path in _FLAG_DATES.items()},
    ).values_list(
        "row_id",
        "row_code",
        "signal_at",
        *(f"flag_{kind}" for kind in flags.SEVERITY),
        *(f"date_{kind}" for kind in _FLAG_DATES),
    )


class DashboardIds:
    """Client ids in the dashboard's order: a Paginator's object list.

    "Needs attention first" sorts on expressions of the flag columns (their severity weights
    summed, then the date behind the most severe one). Written as one ORM query, each flag's
    condition is repeated in every expression that uses it, and PostgreSQL evaluates it each
    time for every client in scope. Here the ORM's query computes each flag once, as a column
    of a derived table (kept from being merged into the outer query by OFFSET 0), and the
    order is taken outside it: on the full-scale clinic admin's page (9,000 clients) the
    query ran in about three quarters of the time."""

    def __init__(self, clients: QuerySet[Client], attention: QuerySet | None):
        self.clients = clients
        self.attention = attention

    def count(self) -> int:
        return self.clients.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, page: slice) -> list[int]:
        if not isinstance(page, slice) or page.step is not None or page.stop is None:
            raise TypeError("DashboardIds takes a slice with an end and no step")
        start, stop = int(page.start or 0), int(page.stop)
        if start < 0 or stop <= start:
            return []
        if self.attention is None:
            return list(self.clients.values_list("pk", flat=True)[start:stop])
        try:
            inner, params = self.attention.query.sql_with_params()
        except EmptyResultSet:
            return []
        q = connection.ops.quote_name
        weight = " + ".join(f"t.{q('flag_' + kind)} * {n}" for kind, n in flags.SEVERITY.items())
        behind = " ".join(
            f"WHEN t.{q('flag_' + kind)} = 1 THEN t.{q('date_' + kind)}" for kind in _FLAG_DATES
        )
        # SQLite takes an OFFSET only after a LIMIT: there (the embedded default) the derived
        # table goes unfenced, which gives the same rows in the same order.
        fence = " OFFSET 0" if connection.vendor == "postgresql" else ""
        # Only the ORM's compiled query and our own column names go into the text; values
        # (the ORM's included) travel as parameters.
        sql = (
            f"SELECT t.{q('row_id')} FROM ({inner}{fence}) t ORDER BY ({weight}) DESC, "  # noqa: S608
            f"t.{q('signal_at')} DESC NULLS LAST, CASE {behind} END DESC NULLS LAST, "
            f"t.{q('row_code')} ASC LIMIT %s OFFSET %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, (*params, stop - start, start))
            return [row[0] for row in cursor.fetchall()]


def _with_recent_totals(clients: QuerySet[Client], today: dt.date) -> QuerySet[Client]:
    """Annotate the 14-day counts for sorting (a subquery per client: used only to sort)."""
    first, last = _recent_window(today)
    days = (
        ClientDay.objects.filter(client_id=OuterRef("pk"), day__gte=first, day__lte=last)
        .order_by()
        .values("client_id")
    )
    return clients.annotate(
        entries_recent=Coalesce(
            Subquery(days.annotate(n=Sum("entries")).values("n"), output_field=IntegerField()), 0
        ),
        minutes_recent=Coalesce(
            Subquery(
                days.annotate(m=Sum("practice_minutes")).values("m"), output_field=IntegerField()
            ),
            0,
        ),
    )


def recent_totals(client_ids: Iterable[int], today: dt.date) -> dict[int, tuple[int, int]]:
    """(inner-critic entries, practice minutes) per client over the last 14 clinic days, today
    included: one grouped query over the page's day rows."""
    ids = list(client_ids)
    first, last = _recent_window(today)
    rows = (
        ClientDay.objects.filter(client_id__in=ids, day__gte=first, day__lte=last)
        .order_by()
        .values("client_id")
        .annotate(n=Sum("entries"), m=Sum("practice_minutes"))
        .values_list("client_id", "n", "m")
    )
    found = {client_id: (n or 0, m or 0) for client_id, n, m in rows}
    return {pk: found.get(pk, (0, 0)) for pk in ids}


# --- Rows for the template and the CSV -----------------------------------------------------


@dataclass(frozen=True)
class SymptomScore:
    """A client's latest PHQ-9 or GAD-7: total, band, and change since the first with its
    reliable-change verdict (NHS Talking Therapies thresholds in points)."""

    short_name: str
    total: float | None
    band: str
    latest_on: dt.date
    change: float | None
    verdict: str
    case: bool | None


def symptom_score(summary: ScoreSummary) -> SymptomScore:
    instrument = get_instrument(summary.instrument_code)
    band = instrument.band_for(summary.latest_total)
    verdict = ""
    if summary.total_change is not None:
        verdict = reliable_change_for(
            instrument, "total", summary.baseline_values.get("total"), summary.latest_total, None
        ).verdict
    return SymptomScore(
        short_name=instrument.short_name,
        total=summary.latest_total,
        band=band.label if band else "",
        latest_on=summary.latest_on,
        change=summary.total_change,
        verdict=verdict,
        case=instrument.caseness.is_case(summary.latest_total) if instrument.caseness else None,
    )


@dataclass
class DashboardRow:
    client: Client
    summary: ScoreSummary | None  # the SCS
    activity: ClientActivity | None
    next_due_on: dt.date | None
    flags: list[flags.Flag]
    entries_recent: int
    minutes_recent: int
    due: bool
    verdict: str = ""  # reliable change of the total since baseline
    # Why the questionnaire due now was not emailed ("" when it was, or none is due).
    not_delivered: str = ""
    sparkline: str = ""  # SVG polyline points, "" when fewer than two totals
    scale_names: dict = field(default_factory=dict)
    symptoms: dict[str, SymptomScore] = field(default_factory=dict)  # PHQ-9, GAD-7 by code
    signals: list[SafetySignal] = field(default_factory=list)  # open, newest first

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


def score_values(summary: ScoreSummary | None, which: str) -> flags.ScoreValues | None:
    """The baseline or latest of a ScoreSummary as the flags' plain values."""
    if summary is None:
        return None
    values = dict(getattr(summary, f"{which}_values"))
    total = values.pop("total", None)
    return flags.ScoreValues(
        getattr(summary, f"{which}_id"),
        getattr(summary, f"{which}_on"),
        total,
        getattr(summary, f"{which}_method"),
        values,
    )


def signal_values(signal: SafetySignal) -> flags.Signal:
    return flags.Signal(
        signal.pk, signal.kind, signal.raised_at, signal.asked_for_contact, signal.summary
    )


def flag_input(
    summary: ScoreSummary | None,
    activity: ClientActivity | None,
    state: FlagState | None,
    next_due_on: dt.date | None,
    rules: flags.Rules,
    signals: Iterable[SafetySignal] = (),
) -> flags.FlagInput:
    return flags.FlagInput(
        baseline=score_values(summary, "baseline"),
        latest=score_values(summary, "latest"),
        next_due_on=next_due_on,
        last_activity_on=activity.last_activity_on if activity else None,
        activity_count=activity.activity_count if activity else 0,
        last_entry_on=activity.last_entry_on if activity else None,
        rising_slope=getattr(activity, rising_key(rules.rising_weeks)) if activity else None,
        signals=tuple(signal_values(signal) for signal in signals),
        rated_practices=tuple(tuple(rated) for rated in activity.rated_practices)
        if activity
        else (),
        distress_rises=activity.distress_rises if activity else 0,
        last_rated_id=activity.last_rated_id if activity else None,
        last_rated_on=activity.last_rated_on if activity else None,
        ack_deterioration=state.ack_deterioration if state else None,
        ack_quiet=state.ack_quiet if state else None,
        ack_overdue=state.ack_overdue if state else None,
        ack_rising=state.ack_rising if state else None,
        ack_distress=state.ack_distress if state else None,
    )


NOT_ON_ROWS = ("notes", "primary_clinician__password")
"""A client's columns (and its clinician's) that no dashboard row, flag, export or the safety
panel reads: the free-text notes and the password hash stay in the database."""


def clients_in_order(ids: Iterable[int], rules: flags.Rules) -> list[Client]:
    """These clients (ids from dashboard_clients, already scoped) with their primary clinician,
    activity, acknowledged flags, SCS, PHQ-9 and GAD-7 summaries, open safety signals and due
    date, in the order given: three queries. Without NOT_ON_ROWS: a page of rows should not
    carry a client's notes (up to 10,000 characters) or a password hash."""
    ids = list(ids)
    found = _with_projections(
        Client.objects.filter(pk__in=ids)
        .select_related("primary_clinician", "activity", "flag_state")
        .defer(*NOT_ON_ROWS),
        rules,
    )
    by_id = {client.pk: client for client in found}
    summaries: dict[int, dict[str, ScoreSummary]] = {pk: {} for pk in ids}
    for summary in ScoreSummary.objects.filter(
        client_id__in=ids, instrument_code__in=(SCS, *SYMPTOM_MEASURES)
    ):
        summaries[summary.client_id][summary.instrument_code] = summary
    signals: dict[int, list[SafetySignal]] = {pk: [] for pk in ids}
    for signal in SafetySignal.objects.filter(client_id__in=ids, acknowledged_at__isnull=True):
        signals[signal.client_id].append(signal)  # newest first (the model's ordering)
    ordered = []
    for pk in ids:
        if pk in by_id:
            client = by_id[pk]
            client.scs_summary = summaries[pk].pop(SCS, None)
            client.symptom_summaries = summaries[pk]
            client.open_signals = signals[pk]
            ordered.append(client)
    return ordered


def open_signals_for(user: User) -> list[SafetySignal]:
    """The open safety and risk signals the user may act on, newest first (their caseload's; a
    clinic admin's or safety contact's: the whole clinic's), for the dashboard's panel: one
    query."""
    return list(
        safety_signals_for(user)
        .filter(acknowledged_at__isnull=True)
        .select_related("client", "client__primary_clinician")
        .defer(*(f"client__{name}" for name in NOT_ON_ROWS))
        .order_by("-raised_at", "-pk")[:SAFETY_PANEL_LIMIT]
    )


def dashboard_rows(clients: Iterable[Client], context: ClinicContext, today: dt.date):
    """The rows of one page (or one export chunk), from clients_in_order: flags in words, the
    reliable-change verdict of the total and the 14-day counts."""
    clients = list(clients)
    totals = recent_totals([c.pk for c in clients], today)
    undelivered = undelivered_invitations(c.pk for c in clients)
    names = scale_names()
    rows = []
    for client in clients:
        summary = client.scs_summary
        activity = getattr(client, "activity", None)
        state = getattr(client, "flag_state", None)
        entries, minutes = totals.get(client.pk, (0, 0))
        signals = getattr(client, "open_signals", [])
        values = flag_input(summary, activity, state, client.next_due, context.rules, signals)
        verdict = ""
        if summary is not None and summary.total_change is not None:
            verdict = reliable_change_for(
                context.instrument,
                "total",
                summary.baseline_values.get("total"),
                summary.latest_total,
                context.sds.get("total"),
            ).verdict
        rows.append(
            DashboardRow(
                client=client,
                summary=summary,
                activity=activity,
                next_due_on=client.next_due,
                flags=flags.flags_for(
                    values, context.rules, today, context.instrument, context.sds, names
                ),
                entries_recent=entries,
                minutes_recent=minutes,
                due=flags.is_due(values, today),
                verdict=verdict,
                not_delivered=undelivered.get((client.pk, client.next_due), ""),
                sparkline=sparkline_points(summary.history) if summary else "",
                symptoms={
                    code: symptom_score(found)
                    for code in SYMPTOM_MEASURES
                    if (found := getattr(client, "symptom_summaries", {}).get(code)) is not None
                },
                signals=signals,
            )
        )
    return rows


def client_row(client: Client, context: ClinicContext, today: dt.date) -> DashboardRow:
    """One client's dashboard row (the caller checked access): for the flags page and brief."""
    (row,) = dashboard_rows(clients_in_order([client.pk], context.rules), context, today)
    return row


def scale_names() -> dict[str, str]:
    """Scale names inside a sentence ("reliably worse on self-judgment"): the one source's
    names (assessments.labels), in lower case."""
    return {code: name.lower() for code, name in scale_labels(SCS).items()}


Days = tuple[dt.date, dt.date] | None
"""The first and last day (both included) of the administrations to read; None for all."""


def scs_rows(clients: Iterable[int] | QuerySet[Client], *, between: Days = None) -> list[dict]:
    """Scored SCS administrations of these clients: `score_rows` of the SCS."""
    return score_rows(clients, SCS, between=between)


def _scored_in_order(scope, codes, between: Days = None) -> QuerySet[Administration]:
    """The scored administrations (an unscored form never counts) of these instruments of the
    clients in `scope`, given `between` these days, oldest first per client (input order
    breaks ties between forms of one day in dashboard.stats.pre_post): what score_rows and
    symptom_score_rows read."""
    scored = Administration.objects.scored().filter(client_id__in=scope, instrument_code__in=codes)
    if between is not None:
        scored = scored.filter(administered_on__range=between)
    return scored.order_by("client_id", "administered_on", "created_at", "pk")


def score_rows(
    clients: Iterable[int] | QuerySet[Client], code: str, *, between: Days = None
) -> list[dict]:
    """Scored administrations of one instrument (an unscored form never counts) of these
    clients (ids, or a scoped Client queryset, which stays a subquery: a clinic's 10,000 ids
    would not), given `between` these days, as plain rows for the pure layers
    (dashboard.flags, dashboard.stats), oldest first per client, in one query: id, client_id,
    administered_on, total, total_method, band and subscales ({code: score or None}; none for
    the PHQ-9 and GAD-7)."""
    scope = clients.values("pk") if isinstance(clients, QuerySet) else list(clients)
    codes = [subscale.code for subscale in get_instrument(code).subscales]
    subscales = {
        f"sub_{code}": _json_number("score", f"score__subscales__{code}") for code in codes
    }
    rows = (
        _scored_in_order(scope, [code], between)
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


def symptom_score_rows(ids: Iterable[int], *, between: Days = None) -> dict[str, list[dict]]:
    """`score_rows` of each of SYMPTOM_MEASURES (no subscales, no band needed) for these
    clients, given `between` these days, in one query: each measure's rows in score_rows'
    order (oldest first per client), which dashboard.stats.pre_post reads to break ties
    between questionnaires on one day."""
    rows: dict[str, list[dict]] = {code: [] for code in SYMPTOM_MEASURES}
    answers = _scored_in_order(list(ids), SYMPTOM_MEASURES, between).values_list(
        "instrument_code", "client_id", "administered_on", "score__total", "score__total_method"
    )
    for code, client_id, administered_on, total, total_method in answers:
        rows[code].append(
            {
                "client_id": client_id,
                "administered_on": administered_on,
                "total": total,
                "total_method": total_method or "",
            }
        )
    return rows


# --- Dose between questionnaires ------------------------------------------------------------


DOSE_COLUMNS = (
    "client_id",
    "days",
    "change_total",
    *(f"change_{code}" for code in ScoreInterval.SUBSCALES),
    "practice_minutes",
    "reframes",
)


DOSE_NAMES = {"practice_minutes": "minutes"}


def dose_frame(clients: Iterable[int] | QuerySet[Client]) -> pd.DataFrame:
    """The SCS intervals of these clients (ids, or a scoped Client queryset) with their dose,
    read from assessments' ScoreInterval rows (kept on write): client_id, days, change_total,
    change_<subscale>, minutes, reframes, minutes_per_week.

    One query whose numbers go straight into one float array (`_numbers_of`): a whole clinic
    has 190,000 intervals, and building a Python object per value took most of the page's
    time."""
    scope = clients.values("pk") if isinstance(clients, QuerySet) else list(clients)
    query = (
        ScoreInterval.objects.filter(client_id__in=scope, instrument_code=SCS)
        .order_by()
        .values_list(*DOSE_COLUMNS)
    )
    numbers = _numbers_of(query, len(DOSE_COLUMNS))
    # The columns as arrays, then one frame: a frame's renames, casts and column assignments
    # cost some 0.2 ms each however few the rows (a cohort's page has a few hundred).
    columns = {DOSE_NAMES.get(name, name): numbers[:, i] for i, name in enumerate(DOSE_COLUMNS)}
    for name in ("client_id", "days", "minutes", "reframes"):
        columns[name] = columns[name].astype("int64")
    days = np.where(columns["days"] > 0, columns["days"], np.nan)  # NaN: no rate for 0 days
    columns["minutes_per_week"] = columns["minutes"] / days * 7
    return pd.DataFrame(columns)


def _numbers_of(query: QuerySet, width: int) -> np.ndarray:
    """The rows of a values_list query of `width` numbers as one float array, NULL as NaN.

    On PostgreSQL the rows come by binary COPY as float8 (NULL sent as NaN), so every row has
    the same layout and numpy reads the whole answer in one step: measured on the whole-clinic
    dose-response (190,000 rows of 11 numbers), 0.2 s against 0.7 s for fetching rows of
    Python numbers (docs/benchmarks.md). Elsewhere (SQLite) the rows are fetched."""
    try:
        sql, params = query.query.sql_with_params()
    except EmptyResultSet:  # nothing in scope
        return np.empty((0, width))
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute(sql, params)
            return np.array(cursor.fetchall(), dtype=float).reshape(-1, width)
        # The ORM's own query (its parameters bound by psycopg), its columns renamed by position.
        names = ", ".join(f"c{i}" for i in range(width))
        floats = ", ".join(f"coalesce(q.c{i}::float8, 'NaN')" for i in range(width))
        statement = (
            f"COPY (SELECT {floats} FROM ({connection.ops.compose_sql(sql, params)}) "  # noqa: S608
            f"AS q({names})) TO STDOUT (FORMAT binary)"
        )
        answer = io.BytesIO()
        # COPY goes past Django's cursor wrapper: record it where the wrapper records queries
        # (when they are recorded, e.g. by the tests' query counts), and translate its errors
        # as the wrapper does.
        recorded = getattr(cursor, "debug_sql", None)
        with (
            connection.wrap_database_errors,
            recorded(statement) if recorded else contextlib.nullcontext(),
            cursor.cursor.copy(statement) as copy,
        ):
            for chunk in copy:
                answer.write(chunk)
    return _binary_copy_floats(answer.getvalue(), width)


COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
COPY_TRAILER = b"\xff\xff"  # a field count of -1


def _binary_copy_floats(data: bytes, width: int) -> np.ndarray:
    """PostgreSQL's binary COPY of rows of `width` non-null float8 fields as a float array.
    After the signature come flags (int32, none known to us may be set) and the length of a
    header extension (int32) to skip; then each row is a field count (int16), and per field a
    length (int32, 8) and the value (big-endian). Anything else is refused rather than
    misread."""
    row = np.dtype(
        [("fields", ">i2")]
        + [item for i in range(width) for item in ((f"length_{i}", ">i4"), (f"value_{i}", ">f8"))]
    )
    fixed = len(COPY_SIGNATURE) + 8
    if not data.startswith(COPY_SIGNATURE) or len(data) < fixed:
        raise ValueError("not a binary COPY of float8 rows")
    flags, extension = struct.unpack(">iI", data[len(COPY_SIGNATURE) : fixed])
    start = fixed + extension
    body = len(data) - start - len(COPY_TRAILER)
    if flags or not data.endswith(COPY_TRAILER) or body < 0 or body % row.itemsize:
        raise ValueError("not a binary COPY of float8 rows")
    rows = np.frombuffer(data, dtype=row, count=body // row.itemsize, offset=start)
    if (rows["fields"] != width).any() or any(
        (rows[f"length_{i}"] != 8).any() for i in range(width)
    ):
        raise ValueError("not a binary COPY of float8 rows")
    return np.column_stack([rows[f"value_{i}"].astype(float) for i in range(width)]).reshape(
        -1, width
    )


# --- For the clinic's record export and erasure (registered in DashboardConfig.ready) ----------


def flags_today(client: Client) -> list[dict]:
    """The flags raised for the client today, for the subject-access export."""
    today = client.organisation.today()
    row = client_row(client, clinic_context(client.organisation_id), today)
    return [
        {
            "flag": flag.label,
            "detail": flag.detail,
            "acknowledged": flag.acknowledged,
            "on": today.isoformat(),
        }
        for flag in row.flags
    ]


def open_deterioration(client: Client) -> str | None:
    """Erasure waits while a reliable deterioration is flagged and not acknowledged: the one
    dashboard flag about the client's wellbeing (stopped logging and overdue questionnaires
    are what any discharged record shows). An open safety flag is checked by clinic itself
    (clinic.records.erasure_refusals); this one is registered with
    clinic.records.register_erasure_check."""
    row = client_row(client, clinic_context(client.organisation_id), client.organisation.today())
    if any(flag.kind == flags.DETERIORATION and not flag.acknowledged for flag in row.flags):
        return (
            "A reliable deterioration is flagged and not acknowledged: acknowledge it on the "
            "client's flags page first."
        )
    return None
