"""Proof that the projections match the raw rows, and their repair.

The apps keep their projections on write (assessments.projections, tracking.projections). This
module recomputes every one of them from the raw rows, batch by batch of clients, compares with
what is stored, and reports each difference (`differences`); `repair` replaces what differs with
the recomputed rows. It lives at the top of the house because the recomputation spans apps: the
dose between questionnaires (assessments) is recomputed from practice and reframes (tracking).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import transaction

from assessments import projections as assessment_projections
from assessments.models import BaselineMoments, DoseDay, ScoreInterval, ScoreSummary
from clinic.models import Client
from tracking import projections as tracking_projections
from tracking.models import ClientActivity, ClientDay

BATCH = 500
EXAMPLES = 20


@dataclass(frozen=True)
class Difference:
    table: str
    key: str  # e.g. "client 12 day 2026-03-02"
    detail: str  # stored vs expected, numbers only (never words: projections hold none)

    def __str__(self) -> str:
        return f"{self.table} {self.key}: {self.detail}"


def _value(value):
    """A comparable form of a stored value: floats rounded (sums of floats may differ in the
    last bits), JSON with its keys sorted."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return tuple(sorted((key, _value(v)) for key, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_value(v) for v in value)
    return value


def _fields(model, exclude: Iterable[str] = ("id",)) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields if field.attname not in exclude]


def _rows(objects, names: list[str]) -> Counter:
    return Counter(tuple(_value(getattr(obj, name)) for name in names) for obj in objects)


def _compare(table: str, stored: Counter, expected: Counter, client_of) -> Iterator[Difference]:
    for row in sorted((stored - expected).keys() | (expected - stored).keys(), key=repr):
        have, want = stored.get(row, 0), expected.get(row, 0)
        if have != want:
            yield Difference(
                table,
                f"client {client_of(row)}",
                f"row {row!r} stored {have} time(s), expected {want}",
            )


def _batches(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def differences(client_ids: Iterable[int]) -> list[Difference]:
    """Every difference between the stored projections of these clients and what their raw rows
    give; the clinics' baseline moments too, for every clinic all of whose clients are given."""
    ids = sorted({int(pk) for pk in client_ids})
    found: list[Difference] = []
    summaries_by_org: dict[int, list[ScoreSummary]] = defaultdict(list)
    for batch in _batches(ids):
        tracking = tracking_projections.expected_rows(batch)
        dose: dict[int, dict] = defaultdict(dict)
        for client_id, day, minutes, reframes in tracking.dose:
            dose[client_id][day] = (minutes, reframes)
        scores = assessment_projections.expected_rows(batch, dose=dose)
        checks = (
            (ClientDay, tracking.days, ClientDay.objects.filter(client_id__in=batch)),
            (ClientActivity, tracking.activity, ClientActivity.objects.filter(client_id__in=batch)),
            (
                DoseDay,
                [
                    DoseDay(client_id=c, day=d, practice_minutes=m, reframes=r)
                    for c, d, m, r in tracking.dose
                ],
                DoseDay.objects.filter(client_id__in=batch).exclude(practice_minutes=0, reframes=0),
            ),
            (
                ScoreSummary,
                [projection.summary for projection in scores],
                ScoreSummary.objects.filter(client_id__in=batch),
            ),
            (
                ScoreInterval,
                [interval for projection in scores for interval in projection.intervals],
                ScoreInterval.objects.filter(client_id__in=batch),
            ),
        )
        for model, expected, stored in checks:
            names = _fields(model)
            position = names.index("client_id")
            found += _compare(
                model.__name__,
                _rows(stored, names),
                _rows(expected, names),
                lambda row, position=position: row[position],
            )
        for projection in scores:
            summaries_by_org[projection.summary.organisation_id].append(projection.summary)
    found += _moment_differences(ids, summaries_by_org)
    return found


def _whole_clinics(ids: list[int]) -> list[int]:
    """The clinics every client of which is among `ids`."""
    wanted = set(ids)
    clinics = defaultdict(set)
    for pk, org in Client.objects.filter(
        organisation__in=Client.objects.filter(pk__in=ids).values("organisation")
    ).values_list("pk", "organisation_id"):
        clinics[org].add(pk)
    return sorted(org for org, members in clinics.items() if members <= wanted)


def expected_moments(summaries: Iterable[ScoreSummary]) -> dict[tuple[str, str], list[float]]:
    moments: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for summary in summaries:
        for scale, value in assessment_projections.moment_values(summary).items():
            entry = moments[(summary.instrument_code, scale)]
            entry[0] += 1
            entry[1] += value
            entry[2] += value * value
    return moments


def _moment_differences(ids: list[int], summaries_by_org) -> list[Difference]:
    found = []
    for org in _whole_clinics(ids):
        expected = expected_moments(summaries_by_org.get(org, []))
        stored = {
            (row.instrument_code, row.scale): (row.n, row.total, row.total_sq)
            for row in BaselineMoments.objects.filter(organisation_id=org)
        }
        for key in sorted(expected.keys() | stored.keys()):
            want = expected.get(key, (0, 0.0, 0.0))
            have = stored.get(key, (0, 0.0, 0.0))
            close = have[0] == want[0] and all(
                math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)
                for a, b in zip(have[1:], want[1:], strict=True)
            )
            if not close:
                found.append(
                    Difference(
                        "BaselineMoments",
                        f"clinic {org} {key[0]} {key[1]}",
                        f"stored n, sum, sum of squares {have}, expected {tuple(want)}",
                    )
                )
    return found


def repair(client_ids: Iterable[int]) -> None:
    """Replace the projections of these clients with ones recomputed from the raw rows, and the
    baseline moments of every clinic all of whose clients are given."""
    ids = sorted({int(pk) for pk in client_ids})
    with transaction.atomic():
        for batch in _batches(ids):
            tracking_projections.clients_rebuild(batch)  # the dose, then the scores with it
        for org in _whole_clinics(ids):
            moments = expected_moments(ScoreSummary.objects.filter(organisation_id=org))
            BaselineMoments.objects.filter(organisation_id=org).delete()
            BaselineMoments.objects.bulk_create(
                BaselineMoments(
                    organisation_id=org,
                    instrument_code=code,
                    scale=scale,
                    n=n,
                    total=total,
                    total_sq=total_sq,
                )
                for (code, scale), (n, total, total_sq) in moments.items()
            )
