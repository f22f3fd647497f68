"""Demo data for tracking, added by `manage.py seed_demo` (registered in TrackingConfig.ready).

- Every hand-made demo client gets about five months of plausible logs: entries with a daily
  rhythm (mornings, lunchtime, late evening) and a weekly one (more on Mondays and Sundays),
  intensities that fall as reframing practice grows for most clients, practice sessions, some
  weekly journal entries and a few private entries. Clients that already have entries are left
  alone, so running seed_demo twice adds nothing the second time.
- `--entries N` writes N entries spread over the Benchmark Clinic's clients (seed_demo's
  --clients flag creates that clinic) and the last year, never before a client's intake, with
  bulk inserts: COPY on PostgreSQL, bulk_create elsewhere. Idempotent too: the clinic is topped
  up to N entries, never beyond.
- `--practice N` does the same for practice sessions: N sessions spread over the Benchmark
  Clinic's clients and each one's time since intake (mostly 5-20 minutes, a distress rating
  before and after for most).
- The safety pathway, on the portal client (sam): two of their last three rated practices
  raised distress, and the latest of them was marked as difficult with a request to be
  contacted, which raises a safety flag through the same service as the portal's button.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import time
from typing import TYPE_CHECKING

import numpy as np
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

from clinic.models import Client, SignalKind, SignalSource
from clinic.safety import safety_signal_raise
from tracking import projections
from tracking.models import (
    InnerCriticEntry,
    JournalEntry,
    Pattern,
    PracticeSession,
    PracticeType,
    TriggerCategory,
)

if TYPE_CHECKING:
    from clinic.demo import DemoContext

DEMO_DAYS = 150
BATCH = 5000
CHUNK = 50_000  # benchmark rows generated (and sent) at a time

CRITIC_PHRASES = [
    "You should have known better.",
    "Everyone else manages this, why can't you?",
    "You are so lazy.",
    "That was stupid. You always mess it up.",
    "They will find out you are not good enough.",
    "You look terrible today.",
    "You are a bad parent for losing your temper.",
    "You never finish anything.",
    "Nobody really wants you there.",
    "You are wasting everyone's time.",
    "You should be over this by now.",
    "Pathetic. You cried again.",
]
SITUATIONS = [
    "Before a meeting with my manager",
    "After dinner with friends",
    "Getting dressed in the morning",
    "Helping the kids with homework",
    "Looking at my bank balance",
    "A doctor's appointment",
    "",
]
KINDNESS = [
    "This is a moment of difficulty. It is hard, and I am doing my best.",
    "Many people feel like this when they are tired and stretched.",
    "May I be gentle with myself right now.",
    "I would tell a friend that one mistake does not define them.",
]
BODY = ["chest", "stomach", "throat", "shoulders", "jaw", ""]
EMOTIONS = ["shame", "anxiety", "sadness", "anger", "guilt", "loneliness", "frustration"]
PATTERNS = [p.value for p in Pattern]
PRACTICES = [p.value for p in PracticeType]
HOUR_WEIGHTS = np.array(
    [1, 1, 0, 0, 0, 1, 3, 6, 7, 5, 4, 4, 6, 5, 4, 4, 4, 5, 6, 6, 6, 7, 8, 4], dtype=float
)
WEEKDAY_WEIGHTS = np.array([1.5, 1.0, 1.0, 1.0, 1.1, 0.8, 1.3])


class TrackingSeeder:
    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--entries",
            type=int,
            default=0,
            help="Inner-critic entries to write into the Benchmark Clinic (needs --clients).",
        )
        parser.add_argument(
            "--practice",
            type=int,
            default=0,
            help="Practice sessions to write into the Benchmark Clinic (needs --clients).",
        )

    def seed(self, context: DemoContext) -> None:
        self.seed_demo_clients(context)
        bulk_written = 0
        for flag, label, example, write in (
            ("entries", "entries", 2_000_000, seed_benchmark_entries),
            ("practice", "practice sessions", 500_000, seed_benchmark_practice),
        ):
            wanted = int(context.options.get(flag) or 0)
            if not wanted:
                continue
            if context.bench_organisation is None:
                raise CommandError(
                    f"--{flag} needs the Benchmark Clinic: pass --clients N as well, e.g. "
                    f"manage.py seed_demo --clients 10000 --{flag} {example}"
                )
            started = time.perf_counter()
            written = write(context.bench_organisation, wanted, context.rng)
            context.write(
                f"tracking: {written:,} benchmark {label} written in "
                f"{time.perf_counter() - started:.1f}s"
            )
            context.created[f"tracking_benchmark_{flag}"] = written
            bulk_written += written
        if bulk_written:
            # Bulk inserts (COPY) bypass the services: their projections are built in bulk
            # by the same code the repair command uses.
            started = time.perf_counter()
            ids = Client.objects.filter(organisation=context.bench_organisation).values_list(
                "pk", flat=True
            )
            projections.clients_rebuild(ids)
            context.write(
                f"tracking: benchmark projections built in {time.perf_counter() - started:.1f}s"
            )

    # --- The hand-made demo clients ------------------------------------------------------

    def seed_demo_clients(self, context: DemoContext) -> None:
        clients = list(context.clients)
        done = set(
            InnerCriticEntry.objects.filter(client__in=clients)
            .values_list("client_id", flat=True)
            .distinct()
        )
        todo = [c for c in clients if c.pk not in done]
        if not todo:
            context.write("tracking: demo logs already present")
            return
        triggers = list(TriggerCategory.objects.filter(organisation__isnull=True))
        rng = np.random.default_rng(context.rng.randrange(2**32))
        entries, practice, journal = [], [], []
        now = timezone.now()
        portal = clients[0]  # sam
        for index, client in enumerate(todo):
            improves = index == 0 or rng.random() < 0.8  # sam improves, as do most clients
            e, p, j = _client_history(client, triggers, rng, now, improves)
            if client.pk == portal.pk:
                _practice_that_raised_distress(p)
            entries += e
            practice += p
            journal += j
        with transaction.atomic():
            InnerCriticEntry.objects.bulk_create(entries, batch_size=BATCH)
            PracticeSession.objects.bulk_create(practice, batch_size=BATCH)
            JournalEntry.objects.bulk_create(journal, batch_size=BATCH, ignore_conflicts=True)
            projections.clients_rebuild(client.pk for client in todo)
            hard = [session for session in practice if session.client_id == portal.pk]
            if hard:
                safety_signal_raise(
                    client=portal,
                    kind=SignalKind.SAFETY,
                    source=SignalSource.PRACTICE,
                    source_id=hard[-1].pk,
                    actor=portal.user,
                    asked_for_contact=True,
                )
        context.created["tracking_entries"] = len(entries)
        context.write(
            f"tracking: {len(entries):,} entries, {len(practice):,} practice sessions, "
            f"{len(journal):,} journal entries for {len(todo)} clients"
        )


def _practice_that_raised_distress(practice: list[PracticeSession]) -> None:
    """Two of the last three practices leave more distress than before (backdraft)."""
    for session in practice[-3:][::2]:
        session.distress_before = 3
        session.distress_after = 6


def _client_history(client: Client, triggers, rng, now: dt.datetime, improves: bool):
    tz = client.organisation.tz
    today = timezone.localtime(now, tz).date()
    # Logging runs from intake (never before it) to discharge or today, at most DEMO_DAYS, or
    # from two weeks before the client's first group programme, so that the programme's
    # dose-response has practice between its questionnaires.
    last = min(today, client.discharge_date or today)
    starts = [p.starts_on for p in client.programmes.all() if p.starts_on is not None]
    earliest = min([last - dt.timedelta(days=DEMO_DAYS), *(d - dt.timedelta(14) for d in starts)])
    first = max(client.intake_date, earliest)
    span = max(1, (last - first).days)
    base = rng.uniform(0.6, 2.2)  # entries a day for this client
    favourite = rng.choice(len(triggers), size=2, replace=False)
    entries, practice, journal = [], [], []
    for offset in range(span + 1):
        day = first + dt.timedelta(days=offset)
        progress = offset / span  # 0 at the start, 1 at the end
        count = rng.poisson(base * WEEKDAY_WEIGHTS[day.weekday()])
        for _ in range(count):
            hour = int(rng.choice(24, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum()))
            when = dt.datetime.combine(day, dt.time(hour, int(rng.integers(60))), tzinfo=tz)
            if when > now:
                continue
            level = 7.5 - (3.5 * progress if improves else 0.5 * progress)
            intensity = int(np.clip(round(rng.normal(level, 1.5)), 0, 10))
            reframed = rng.random() < (0.2 + 0.6 * progress if improves else 0.25)
            trigger = triggers[
                int(favourite[0] if rng.random() < 0.6 else rng.integers(len(triggers)))
            ]
            detailed = rng.random() < 0.6
            entry = InnerCriticEntry(
                client=client,
                occurred_at=when,
                critic_text=str(rng.choice(CRITIC_PHRASES)),
                intensity=intensity,
                situation=str(rng.choice(SITUATIONS)) if detailed else "",
                trigger=trigger if detailed else None,
                emotions=sorted(set(rng.choice(EMOTIONS, size=2).tolist())) if detailed else [],
                body_location=str(rng.choice(BODY)) if detailed else "",
                pattern=str(rng.choice(PATTERNS)) if detailed else "",
                is_private=rng.random() < 0.05,
                created_by_id=client.user_id,
                created_at=when,
                updated_at=when,
            )
            if reframed:
                drop = rng.uniform(1, 3 + 2 * progress)
                entry.self_kindness = str(rng.choice(KINDNESS))
                entry.common_humanity = KINDNESS[1] if rng.random() < 0.5 else ""
                entry.intensity_after = int(np.clip(round(intensity - drop), 0, 10))
                entry.reframed_at = when + dt.timedelta(minutes=int(rng.integers(5, 600)))
                if entry.reframed_at > now:
                    entry.reframed_at = now
            entries.append(entry)
        if rng.random() < (0.15 + (0.5 * progress if improves else 0.1)):
            before = int(rng.integers(3, 9))
            practice.append(
                PracticeSession(
                    client=client,
                    practised_on=day,
                    practice_type=str(rng.choice(PRACTICES)),
                    minutes=int(rng.choice([3, 5, 5, 10, 10, 15, 20])),
                    distress_before=before,
                    distress_after=max(0, before - int(rng.integers(0, 4))),
                    created_by_id=client.user_id,
                )
            )
        if day.weekday() == 6 and rng.random() < 0.4:
            journal.append(
                JournalEntry(
                    client=client,
                    week_start=day - dt.timedelta(days=6),
                    difficulty="A week with " + str(rng.choice(SITUATIONS) or "a hard day").lower(),
                    mindfulness="It was painful and I noticed the tightness.",
                    common_humanity="Other people feel this too.",
                    self_kindness=str(rng.choice(KINDNESS)),
                )
            )
    return entries, practice, journal


# --- Benchmark volume ---------------------------------------------------------------------

COPY_COLUMNS = (
    "client_id",
    "occurred_at",
    "critic_text",
    "intensity",
    "situation",
    "trigger_id",
    "emotions",
    "emotions_other",
    "body_location",
    "pattern",
    "mindful_acknowledgement",
    "common_humanity",
    "self_kindness",
    "friend_response",
    "intensity_after",
    "reframed_at",
    "is_private",
    "created_at",
    "updated_at",
)


def _benchmark_clients(organisation, client_ids=None, days: int = 365):
    """Ids of the organisation's clients (or just `client_ids`) and, for each, how many of the
    last `days` days fall on or after its intake (at least 1)."""
    from clinic.models import Client

    rows = Client.objects.filter(organisation=organisation)
    if client_ids is not None:
        rows = rows.filter(pk__in=client_ids)
    rows = list(rows.order_by("pk").values_list("pk", "intake_date"))
    if not rows:
        raise CommandError(f"{organisation} has no clients to write benchmark rows for.")
    today = timezone.localdate()
    ids = [pk for pk, _ in rows]
    spans = np.asarray([max(1, min(days, (today - intake).days)) for _, intake in rows])
    return ids, spans


def seed_benchmark_entries(organisation, wanted: int, rng=None, client_ids=None) -> int:
    """Top the organisation's entries up to `wanted`, spread over its clients (or `client_ids`)
    over the last year, never before a client's intake. Returns the number written."""
    ids, spans = _benchmark_clients(organisation, client_ids)
    have = InnerCriticEntry.objects.filter(client_id__in=ids).count()
    missing = wanted - have
    if missing <= 0:
        return 0
    seed = rng.randrange(2**32) if rng is not None else 2026
    return bulk_write_entries(ids, missing, np.random.default_rng(seed), spans=spans)


