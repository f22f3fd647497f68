"""Derived data of the tracking app, kept exact by the services that write.

Every service that creates, changes or deletes an inner-critic entry or a practice session calls
`entry_counted` / `practice_counted` with the row's values before and after the change, in its
own transaction (by name: there are no model signals). They move:

- ClientDay: the day's sums (on the day in the clinic's time zone);
- assessments' DoseDay and the questionnaire intervals that hold the day (practice minutes by
  the day practised, reframes by the day they were made): through assessments.projections;
- ClientActivity: counts, last days and the rising-intensity trend, recomputed from ClientDay
  (a new entry adds one to the stored counts instead, which the client's lock keeps exact),
  and the last three rated practices (distress before and after), read from the practice rows.

`expected_rows` recomputes all of it from the raw rows (bulk paths and the repair command call
the same code: `clients_rebuild`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, F, Max, Q, Sum, Value
from django.db.models.functions import Coalesce, Greatest

from assessments import projections as assessment_projections
from clinic.models import Client, clients_lock, clients_lock_zones
from tracking.analysis import RISING_COLUMNS, RISING_DAYS, rising_slopes
from tracking.models import ClientActivity, ClientDay, InnerCriticEntry, PracticeSession

BATCH = 200
RATED_PRACTICES = 3  # the practice-raising-distress flag reads the last three rated practices


# --- The values a row contributes ------------------------------------------------------------


ENTRY_VALUE_FIELDS = (
    "client_id",
    "occurred_at",
    "intensity",
    "intensity_after",
    "reframed_at",
    "trigger_id",
    "pattern",
    "is_private",
)


@dataclass(frozen=True)
class EntryValues:
    """What one inner-critic entry adds to its client's projections."""

    client_id: int
    day: dt.date  # occurred, clinic-local
    hour: int
    intensity: int
    intensity_after: int | None
    reframed_on: dt.date | None  # the day the reframe was made, clinic-local
    breakdown_key: str
    private: bool
    zone: str  # the clinic time zone `day`, `hour` and `reframed_on` are in

    @classmethod
    def of(cls, entry: InnerCriticEntry, tz: ZoneInfo) -> EntryValues:
        return cls.from_row(tz, *(getattr(entry, name) for name in ENTRY_VALUE_FIELDS))

    @classmethod
    def from_row(
        cls, tz, client_id, occurred_at, intensity, after, reframed_at, trigger_id, pattern, private
    ) -> EntryValues:
        """From the values of ENTRY_VALUE_FIELDS, in that order (a values_list row)."""
        local = occurred_at.astimezone(tz)
        return cls(
            client_id=client_id,
            day=local.date(),
            hour=local.hour,
            intensity=intensity,
            intensity_after=after,
            reframed_on=reframed_at.astimezone(tz).date() if reframed_at else None,
            breakdown_key=breakdown_key(trigger_id, pattern),
            private=private,
            zone=tz.key,
        )


def breakdown_key(trigger_id: int | None, pattern: str | None) -> str:
    return f"{trigger_id or 0}|{pattern or ''}"


def parse_breakdown_key(key: str) -> tuple[int | None, str]:
    trigger, pattern = key.split("|", 1)
    return (int(trigger) or None), pattern


@dataclass(frozen=True)
class PracticeValues:
    client_id: int
    day: dt.date
    practice_type: str
    minutes: int

    @classmethod
    def of(cls, session: PracticeSession) -> PracticeValues:
        return cls(session.client_id, session.practised_on, session.practice_type, session.minutes)


# --- Pure: adding and taking away ------------------------------------------------------------


def _bump(counts: dict, key: str, by: int) -> None:
    counts[key] = counts.get(key, 0) + by
    if not counts[key]:
        del counts[key]


def add_entry(day: ClientDay, entry: EntryValues, sign: int = 1) -> None:
    """Add (sign 1) or take away (sign -1) an entry's counts on its day's row."""
    day.entries += sign
    day.intensity_sum += sign * entry.intensity
    if entry.intensity_after is not None:
        day.reframed += sign
        day.reframed_intensity_sum += sign * entry.intensity
        day.intensity_after_sum += sign * entry.intensity_after
    hours = list(day.hours)
    hours[entry.hour] += sign
    day.hours = hours
    target = dict(day.private_breakdown if entry.private else day.breakdown)
    _bump(target, entry.breakdown_key, sign)
    if entry.private:
        day.private_breakdown = target
    else:
        day.breakdown = target


