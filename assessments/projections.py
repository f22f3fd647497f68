"""Derived data of the assessments app, kept exact by the services that write.

Every write of administrations, scores or corrections calls `scores_refresh` for the clients it
touched, in its own transaction (services call it by name; there are no model signals). It
recomputes, from those clients' scored administrations (Administration.objects.scored):

- ScoreSummary: baseline (first scored) and latest per client and instrument, with the scale
  values the dashboard compares, the latest band and the last totals;
- ScoreInterval: each pair of consecutive scored administrations on different days, with the
  change per scale and the dose in between (from DoseDay);
- BaselineMoments: n, sum and sum of squares of the clinic's baseline values per scale, updated
  by the difference between the clients' old and new baselines.

DoseDay is written by tracking's services through `dose_add` (practice minutes, reframes), which
also adds the dose to the interval that holds that day. `expected_rows` recomputes everything
from the raw rows for the repair command (dashboard's refresh_dashboard).

The reading order everywhere is (administered_on, created_at, pk): the same as Administration's
default ordering and dashboard.selectors.scs_rows.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import accumulate, pairwise

from django.db import transaction
from django.db.models import F

from assessments.instruments import TOTAL, get_instrument
from assessments.models import (
    Administration,
    BaselineMoments,
    DoseDay,
    ScoreInterval,
    ScoreSummary,
)
from clinic.models import clients_lock

HISTORY_POINTS = 12
INTERVAL_INSTRUMENTS = ("scs",)  # dose-response relates practice to change on the SCS
BATCH = 500


@dataclass(frozen=True)
class ScoredRow:
    """One scored administration as plain values."""

    id: int
    client_id: int
    organisation_id: int
    instrument_code: str
    administered_on: dt.date
    total: float | None
    total_method: str
    band: str
    subscales: dict[str, float | None]

    def values(self) -> dict[str, float]:
        """Scale code -> value, for the scales that have one ("total" included)."""
        values = {code: v for code, v in self.subscales.items() if v is not None}
        if self.total is not None:
            values[TOTAL] = self.total
        return values


@dataclass
class Projection:
    """What one client's scored administrations of one instrument project to."""

    summary: ScoreSummary
    intervals: list[ScoreInterval] = field(default_factory=list)


# --- Pure: rows -> projections ------------------------------------------------------------


class _CumulativeDose:
    """Sums of a client's dose over half-open day ranges, by binary search on running sums."""

    def __init__(self, dose: dict[dt.date, tuple[int, int]]):
        self.days = sorted(dose)
        self.minutes = list(accumulate((dose[d][0] for d in self.days), initial=0))
        self.reframes = list(accumulate((dose[d][1] for d in self.days), initial=0))

    def between(self, after: dt.date, through: dt.date) -> tuple[int, int]:
        """(minutes, reframes) on days d with after < d <= through."""
        lo, hi = bisect_right(self.days, after), bisect_right(self.days, through)
        return self.minutes[hi] - self.minutes[lo], self.reframes[hi] - self.reframes[lo]


def moment_values(summary: ScoreSummary | None) -> dict[str, float]:
    """What a client's baseline adds to the clinic's baseline moments: every subscale value,
    and the total only when computed by the instrument's default method (the two methods give
    different numbers and are never mixed, shared/instruments.md)."""
    if summary is None:
        return {}
    instrument = get_instrument(summary.instrument_code)
    values = dict(summary.baseline_values)
    if TOTAL in values and summary.baseline_method != (instrument.default_total_method or ""):
        del values[TOTAL]
    return values


def _subscale_changes(earlier: ScoredRow, later: ScoredRow) -> dict[str, float]:
    """later - earlier on each subscale both have a value for."""
    return {
        code: later.subscales[code] - value
        for code, value in earlier.subscales.items()
        if value is not None and later.subscales.get(code) is not None
    }


