"""Reads for programme cohorts and dose-response: members in the user's scope only.

A clinician sees the members of a programme who are on their caseload (the page says how many
others there are, never who); a clinic admin sees every member. Statistics come from the pure
dashboard.stats; figures from dashboard.charts.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass

import pandas as pd
from django.db.models import Count, Q
from django.http import Http404

from assessments import labels
from assessments.instruments import TOTAL, get_instrument
from assessments.reliable_change import reliable_change_for
from assessments.selectors import sd_choices
from clinic.access import clients_for
from clinic.models import Client, Programme, User
from dashboard import charts, selectors, stats
from dashboard.selectors import SCS, SYMPTOM_MEASURES, scs_rows, symptom_score_rows
from tracking.charts import Chart

TRAJECTORY_WEEKS_BEFORE = 8
TRAJECTORY_WEEKS_AFTER = 16
PRE_POST_WINDOWS = {"window_days": stats.WINDOW_DAYS, "grace_days": stats.GRACE_DAYS}
"""The pre and post windows of every cohort figure; days_read reads the answers they reach."""


def programmes_for(user: User):
    """The clinic's programmes with how many of their members are in the user's scope."""
    scope = clients_for(user)
    return (
        Programme.objects.filter(organisation_id=user.organisation_id)
        .annotate(members=Count("clients", filter=Q(clients__in=scope), distinct=True))
        .order_by("-starts_on", "name")
    )


def programme_for(user: User, programme_id: int) -> Programme:
    """A programme of the user's clinic, else 404 (another clinic's programme: no hint)."""
    if not getattr(user, "is_clinic_staff", False):
        raise Http404("No such programme.")
    try:
        return Programme.objects.get(pk=programme_id, organisation_id=user.organisation_id)
    except (Programme.DoesNotExist, ValueError, TypeError):
        raise Http404("No such programme.") from None


def scale_labels() -> dict[str, str]:
    """The SCS total and subscales by name (assessments.labels: the one source of names)."""
    instrument = get_instrument(SCS)
    return {code: labels.scale_label(instrument, code) for code in (TOTAL, *instrument_codes())}


def instrument_codes() -> list[str]:
    return [s.code for s in get_instrument(SCS).subscales]


def verdict_function(organisation_id: int):
    instrument = get_instrument(SCS)
    sds = sd_choices(organisation_id, instrument)

    def verdict(scale: str, pre: float, post: float) -> str:
        return reliable_change_for(instrument, scale, pre, post, sds.get(scale)).verdict

    return verdict


@dataclass
class Cohort:
    programme: Programme
    members: list[Client]
    outside_scope: int
    frame: pd.DataFrame
    outcomes: list[stats.ScaleOutcome]
    labels: dict[str, str]
    directions: dict[str, str]
    pre_post_chart: Chart
    trajectories: Chart
    dose: DoseResponse
    verdicts: dict[int, str]  # client id -> verdict on the total
    symptoms: list[stats.SymptomOutcome]  # PHQ-9, GAD-7, and the two together

    @property
    def status_counts(self) -> list[tuple[str, int]]:
        """(status, members) for paired, missing pre, missing post, missing both: every member
        is counted once."""
        counts = Counter(self.frame["status"].tolist())
        statuses = (stats.PAIRED, stats.MISSING_PRE, stats.MISSING_POST, stats.MISSING_BOTH)
        return [(status, int(counts.get(status, 0))) for status in statuses]

    @property
    def outcome_rows(self) -> list[dict]:
        return [
            {
                "label": self.labels.get(outcome.scale, outcome.scale),
                "direction": self.directions.get(outcome.scale, ""),
                "outcome": outcome,
                "percent": {
                    kind: outcome.verdicts.percent(kind)
                    for kind in ("improved", "unchanged", "deteriorated")
                },
            }
            for outcome in self.outcomes
        ]

    @property
    def member_rows(self) -> list[dict]:
        codes = {member.pk: member.code for member in self.members}
        columns = ("client_id", "status", "pre_on", "post_on", "pre_total", "post_total")
        rows = []
        for client_id, status, pre_on, post_on, pre_total, post_total, comparable in zip(
            *(self.frame[column].tolist() for column in columns),
            self.frame["total_comparable"].tolist(),
            strict=True,
        ):
            rows.append(
                {
                    "code": codes[client_id],
                    "status": status,
                    "pre_on": pre_on,
                    "post_on": post_on,
                    "pre_total": None if math.isnan(pre_total) else pre_total,
                    "post_total": None if math.isnan(post_total) else post_total,
                    "change": post_total - pre_total if comparable else None,
                    "verdict": self.verdicts.get(client_id, ""),
                }
            )
        return rows


def cohort_for(user: User, programme: Programme) -> Cohort:
    members, everyone = _members(user, programme)
    ids = [c.pk for c in members]
    span = days_read(programme)
    rows = scs_rows(ids, between=span)
    frame = stats.pre_post(rows, ids, programme.starts_on, programme.ends_on, **PRE_POST_WINDOWS)
    instrument = get_instrument(SCS)
    scales = [TOTAL, *(s.code for s in instrument.subscales)]
    verdict = verdict_function(programme.organisation_id)
    outcomes = stats.cohort_outcomes(frame, scales, verdict)
    labels = scale_labels()
    verdicts = {
        client_id: verdict(TOTAL, pre, post) for client_id, pre, post in _comparable_totals(frame)
    }
    return Cohort(
        programme=programme,
        members=members,
        outside_scope=everyone - len(members),
        frame=frame,
        outcomes=outcomes,
        labels=labels,
        directions={scale: instrument.direction_label(scale) for scale in scales},
        pre_post_chart=charts.pre_post_chart(outcomes, labels),
        trajectories=charts.trajectories_chart(
            _trajectory_points(programme, members, rows),
            pairs=_trajectory_pairs(programme, frame, rows),
        ),
        dose=dose_response_for(ids),
        verdicts=verdicts,
        symptoms=symptom_outcomes(programme, ids, between=span),
    )


def days_read(programme: Programme) -> selectors.Days:
    """The first and last day of the questionnaires a cohort's page can use, when the
    programme has both dates: its pre and post windows (PRE_POST_WINDOWS) and its
    trajectories' weeks (TRAJECTORY_WEEKS_BEFORE the start to TRAJECTORY_WEEKS_AFTER the end).
    The page then reads only these days' answers rather than every answer its members ever
    gave (a year of fortnightly SCS forms is some 25 a member, two thirds of them outside).
    None without both dates: the pre and post are then each member's first and last ever."""
    starts_on, ends_on = programme.starts_on, programme.ends_on
    if starts_on is None or ends_on is None:
        return None
    reach = PRE_POST_WINDOWS["window_days"]
    before = max(reach, 7 * TRAJECTORY_WEEKS_BEFORE)
    after = max(reach, 7 * TRAJECTORY_WEEKS_AFTER)
    return starts_on - dt.timedelta(days=before), ends_on + dt.timedelta(days=after)