def add_practice(day: ClientDay, practice: PracticeValues, sign: int = 1) -> None:
    day.practice_sessions += sign
    day.practice_minutes += sign * practice.minutes
    types = {key: list(value) for key, value in day.practice_types.items()}
    minutes, sessions = types.get(practice.practice_type, [0, 0])
    minutes, sessions = minutes + sign * practice.minutes, sessions + sign
    if sessions:
        types[practice.practice_type] = [minutes, sessions]
    else:
        types.pop(practice.practice_type, None)
    day.practice_types = types


@dataclass(frozen=True)
class RatedPractice:
    """A practice with distress rated before and after."""

    id: int
    day: dt.date
    before: int
    after: int

    @property
    def raised_distress(self) -> bool:
        return self.after > self.before


def latest_rated(rated: Iterable[RatedPractice]) -> list[RatedPractice]:
    """The last RATED_PRACTICES rated practices, oldest first (by the day practised, then the
    order logged)."""
    return sorted(rated, key=lambda r: (r.day, r.id))[-RATED_PRACTICES:]


@dataclass(frozen=True)
class DayTotals:
    """What ClientActivity takes from all of a client's non-empty ClientDay rows."""

    entries: int
    practice_sessions: int
    last_entry_on: dt.date | None
    last_practice_on: dt.date | None


def activity_from_days(
    client_id: int, days: Iterable[ClientDay], rated: Iterable[RatedPractice] = ()
) -> ClientActivity | None:
    """A client's ClientActivity from all of its ClientDay rows and its rated practices (None
    when it has no day rows)."""
    days = [day for day in days if not day.is_empty]
    if not days:
        return None
    entry_days = [day.day for day in days if day.entries]
    practice_days = [day.day for day in days if day.practice_sessions]
    totals = DayTotals(
        entries=sum(day.entries for day in days),
        practice_sessions=sum(day.practice_sessions for day in days),
        last_entry_on=max(entry_days) if entry_days else None,
        last_practice_on=max(practice_days) if practice_days else None,
    )
    daily = {day.day: (day.entries, float(day.intensity_sum)) for day in days if day.entries}
    return activity_from(client_id, totals, daily, rated)


def activity_from(
    client_id: int,
    totals: DayTotals,
    daily: dict[dt.date, tuple[int, float]],
    rated: Iterable[RatedPractice] = (),
) -> ClientActivity:
    """A client's ClientActivity from the totals of its day rows, its (entries, intensity sum)
    per day with entries (only the RISING_DAYS up to the latest entry are read) and its rated
    practices."""
    last_rated = latest_rated(rated)
    last_entry, last_practice = totals.last_entry_on, totals.last_practice_on
    return ClientActivity(
        client_id=client_id,
        entries=totals.entries,
        practice_sessions=totals.practice_sessions,
        last_entry_on=last_entry,
        last_practice_on=last_practice,
        last_activity_on=max(d for d in (last_entry, last_practice) if d is not None),
        **rising_slopes(daily, last_entry),
        rated_practices=[[r.day.isoformat(), r.before, r.after] for r in last_rated],
        distress_rises=sum(r.raised_distress for r in last_rated),
        last_rated_id=last_rated[-1].id if last_rated else None,
        last_rated_on=last_rated[-1].day if last_rated else None,
    )


# --- Writes (called by services, inside their transaction) -----------------------------------


def _locked_day(client_id: int, day: dt.date) -> ClientDay:
    """The client's day row, locked for this transaction; created first when missing (an
    insert that ignores a row another transaction created meanwhile, then the lock). A day
    that already has a row, the usual case of a client logging, takes one query."""
    days = ClientDay.objects.select_for_update()
    found = days.filter(client_id=client_id, day=day).first()
    if found is not None:
        return found
    ClientDay.objects.bulk_create([ClientDay(client_id=client_id, day=day)], ignore_conflicts=True)
    return days.get(client_id=client_id, day=day)


def _save_day(day: ClientDay) -> None:
    if day.is_empty:
        day.delete()
    else:
        day.save()


def entry_counted(before: EntryValues | None, after: EntryValues | None) -> None:
    """An entry was created (before None), changed, or deleted (after None).

    The caller bucketed the entry's days in the clinic's time zone as its request read it,
    before this transaction took the client's lock. When the clinic has moved zone since (a
    change committed in between: clinic.models.clients_lock), those days are the old zone's:
    the client's projections are then rebuilt from the raw rows, this entry included."""
    if before == after:
        return
    client_id = (after or before).client_id
    zone = clients_lock_zones([client_id])[client_id]
    if any(values.zone != zone for values in (before, after) if values is not None):
        clients_rebuild([client_id])
        return
    for values, sign in ((before, -1), (after, 1)):
        if values is None:
            continue
        day = _locked_day(client_id, values.day)
        add_entry(day, values, sign)
        _save_day(day)
        if values.reframed_on is not None:
            assessment_projections.dose_add(client_id, values.reframed_on, reframes=sign)
    if before is None and _activity_entry_added(client_id, after.day):
        return
    activity_refresh(client_id, practice_changed=False)


