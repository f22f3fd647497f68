"""Writes of the dashboard: summaries (derived), acknowledgements, settings and schedules."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Case, Count, F, Max, Sum, Value, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from assessments.instruments import TOTAL, get_instrument
from assessments.reliable_change import reliable_change_for
from assessments.selectors import sd_choices
from clinic.audit import audit_record
from clinic.models import AuditAction, Client, User
from dashboard import flags
from dashboard.models import (
    AssessmentSchedule,
    ClientSummary,
    FlagAcknowledgement,
    FlagSettings,
)
from dashboard.selectors import SCS, scs_rows
from tracking.models import InnerCriticEntry, PracticeSession

HISTORY_POINTS = 12
BATCH = 500
SUMMARY_FIELDS = [
    field.name
    for field in ClientSummary._meta.concrete_fields
    if field.name not in ("client", "stale", "changes")
]


# --- Summaries -------------------------------------------------------------------------------


def summaries_mark_stale(client_ids: Iterable[int], *, scope_changed: bool = False) -> None:
    """Mark clients' summaries out of date (creating missing rows). Called in the same
    transaction as the change, by dashboard.signals.

    scope_changed: who may see these clients may have changed (care team, primary clinician,
    programme membership, status). A page rebuilds only the stale summaries in its viewer's
    *current* scope, so a client who just left it would never be rebuilt there: the clinic's
    dashboard version is counted up at once instead, and every cached fragment is rebuilt."""
    ids = {int(pk) for pk in client_ids if pk is not None}
    if not ids:
        return
    ClientSummary.objects.filter(client_id__in=ids).update(stale=True, changes=F("changes") + 1)
    have = set(ClientSummary.objects.filter(client_id__in=ids).values_list("client_id", flat=True))
    missing = ids - have
    if missing:
        existing = set(Client.objects.filter(pk__in=missing).values_list("pk", flat=True))
        # changes=1: a rebuild that read before this row existed (counter 0) leaves it stale.
        ClientSummary.objects.bulk_create(
            [ClientSummary(client_id=pk, stale=True, changes=1) for pk in existing],
            ignore_conflicts=True,
        )
    if scope_changed:
        dashboard_version_bump(
            Client.objects.filter(pk__in=ids).values_list("organisation_id", flat=True).distinct()
        )


def summaries_refresh(client_ids: Iterable[int] | None = None) -> int:
    """Rebuild the summaries of these clients (every client when None), in batches with a
    fixed number of queries each. Returns how many were rebuilt."""
    if client_ids is None:
        ids = list(Client.objects.order_by("pk").values_list("pk", flat=True))
    else:
        ids = sorted({int(pk) for pk in client_ids})
    for start in range(0, len(ids), BATCH):
        _refresh_batch(ids[start : start + BATCH])
    return len(ids)


def _refresh_batch(ids: list[int]) -> None:
    started = timezone.now()
    # Read the change counters first: a change committed after this read leaves its row stale.
    seen = dict(ClientSummary.objects.filter(client_id__in=ids).values_list("client_id", "changes"))
    clients = list(
        Client.objects.filter(pk__in=ids).select_related("organisation", "assessment_schedule")
    )
    by_org: dict[int, list[Client]] = defaultdict(list)
    for client in clients:
        by_org[client.organisation_id].append(client)
    rows = []
    for organisation_id, members in by_org.items():
        rows += _summaries_for(organisation_id, members, started)
    with transaction.atomic():
        ClientSummary.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["client"],
            update_fields=SUMMARY_FIELDS,
        )
        # Fresh only where no change came in since the counters were read; any other row this
        # rebuild wrote may hold older data than another rebuild's, so it stays (or becomes)
        # stale and is rebuilt on the next read.
        fresh = [When(client_id=pk, changes=seen.get(pk, 0), then=Value(False)) for pk in ids]
        ClientSummary.objects.filter(client_id__in=ids).update(
            stale=Case(*fresh, default=Value(True))
        )
        dashboard_version_bump(by_org)


def dashboard_version_bump(organisation_ids) -> None:
    """Count the clinics' dashboard version up: every cached dashboard fragment of theirs is
    out of date from now on (the key carries the version)."""
    for organisation_id in set(organisation_ids):
        if not FlagSettings.objects.filter(organisation_id=organisation_id).update(
            dashboard_version=F("dashboard_version") + 1
        ):
            try:
                with transaction.atomic():
                    FlagSettings.objects.create(
                        organisation_id=organisation_id, dashboard_version=1
                    )
            except IntegrityError:  # created meanwhile by another request
                FlagSettings.objects.filter(organisation_id=organisation_id).update(
                    dashboard_version=F("dashboard_version") + 1
                )


def _summaries_for(organisation_id: int, clients: list[Client], now) -> list[ClientSummary]:
    instrument = get_instrument(SCS)
    organisation = clients[0].organisation
    tz: ZoneInfo = organisation.tz
    today = timezone.localtime(now, tz).date()
    rules = flags.Rules.from_settings(FlagSettings.for_organisation(organisation_id))
    ids = [c.pk for c in clients]
    sds = sd_choices(organisation_id, instrument)

    scores: dict[int, list[flags.ScoreValues]] = defaultdict(list)
    bands: dict[int, str] = {}
    for row in scs_rows(ids):
        scores[row["client_id"]].append(
            flags.ScoreValues(
                row["id"],
                row["administered_on"],
                row["total"],
                row["total_method"],
                row["subscales"],
            )
        )
        bands[row["id"]] = row["band"]
    entries = {
        row["client_id"]: row
        for row in InnerCriticEntry.objects.filter(client_id__in=ids)
        .order_by()
        .values("client_id")
        .annotate(last=Max("occurred_at"), n=Count("pk"))
    }
    practice = {
        row["client_id"]: row
        for row in PracticeSession.objects.filter(client_id__in=ids)
        .order_by()
        .values("client_id")
        .annotate(last=Max("practised_on"), n=Count("pk"))
    }
    # Daily sums for the rising-intensity windows of clients with an entry in the last week.
    since = dt.datetime.combine(
        today - dt.timedelta(days=7 * (rules.rising_weeks + 1)), dt.time.min, tzinfo=tz
    )
    daily: dict[int, dict[dt.date, tuple[int, float]]] = defaultdict(dict)
    for row in (
        InnerCriticEntry.objects.filter(client_id__in=ids, occurred_at__gte=since)
        .order_by()
        .annotate(day=TruncDate("occurred_at", tzinfo=tz))
        .values("client_id", "day")
        .annotate(n=Count("pk"), total=Sum("intensity"))
    ):
        daily[row["client_id"]][row["day"]] = (row["n"], float(row["total"] or 0))
    acked: dict[int, dict[str, str]] = defaultdict(dict)
    for client_id, kind, episode in (
        FlagAcknowledgement.objects.filter(client_id__in=ids)
        .order_by("client_id", "kind", "-acknowledged_at", "-pk")
        .values_list("client_id", "kind", "episode")
    ):
        acked[client_id].setdefault(kind, episode)

    rows = []
    for client in clients:
        history = scores.get(client.pk, [])
        baseline = history[0] if history else None
        latest = history[-1] if history else None
        change = None
        verdict = ""
        if len(history) > 1 and baseline.total_method == latest.total_method:
            rc = reliable_change_for(
                instrument, TOTAL, baseline.total, latest.total, sds.get(TOTAL)
            )
            change, verdict = rc.difference, rc.verdict
        worse = flags.deteriorated_scales(
            instrument, baseline, latest, sds, include_subscales=rules.deterioration_subscales
        )
        schedule = getattr(client, "assessment_schedule", None)
        every = schedule.every_weeks if schedule is not None else rules.assessment_every_weeks
        entry = entries.get(client.pk)
        last_entry_at = entry["last"] if entry else None
        last_entry_day = timezone.localtime(last_entry_at, tz).date() if last_entry_at else None
        last_practice = practice[client.pk]["last"] if client.pk in practice else None
        activity_days = [day for day in (last_entry_day, last_practice) if day is not None]
        through = last_entry_day if last_entry_day and (today - last_entry_day).days < 7 else None
        slope = flags.rising_slope(daily.get(client.pk, {}), through, rules.rising_weeks)
        method = latest.total_method if latest else ""
        client_acks = acked.get(client.pk, {})
        rows.append(
            ClientSummary(
                client_id=client.pk,
                refreshed_at=now,
                scs_count=len(history),
                scs_baseline_on=baseline.administered_on if baseline else None,
                scs_baseline_total=baseline.total if baseline else None,
                scs_latest_id=latest.administration_id if latest else None,
                scs_latest_on=latest.administered_on if latest else None,
                scs_latest_total=latest.total if latest else None,
                scs_latest_band=bands.get(latest.administration_id, "") if latest else "",
                scs_change=change,
                scs_verdict=verdict,
                scs_history=[
                    [s.administered_on.isoformat(), round(s.total, 3)]
                    for s in history
                    if s.total is not None and s.total_method == method
                ][-HISTORY_POINTS:],
                deteriorated=worse,
                deterioration=bool(worse),
                last_assessed_on=latest.administered_on if latest else None,
                next_due_on=flags.next_due(
                    latest.administered_on if latest else None, client.intake_date, every
                ),
                last_entry_at=last_entry_at,
                last_activity_on=max(activity_days) if activity_days else None,
                activity_count=(entry["n"] if entry else 0)
                + (practice[client.pk]["n"] if client.pk in practice else 0),
                rising_slope=slope,
                rising_through=through if slope is not None else None,
                rising_week=flags.week_start(through) if slope is not None else None,
                **_acked_fields(client_acks),
            )
        )
    return rows


def _acked_fields(acks: dict[str, str]) -> dict:
    fields = {}
    for kind, field in ACK_FIELDS.items():
        try:
            fields[field] = flags.parse_episode(kind, acks[kind]) if kind in acks else None
        except ValueError:
            fields[field] = None
    return fields


ACK_FIELDS = {
    flags.DETERIORATION: "ack_deterioration",
    flags.QUIET: "ack_quiet",
    flags.OVERDUE: "ack_overdue",
    flags.RISING: "ack_rising",
}


def summaries_refresh_stale(clients) -> int:
    """Rebuild the stale summaries among `clients` (a scoped Client queryset, or ids the caller
    has checked): one query on a partial index when none is stale, the usual case."""
    stale = list(
        ClientSummary.objects.filter(stale=True, client__in=clients).values_list(
            "client_id", flat=True
        )
    )
    if stale:
        summaries_refresh(stale)
    return len(stale)


# --- Acknowledgements, settings, schedules --------------------------------------------------


class FlagNotRaised(Exception):
    """The flag being acknowledged is not raised (any more) for that episode."""


def flag_acknowledge(
    *, actor: User, client: Client, kind: str, episode: str, note: str, today: dt.date
) -> FlagAcknowledgement:
    """Record that `actor` saw the flag and what they noted; the flag stays quiet until its
    episode changes. Refused when that flag is not raised for that episode (e.g. the page was
    out of date): nothing is saved."""
    summary = ClientSummary.objects.filter(client=client).first()
    rules = flags.Rules.from_settings(FlagSettings.for_organisation(client.organisation_id))
    raised = {(flag.kind, flag.episode) for flag in flags.flags_for(summary, rules, today)}
    if (kind, episode) not in raised:
        raise FlagNotRaised(kind)
    with transaction.atomic():
        acknowledgement = FlagAcknowledgement.objects.create(
            client=client, kind=kind, episode=episode, note=note, acknowledged_by=actor
        )
        # Counted as a change: a rebuild reading meanwhile (without this acknowledgement)
        # leaves the summary stale rather than writing the flag back open.
        ClientSummary.objects.filter(client=client).update(
            **{ACK_FIELDS[kind]: flags.parse_episode(kind, episode)},
            changes=F("changes") + 1,
        )
        audit_record(actor, client, AuditAction.UPDATE, subject="flag", fields=["acknowledged"])
        dashboard_version_bump([client.organisation_id])
    return acknowledgement


def flag_settings_update(*, actor: User, data: dict) -> FlagSettings:
    """Save the clinic's thresholds; every summary of the clinic is rebuilt on its next read."""
    with transaction.atomic():
        settings, _ = FlagSettings.objects.select_for_update().get_or_create(
            organisation_id=actor.organisation_id
        )
        for name, value in data.items():
            setattr(settings, name, value)
        settings.updated_at = timezone.now()
        settings.updated_by = actor
        settings.dashboard_version += 1
        settings.save()
        summaries_mark_stale(
            Client.objects.filter(organisation_id=actor.organisation_id).values_list(
                "pk", flat=True
            )
        )
    return settings


def assessment_schedule_set(*, actor: User, client: Client, every_weeks: int | None):
    with transaction.atomic():
        schedule, _ = AssessmentSchedule.objects.update_or_create(
            client=client,
            defaults={"every_weeks": every_weeks, "set_by": actor, "set_at": timezone.now()},
        )
        summaries_mark_stale([client.pk])
        audit_record(
            actor, client, AuditAction.UPDATE, subject="assessment schedule", fields=["every_weeks"]
        )
    return schedule