def project(rows: list[ScoredRow], dose: dict[dt.date, tuple[int, int]]) -> Projection:
    """One client's scored administrations of one instrument (oldest first, at least one) and
    their dose per day -> the summary and intervals to store."""
    baseline, latest = rows[0], rows[-1]
    same_method = baseline.total_method == latest.total_method
    change = (
        latest.total - baseline.total
        if same_method
        and baseline.id != latest.id
        and latest.total is not None
        and baseline.total is not None
        else None
    )
    subscale_change = _subscale_changes(baseline, latest) if baseline.id != latest.id else {}
    summary = ScoreSummary(
        client_id=latest.client_id,
        organisation_id=latest.organisation_id,
        instrument_code=latest.instrument_code,
        scored_count=len(rows),
        baseline_id=baseline.id,
        baseline_on=baseline.administered_on,
        baseline_method=baseline.total_method,
        baseline_values=baseline.values(),
        latest_id=latest.id,
        latest_on=latest.administered_on,
        latest_method=latest.total_method,
        latest_values=latest.values(),
        latest_total=latest.total,
        latest_band=latest.band,
        total_change=change,
        **{f"change_{code}": subscale_change.get(code) for code in ScoreSummary.SUBSCALES},
        history=[
            [row.administered_on.isoformat(), round(row.total, 3)]
            for row in rows
            if row.total is not None and row.total_method == latest.total_method
        ][-HISTORY_POINTS:],
    )
    intervals = []
    if latest.instrument_code not in INTERVAL_INSTRUMENTS:
        return Projection(summary, intervals)
    sums = _CumulativeDose(dose)
    for earlier, later in pairwise(rows):
        if later.administered_on == earlier.administered_on:
            continue  # a same-day pair measures no interval
        changes = _subscale_changes(earlier, later)
        if (
            earlier.total is not None
            and later.total is not None
            and earlier.total_method == later.total_method
        ):
            changes[TOTAL] = later.total - earlier.total
        minutes, reframes = sums.between(earlier.administered_on, later.administered_on)
        intervals.append(
            ScoreInterval(
                client_id=later.client_id,
                organisation_id=later.organisation_id,
                instrument_code=later.instrument_code,
                start_id=earlier.id,
                end_id=later.id,
                start_on=earlier.administered_on,
                end_on=later.administered_on,
                days=(later.administered_on - earlier.administered_on).days,
                change_total=changes.get(TOTAL),
                **{f"change_{code}": changes.get(code) for code in ScoreInterval.SUBSCALES},
                practice_minutes=minutes,
                reframes=reframes,
            )
        )
    return Projection(summary, intervals)


# --- Reads of the raw rows ------------------------------------------------------------------


def scored_rows(client_ids: Iterable[int]) -> dict[tuple[int, str], list[ScoredRow]]:
    """Every scored administration of these clients, per (client, instrument), oldest first:
    one query."""
    found: dict[tuple[int, str], list[ScoredRow]] = defaultdict(list)
    rows = (
        Administration.objects.scored()
        .filter(client_id__in=list(client_ids))
        .order_by("client_id", "instrument_code", "administered_on", "created_at", "pk")
        .values_list(
            "pk",
            "client_id",
            "organisation_id",
            "instrument_code",
            "administered_on",
            "score__total",
            "score__total_method",
            "score__band",
            "score__subscales",
        )
    )
    for pk, client_id, org_id, code, on, total, method, band, subscales in rows:
        found[(client_id, code)].append(
            ScoredRow(
                id=pk,
                client_id=client_id,
                organisation_id=org_id,
                instrument_code=code,
                administered_on=on,
                total=total,
                total_method=method or "",
                band=band or "",
                subscales={c: (v or {}).get("score") for c, v in (subscales or {}).items()},
            )
        )
    return found


def dose_by_day(client_ids: Iterable[int]) -> dict[int, dict[dt.date, tuple[int, int]]]:
    """DoseDay rows of these clients: client -> day -> (practice minutes, reframes)."""
    dose: dict[int, dict[dt.date, tuple[int, int]]] = defaultdict(dict)
    for client_id, day, minutes, reframes in DoseDay.objects.filter(
        client_id__in=list(client_ids)
    ).values_list("client_id", "day", "practice_minutes", "reframes"):
        if minutes or reframes:
            dose[client_id][day] = (minutes, reframes)
    return dose