def _entries_by_day(client_id: int, *, after: dt.date) -> dict[dt.date, tuple[int, float]]:
    """(entries, intensity sum) of each of the client's days with entries after `after`: the
    rows the rising trend reads (tracking.analysis.rising_slopes looks only inside its windows,
    up to the latest entry, so no later bound is needed). One query."""
    rows = (
        ClientDay.objects.filter(client_id=client_id, day__gt=after)
        .exclude(entries=0)
        .values_list("day", "entries", "intensity_sum")
    )
    return {day: (entries, float(total)) for day, entries, total in rows}


def _activity_entry_added(client_id: int, day: dt.date) -> bool:
    """ClientActivity moved by one new entry on `day` (its day row already counts it), without
    the aggregate over every day row that activity_refresh reads: under the client's lock the
    stored row is exact, so one more entry adds 1 to the count, and the latest entry's day is
    the latest among the day rows from RISING_DAYS before `day` on (it is `day` or later),
    which are the rows the rising trend reads too. False (nothing written) when the client has
    no ClientActivity row yet, or when `day` does not count the entry (a count left below zero
    by rows stored past the services): activity_refresh then recomputes from every day row."""
    daily = _entries_by_day(client_id, after=day - dt.timedelta(days=RISING_DAYS))
    if day not in daily:  # the day nets to no entries: rows stored past the services
        return False
    last_entry = max(daily)
    return bool(
        ClientActivity.objects.filter(client_id=client_id).update(
            entries=F("entries") + 1,
            last_entry_on=last_entry,
            last_activity_on=Greatest(
                Coalesce("last_practice_on", Value(last_entry)), Value(last_entry)
            ),
            **rising_slopes(daily, last_entry),
        )
    )


def practice_counted(before: PracticeValues | None, after: PracticeValues | None) -> None:
    """A practice session was created (before None), changed, or deleted (after None)."""
    if before == after:
        return
    client_id = (after or before).client_id
    clients_lock([client_id])
    for values, sign in ((before, -1), (after, 1)):
        if values is None:
            continue
        day = _locked_day(client_id, values.day)
        add_practice(day, values, sign)
        _save_day(day)
        assessment_projections.dose_add(client_id, values.day, minutes=sign * values.minutes)
    activity_refresh(client_id)


def rated_practices_of(client_id: int) -> list[RatedPractice]:
    """The client's last rated practices: one query, at most RATED_PRACTICES rows."""
    rows = (
        PracticeSession.objects.filter(
            client_id=client_id, distress_before__isnull=False, distress_after__isnull=False
        )
        .order_by("-practised_on", "-id")
        .values_list("id", "practised_on", "distress_before", "distress_after")[:RATED_PRACTICES]
    )
    return [RatedPractice(*row) for row in rows]


# The activity fields that come from day rows; the others come from the rated practices.
FROM_DAYS = (
    "entries",
    "practice_sessions",
    "last_entry_on",
    "last_practice_on",
    "last_activity_on",
    *RISING_COLUMNS,
)


def activity_refresh(client_id: int, *, practice_changed: bool = True) -> None:
    """Recompute a client's ClientActivity from its ClientDay rows and its last rated
    practices: the totals in one aggregate, the day rows the rising trend reads (at most
    RISING_DAYS), the rated practices, and a write. A write's cost does not grow with the
    client's history (a client of years has thousands of day rows). A day counts as it does in
    activity_from_days: with entries (or practice) when the count is not 0.

    When no practice session changed (an entry's write), the rated practices cannot have
    changed either: the stored row's day fields are updated and the rated practices are not
    read, unless the client has no row yet."""
    days = ClientDay.objects.filter(client_id=client_id).exclude(entries=0, practice_sessions=0)
    found = days.aggregate(
        rows=Count("pk"),
        all_entries=Coalesce(Sum("entries"), 0),
        all_practice=Coalesce(Sum("practice_sessions"), 0),
        last_entry=Max("day", filter=~Q(entries=0)),
        last_practice=Max("day", filter=~Q(practice_sessions=0)),
    )
    if not found["rows"]:
        ClientActivity.objects.filter(client_id=client_id).delete()
        return
    totals = DayTotals(
        entries=found["all_entries"],
        practice_sessions=found["all_practice"],
        last_entry_on=found["last_entry"],
        last_practice_on=found["last_practice"],
    )
    daily = {}
    if totals.last_entry_on is not None:
        daily = _entries_by_day(
            client_id, after=totals.last_entry_on - dt.timedelta(days=RISING_DAYS)
        )
    if not practice_changed:
        fresh = activity_from(client_id, totals, daily)
        kept = ClientActivity.objects.filter(client_id=client_id)
        if kept.update(**{name: getattr(fresh, name) for name in FROM_DAYS}):
            return
    activity_from(client_id, totals, daily, rated_practices_of(client_id)).save()