def _members(user: User, programme: Programme) -> tuple[list[Client], int]:
    """The programme's members in the user's scope (through clinic.access, the one way to
    client records), by code, and how many members it has in all: two queries. Each member
    carries its organisation, for the audit of an export."""
    members = list(
        clients_for(user)
        .filter(programmes=programme)
        .order_by("code")
        .only("pk", "code", "organisation_id")
    )
    return members, programme.clients.count()


def _comparable(frame: pd.DataFrame, *columns: str) -> list[tuple]:
    """These columns of the members of a stats.pre_post frame whose totals are comparable, in
    its order (the frame's columns read once, not row by row)."""
    values = [frame[column].tolist() for column in (*columns, "total_comparable")]
    return [row[:-1] for row in zip(*values, strict=True) if row[-1]]


def _comparable_totals(frame: pd.DataFrame) -> list[tuple[int, float, float]]:
    """(client_id, pre_total, post_total) of the members whose totals are comparable."""
    return [
        (int(client_id), float(pre), float(post))
        for client_id, pre, post in _comparable(frame, "client_id", "pre_total", "post_total")
    ]


def measure_facts(code: str) -> stats.MeasureFacts:
    """A symptom measure's reliable-change threshold and caseness, from its instrument file."""
    instrument = get_instrument(code)
    return stats.MeasureFacts(
        instrument.short_name,
        instrument.change_threshold(TOTAL).points,
        instrument.caseness.at_least,
    )