def expected_rows(
    client_ids: list[int], dose: dict[int, dict[dt.date, tuple[int, int]]] | None = None
) -> list[Projection]:
    """What ScoreSummary and ScoreInterval should hold for these clients, from their scored
    administrations and their dose per day (stored DoseDay rows unless given)."""
    rows = scored_rows(client_ids)
    if dose is None:
        dose = dose_by_day(client_ids)
    return [
        project(client_rows, dose.get(client_id, {}))
        for (client_id, _), client_rows in sorted(rows.items())
    ]


# --- Writes (called by services, inside their transaction) ---------------------------------


@transaction.atomic(savepoint=False)
def scores_refresh(client_ids: Iterable[int]) -> None:
    """Recompute the projections of these clients from their scored administrations, and move
    the clinic's baseline moments by the difference between their old and new baselines. In
    one transaction (the caller's, else its own): the clients stay locked throughout."""
    ids = sorted({int(pk) for pk in client_ids})
    clients_lock(ids)
    for start in range(0, len(ids), BATCH):
        _refresh_batch(ids[start : start + BATCH])


def _refresh_batch(ids: list[int]) -> None:
    old = list(ScoreSummary.objects.filter(client_id__in=ids))
    projections = expected_rows(ids)
    new = [projection.summary for projection in projections]
    ScoreSummary.objects.filter(client_id__in=ids).delete()
    ScoreInterval.objects.filter(client_id__in=ids).delete()
    ScoreSummary.objects.bulk_create(new, batch_size=BATCH)
    ScoreInterval.objects.bulk_create(
        [interval for projection in projections for interval in projection.intervals],
        batch_size=BATCH,
    )
    moments_move(old, new)


def moments_move(old: Iterable[ScoreSummary], new: Iterable[ScoreSummary]) -> None:
    """Take the old baselines out of the clinics' moments and put the new ones in."""
    delta: dict[tuple[int, str, str], list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for summaries, sign in ((old, -1), (new, 1)):
        for summary in summaries:
            for scale, value in moment_values(summary).items():
                key = (summary.organisation_id, summary.instrument_code, scale)
                delta[key][0] += sign
                delta[key][1] += sign * value
                delta[key][2] += sign * value * value
    changed = {key: d for key, d in delta.items() if d[0] or d[1] or d[2]}
    if not changed:
        return
    BaselineMoments.objects.bulk_create(
        [
            BaselineMoments(organisation_id=org, instrument_code=code, scale=scale)
            for org, code, scale in changed
        ],
        ignore_conflicts=True,
    )
    for (org, code, scale), (n, total, total_sq) in changed.items():
        BaselineMoments.objects.filter(
            organisation_id=org, instrument_code=code, scale=scale
        ).update(n=F("n") + n, total=F("total") + total, total_sq=F("total_sq") + total_sq)


def dose_add(client_id: int, day: dt.date, *, minutes: int = 0, reframes: int = 0) -> None:
    """Add practice minutes and reframes (negative to take them back) to a client's day, and to
    the questionnaire intervals that hold that day. Called by tracking's services."""
    if not minutes and not reframes:
        return
    DoseDay.objects.bulk_create([DoseDay(client_id=client_id, day=day)], ignore_conflicts=True)
    DoseDay.objects.filter(client_id=client_id, day=day).update(
        practice_minutes=F("practice_minutes") + minutes, reframes=F("reframes") + reframes
    )
    ScoreInterval.objects.filter(client_id=client_id, start_on__lt=day, end_on__gte=day).update(
        practice_minutes=F("practice_minutes") + minutes, reframes=F("reframes") + reframes
    )


def dose_replace(client_ids: Iterable[int], days: Iterable[tuple[int, dt.date, int, int]]) -> None:
    """Replace these clients' DoseDay rows with `days` (client, day, minutes, reframes) and
    recompute their intervals' dose: the bulk path (seeding, a clinic's new time zone)."""
    ids = sorted({int(pk) for pk in client_ids})
    DoseDay.objects.filter(client_id__in=ids).delete()
    DoseDay.objects.bulk_create(
        [
            DoseDay(client_id=c, day=day, practice_minutes=m, reframes=r)
            for c, day, m, r in days
            if m or r
        ],
        batch_size=2000,
    )
    scores_refresh(ids)