# --- From the raw rows: bulk paths and the repair command ------------------------------------


@dataclass
class Expected:
    days: list[ClientDay] = field(default_factory=list)
    activity: list[ClientActivity] = field(default_factory=list)
    dose: list[tuple[int, dt.date, int, int]] = field(default_factory=list)


def expected_rows(client_ids: list[int]) -> Expected:
    """What ClientDay, ClientActivity and DoseDay should hold for these clients, recomputed
    from every entry and practice session they have (in batches of clients)."""
    expected = Expected()
    zones = dict(
        Client.objects.filter(pk__in=client_ids).values_list("pk", "organisation__time_zone")
    )
    tz_of = {pk: ZoneInfo(name) for pk, name in zones.items()}
    for start in range(0, len(client_ids), BATCH):
        batch = client_ids[start : start + BATCH]
        days: dict[tuple[int, dt.date], ClientDay] = {}
        dose: dict[tuple[int, dt.date], list[int]] = defaultdict(lambda: [0, 0])

        def day_of(client_id: int, day: dt.date, days=days) -> ClientDay:
            key = (client_id, day)
            if key not in days:
                days[key] = ClientDay(client_id=client_id, day=day)
            return days[key]

        entries = InnerCriticEntry.objects.filter(client_id__in=batch).values_list(
            *ENTRY_VALUE_FIELDS
        )
        for row in entries.iterator(chunk_size=5000):
            values = EntryValues.from_row(tz_of[row[0]], *row)
            add_entry(day_of(values.client_id, values.day), values)
            if values.reframed_on is not None:
                dose[(values.client_id, values.reframed_on)][1] += 1
        practice = PracticeSession.objects.filter(client_id__in=batch).values_list(
            "client_id",
            "practised_on",
            "practice_type",
            "minutes",
            "pk",
            "distress_before",
            "distress_after",
        )
        rated: dict[int, list[RatedPractice]] = defaultdict(list)
        for client_id, day, kind, minutes, pk, before, after in practice.iterator(chunk_size=5000):
            values = PracticeValues(client_id, day, kind, minutes)
            add_practice(day_of(client_id, day), values)
            dose[(client_id, day)][0] += minutes
            if before is not None and after is not None:
                rated[client_id].append(RatedPractice(pk, day, before, after))
        by_client: dict[int, list[ClientDay]] = defaultdict(list)
        for (client_id, _), day in sorted(days.items()):
            by_client[client_id].append(day)
        expected.days += [day for _, day in sorted(days.items())]
        expected.activity += [
            activity
            for client_id, client_days in by_client.items()
            if (activity := activity_from_days(client_id, client_days, rated[client_id]))
            is not None
        ]
        expected.dose += [(c, day, m, r) for (c, day), (m, r) in sorted(dose.items()) if m or r]
    return expected


@transaction.atomic(savepoint=False)
def clients_rebuild(client_ids: Iterable[int]) -> None:
    """Replace these clients' projections with ones recomputed from the raw rows: for bulk
    writes (seeding, COPY) and a clinic's new time zone. Also rebuilds their dose. In one
    transaction (the caller's, else its own): the clients stay locked throughout, and no reader
    sees a client between the old rows' delete and the new rows' insert."""
    ids = sorted({int(pk) for pk in client_ids})
    clients_lock(ids)
    for start in range(0, len(ids), 2000):
        batch = ids[start : start + 2000]
        expected = expected_rows(batch)
        ClientDay.objects.filter(client_id__in=batch).delete()
        ClientActivity.objects.filter(client_id__in=batch).delete()
        ClientDay.objects.bulk_create(expected.days, batch_size=2000)
        ClientActivity.objects.bulk_create(expected.activity, batch_size=2000)
        assessment_projections.dose_replace(batch, expected.dose)