def symptom_outcomes(
    programme: Programme, ids: list[int], *, between: selectors.Days = None
) -> list[stats.SymptomOutcome]:
    """Reliable improvement, reliable deterioration, recovery and reliable recovery on the PHQ-9
    and the GAD-7 (NHS Talking Therapies), each measure's before and after chosen as for the
    SCS (stats.pre_post), and on the two together for members with both: one query."""
    facts = [measure_facts(code) for code in SYMPTOM_MEASURES]
    by_member: dict[int, dict[str, tuple[float, float]]] = {pk: {} for pk in ids}
    outcomes = []
    rows = symptom_score_rows(ids, between=between)
    for code, fact in zip(SYMPTOM_MEASURES, facts, strict=True):
        frame = stats.pre_post(
            rows[code], ids, programme.starts_on, programme.ends_on, **PRE_POST_WINDOWS
        )
        pairs = []
        for client_id, pre, post in _comparable_totals(frame):
            pairs.append((pre, post))
            by_member[client_id][fact.name] = (pre, post)
        outcomes.append(stats.symptom_outcome(pairs, fact))
    outcomes.append(stats.combined_outcome(by_member.values(), facts))
    return outcomes


def _trajectory_points(programme: Programme, members: list[Client], rows: list[dict]):
    codes = {c.pk: c.code for c in members}
    origins = _origins(programme, rows)
    last_week = TRAJECTORY_WEEKS_AFTER + _length_weeks(programme)
    points = []
    for row in rows:
        if row["total"] is None:
            continue
        weeks = (row["administered_on"] - origins[row["client_id"]]).days / 7
        if programme.starts_on and not (-TRAJECTORY_WEEKS_BEFORE <= weeks <= last_week):
            continue
        points.append(
            {
                "client_code": codes[row["client_id"]],
                "weeks": round(weeks, 2),
                "total": row["total"],
            }
        )
    return points


def _origins(programme: Programme, rows: list[dict]) -> dict[int, dt.date]:
    """Week 0 of each member: the programme's start, else the member's first SCS."""
    first_seen: dict[int, dt.date] = {}
    for row in rows:
        first_seen.setdefault(row["client_id"], row["administered_on"])
    if programme.starts_on:
        return dict.fromkeys(first_seen, programme.starts_on)
    return first_seen


def _trajectory_pairs(programme: Programme, frame: pd.DataFrame, rows: list[dict]) -> list[dict]:
    """Each member's comparable before and after total, in weeks since week 0: the points the
    trajectories chart's average joins (the same members at both ends)."""
    origins = _origins(programme, rows)
    return [
        {
            "pre_weeks": (pre_on - origins[client_id]).days / 7,
            "pre_total": pre_total,
            "post_weeks": (post_on - origins[client_id]).days / 7,
            "post_total": post_total,
        }
        for client_id, pre_on, pre_total, post_on, post_total in _comparable(
            frame, "client_id", "pre_on", "pre_total", "post_on", "post_total"
        )
    ]


def _length_weeks(programme: Programme) -> float:
    if programme.starts_on and programme.ends_on:
        return (programme.ends_on - programme.starts_on).days / 7
    return 0


# --- Dose-response -------------------------------------------------------------------------


@dataclass
class DoseResponse:
    frame: pd.DataFrame
    minutes: stats.Association
    reframes: stats.Association
    minutes_chart: Chart
    reframes_chart: Chart
    subscales: list[tuple[str, stats.Association]]
    clients: int


def dose_response_for(clients) -> DoseResponse:
    """Practice minutes and reframes between consecutive SCS administrations against the
    change over the same interval, for these clients (ids or a Client queryset, already scoped
    by the caller): read from the intervals assessments keeps on write, in one query."""
    frame = selectors.dose_frame(clients)
    changes = [column for column in frame.columns if column.startswith("change_")]
    with_minutes = stats.associations(frame["minutes"], {c: frame[c] for c in changes})
    minutes = with_minutes["change_total"]
    by_reframes = stats.association(frame["reframes"], frame["change_total"])
    labels = scale_labels()
    subscales = [
        (labels.get(column.removeprefix("change_"), column), with_minutes[column])
        for column in changes
        if column != "change_total"
    ]
    return DoseResponse(
        frame=frame,
        minutes=minutes,
        reframes=by_reframes,
        minutes_chart=charts.dose_response_chart(
            frame,
            x="minutes",
            y="change_total",
            x_label="Practice minutes between questionnaires",
            y_label="Change in SCS total",
            association=minutes,
        ),
        reframes_chart=charts.dose_response_chart(
            frame,
            x="reframes",
            y="change_total",
            x_label="Reframes between questionnaires",
            y_label="Change in SCS total",
            association=by_reframes,
        ),
        subscales=subscales,
        clients=int(frame["client_id"].nunique()) if len(frame) else 0,
    )


def clinic_dose_response(user: User, programme: Programme | None) -> DoseResponse:
    clients = clients_for(user)
    if programme is not None:
        clients = clients.filter(programmes=programme)
    return dose_response_for(clients)