def bulk_write_entries(client_ids, count: int, generator, days: int = 365, spans=None) -> int:
    """Write `count` entries spread over `client_ids` and the last `days` days; `spans` (one
    per client id) narrows each client's period to its last `spans[i]` days."""
    triggers = list(
        TriggerCategory.objects.filter(organisation__isnull=True).values_list("pk", flat=True)
    )
    now = timezone.now()
    end = now.timestamp()
    chunks = [min(CHUNK, count - done) for done in range(0, count, CHUNK)]
    if connection.vendor == "postgresql":
        # One COPY in one transaction; each chunk is sent as soon as it is generated, so the
        # server indexes one chunk while numpy and Python format the next.
        with _copy(InnerCriticEntry, COPY_COLUMNS) as copy:
            for size in chunks:
                columns = _entry_columns(client_ids, size, generator, triggers, end, days, spans)
                copy.write(_copy_text(columns, size, now))
    else:
        for size in chunks:
            columns = _entry_columns(client_ids, size, generator, triggers, end, days, spans)
            _bulk_create(columns, size, now)
    return count


@contextlib.contextmanager
def _copy(model, columns):
    """A PostgreSQL COPY ... FROM STDIN into `model`'s table, inside one transaction."""
    sql = f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN"
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.cursor.copy(sql) as copy,
    ):
        yield copy


def _entry_columns(client_ids, size, generator, triggers, end, days, spans=None):
    ids = np.asarray(client_ids, dtype=np.int64)
    which = generator.integers(0, len(ids), size)
    client = ids[which]
    # Daily rhythm: draw hours from the weights, days uniformly over the period (each client's
    # own part of it when `spans` is given).
    if spans is None:
        day = generator.integers(0, days, size)
    else:
        day = (generator.random(size) * np.asarray(spans)[which]).astype(np.int64)
    hour = generator.choice(24, size=size, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    minute = generator.integers(0, 60, size)
    seconds = end - (day * 86400 + ((23 - hour) * 3600) + minute * 60)
    progress = 1 - day / days
    intensity = np.clip(np.rint(generator.normal(7.5 - 3 * progress, 1.6)), 0, 10).astype(int)
    reframed = generator.random(size) < 0.2 + 0.5 * progress
    after = np.clip(intensity - generator.integers(1, 5, size), 0, 10)
    return {
        "client": client,
        "seconds": seconds,
        "intensity": intensity,
        "reframed": reframed,
        "after": after,
        "phrase": generator.integers(0, len(CRITIC_PHRASES), size),
        "trigger": np.asarray(triggers)[generator.integers(0, len(triggers), size)],
        "has_trigger": generator.random(size) < 0.6,
        "pattern": generator.integers(0, len(PATTERNS) + 1, size),
        "private": generator.random(size) < 0.05,
    }


def _copy_text(columns, size, now) -> str:
    """Rows in PostgreSQL's COPY text format (tab-separated, \\N for NULL)."""
    utc = dt.UTC
    stamp = now.isoformat()
    patterns = [*PATTERNS, ""]
    phrases = [p.replace("\\", "\\\\").replace("\t", " ") for p in CRITIC_PHRASES]
    kindness = KINDNESS[0]
    buffer = io.StringIO()
    write = buffer.write
    for i in range(size):
        occurred = dt.datetime.fromtimestamp(float(columns["seconds"][i]), utc).isoformat()
        reframed = bool(columns["reframed"][i])
        write(
            f"{columns['client'][i]}\t{occurred}\t{phrases[columns['phrase'][i]]}\t"
            f"{columns['intensity'][i]}\t\t"
            f"{columns['trigger'][i] if columns['has_trigger'][i] else chr(92) + 'N'}\t[]\t\t\t"
            f"{patterns[columns['pattern'][i]]}\t\t\t{kindness if reframed else ''}\t\t"
            f"{columns['after'][i] if reframed else chr(92) + 'N'}\t"
            f"{occurred if reframed else chr(92) + 'N'}\t"
            f"{'t' if columns['private'][i] else 'f'}\t{stamp}\t{stamp}\n"
        )
    return buffer.getvalue()


def _bulk_create(columns, size, now) -> None:
    patterns = [*PATTERNS, ""]
    rows = []
    for i in range(size):
        occurred = dt.datetime.fromtimestamp(float(columns["seconds"][i]), dt.UTC)
        reframed = bool(columns["reframed"][i])
        rows.append(
            InnerCriticEntry(
                client_id=int(columns["client"][i]),
                occurred_at=occurred,
                critic_text=CRITIC_PHRASES[columns["phrase"][i]],
                intensity=int(columns["intensity"][i]),
                trigger_id=int(columns["trigger"][i]) if columns["has_trigger"][i] else None,
                pattern=patterns[columns["pattern"][i]],
                self_kindness=KINDNESS[0] if reframed else "",
                intensity_after=int(columns["after"][i]) if reframed else None,
                reframed_at=occurred if reframed else None,
                is_private=bool(columns["private"][i]),
                created_at=now,
                updated_at=now,
            )
        )
    with transaction.atomic():
        InnerCriticEntry.objects.bulk_create(rows, batch_size=BATCH)


# --- Benchmark practice sessions -------------------------------------------------------------

PRACTICE_COLUMNS = (
    "client_id",
    "practised_on",
    "practice_type",
    "minutes",
    "distress_before",
    "distress_after",
    "note",
    "created_at",
)
# Most sessions are a short break or a few phrases; a few are long (a recorded meditation).
PRACTICE_MINUTES = np.array([2, 3, 5, 10, 15, 20, 30, 45, 60])
PRACTICE_MINUTE_WEIGHTS = np.array([4, 8, 22, 25, 16, 12, 8, 3, 2], dtype=float)
PRACTICE_TYPE_WEIGHTS = np.array([30, 20, 20, 10, 15, 5], dtype=float)


def seed_benchmark_practice(organisation, wanted: int, rng=None, client_ids=None) -> int:
    """Top the organisation's practice sessions up to `wanted`, spread over its clients (or
    `client_ids`) and each one's time since intake (at most a year). Returns the number written."""
    ids, spans = _benchmark_clients(organisation, client_ids)
    have = PracticeSession.objects.filter(client_id__in=ids).count()
    missing = wanted - have
    if missing <= 0:
        return 0
    seed = rng.randrange(2**32) if rng is not None else 2026
    return bulk_write_practice(ids, spans, missing, np.random.default_rng(seed))


def bulk_write_practice(client_ids, spans, count: int, generator) -> int:
    """Write `count` practice sessions for `client_ids`, client i's within its last `spans[i]`
    days (today included); COPY on PostgreSQL, bulk_create elsewhere."""
    now = timezone.now()
    today = timezone.localdate()
    chunks = [min(CHUNK, count - done) for done in range(0, count, CHUNK)]
    if connection.vendor == "postgresql":
        with _copy(PracticeSession, PRACTICE_COLUMNS) as copy:
            for size in chunks:
                rows = _practice_rows(client_ids, spans, size, generator, today, now)
                copy.write(_practice_copy_text(rows))
    else:
        for size in chunks:
            rows = _practice_rows(client_ids, spans, size, generator, today, now)
            with transaction.atomic():
                PracticeSession.objects.bulk_create(
                    (PracticeSession(**row) for row in rows), batch_size=BATCH
                )
    return count


def _practice_rows(client_ids, spans, size, generator, today, now) -> list[dict]:
    ids = np.asarray(client_ids, dtype=np.int64)
    which = generator.integers(0, len(ids), size)
    ago = (generator.random(size) * np.asarray(spans)[which]).astype(np.int64)
    kinds = generator.choice(
        len(PRACTICES), size=size, p=PRACTICE_TYPE_WEIGHTS / PRACTICE_TYPE_WEIGHTS.sum()
    )
    minutes = generator.choice(
        PRACTICE_MINUTES, size=size, p=PRACTICE_MINUTE_WEIGHTS / PRACTICE_MINUTE_WEIGHTS.sum()
    )
    rated = generator.random(size) < 0.7
    before = generator.integers(3, 10, size)
    after = np.clip(before - generator.integers(0, 5, size), 0, 10)
    rated_after = generator.random(size) < 0.9
    hour = generator.choice(24, size=size, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    rows = []
    for i in range(size):
        day = today - dt.timedelta(days=int(ago[i]))
        created = min(now, dt.datetime.combine(day, dt.time(int(hour[i])), tzinfo=dt.UTC))
        rows.append(
            {
                "client_id": int(ids[which[i]]),
                "practised_on": day,
                "practice_type": PRACTICES[kinds[i]],
                "minutes": int(minutes[i]),
                "distress_before": int(before[i]) if rated[i] else None,
                "distress_after": int(after[i]) if rated[i] and rated_after[i] else None,
                "note": "",
                "created_at": created,
            }
        )
    return rows


def _practice_copy_text(rows) -> str:
    """Rows in PostgreSQL's COPY text format (tab-separated, \\N for NULL)."""
    null = "\\N"
    return "".join(
        f"{r['client_id']}\t{r['practised_on'].isoformat()}\t{r['practice_type']}\t"
        f"{r['minutes']}\t{null if r['distress_before'] is None else r['distress_before']}\t"
        f"{null if r['distress_after'] is None else r['distress_after']}\t\t"
        f"{r['created_at'].isoformat()}\n"
        for r in rows
    )
