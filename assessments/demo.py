"""Demo administrations for `manage.py seed_demo`.

Each hand-made demo client gets 1 to 6 SCS administrations over several months with a plausible
trajectory (most improve, some stay flat, a few deteriorate); every fourth client also has FSCRS
forms, every second one a PHQ-9 and a GAD-7 on the same days (symptoms falling as
self-compassion grows), and one client's latest PHQ-9 answers the risk item above 0, which
raises its risk flag as any other would. `--administrations N` sets how many SCS administrations
the Benchmark Clinic gets (default: 3 per benchmark client). Idempotent: clients that already
have administrations are skipped. Rows are bulk-inserted; scores come from the same pure scorer
as everything else.

The demo clinics get the demo wording of assessments/demo_wording/ ("demo wording, not the
published scale"), so that the demo portal's questionnaires can be read; a clinic's own loaded
wording is never replaced.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from assessments import projections
from assessments.instruments import get_instrument
from assessments.models import Administration, ItemWording, Mode, Score, Status
from assessments.scoring import score_response
from assessments.services import risk_check, score_fields, wording_load
from clinic.models import Client

BATCH = 2000
SAM_LAST_SCS_AGO = dt.timedelta(weeks=5)
TRAJECTORIES = (("improve", 0.65), ("flat", 0.25), ("deteriorate", 0.10))
DEMO_WORDING_DIR = Path(__file__).resolve().parent / "demo_wording"
DEMO_WORDING_SOURCE = "demo wording, not the published scale"
RISK_DEMO_CLIENT = 2  # index of the demo client whose latest PHQ-9 answers item 9 above 0


def _trajectory(rng) -> str:
    roll = rng.random()
    for name, share in TRAJECTORIES:
        if roll < share:
            return name
        roll -= share
    return "flat"


def _clamp(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


def _scs_answers(instrument, rng, level: float) -> dict[int, int]:
    """Answers whose self-compassion sits near `level` (1..5); negative items mirror it."""
    answers = {}
    for item in instrument.items:
        centre = 6 - level if item.reverse else level
        answers[item.number] = _clamp(rng.gauss(centre, 0.75), 1, 5)
    return answers


def _fscrs_answers(instrument, rng, level: float) -> dict[int, int]:
    """`level` 1..5 of self-compassion: higher means more reassurance, less self-attack."""
    reassured = set(instrument.subscale("reassured_self").items)
    answers = {}
    for item in instrument.items:
        centre = (level - 1) if item.number in reassured else (5 - level)
        answers[item.number] = _clamp(rng.gauss(centre, 0.8), 0, 4)
    return answers


def _symptom_answers(instrument, rng, level: float, risk: bool = False) -> dict[int, int]:
    """PHQ-9 or GAD-7 answers (0..3) for self-compassion `level` (1..5): fewer symptoms as it
    grows. The PHQ-9 risk item stays 0 unless `risk`."""
    centre = max(0.0, (4.6 - level) * 0.9)
    answers = {item.number: _clamp(rng.gauss(centre, 0.7), 0, 3) for item in instrument.items}
    if instrument.risk_item is not None:
        answers[instrument.risk_item.item] = 1 if risk else 0
    return answers


def load_demo_wording(organisations) -> int:
    """Load the demo wording of every shipped instrument for these clinics, where a clinic has
    none loaded yet. Returns how many were loaded."""
    loaded = 0
    for organisation in organisations:
        have = set(
            ItemWording.objects.filter(organisation=organisation).values_list(
                "instrument_code", flat=True
            )
        )
        for path in sorted(DEMO_WORDING_DIR.glob("*.json")):
            instrument = get_instrument(path.stem)
            if instrument.code in have:
                continue
            wording = json.loads(path.read_text(encoding="utf-8"))
            wording_load(
                organisation=organisation,
                instrument=instrument,
                wording={int(number): text for number, text in wording.items()},
                source=DEMO_WORDING_SOURCE,
            )
            loaded += 1
    return loaded


def _programme_plan(client: Client, rng, today: dt.date, taken: set) -> list[tuple[dt.date, float]]:
    """An SCS in the week before each of the client's group programmes starts and in the ten
    days after it ends (when those days have come, follow intake and precede any discharge), so
    the demo's cohort pages have before-and-after pairs. Most members improve a little; some do
    not."""
    plan = []
    for programme in client.programmes.all():
        if programme.starts_on is None or programme.ends_on is None:
            continue
        before = programme.starts_on - dt.timedelta(days=rng.randint(0, 6))
        after = programme.ends_on + dt.timedelta(days=rng.randint(1, 10))
        level = rng.uniform(1.9, 3.1)
        change = rng.choice([-0.2, 0.1, 0.3, 0.4, 0.5, 0.6, 0.8])
        last = min(today, client.discharge_date or today)  # never after a discharge
        for day, value in ((before, level), (after, level + change)):
            if client.intake_date <= day <= last and day not in taken:
                plan.append((day, min(4.8, max(1.2, value))))
    return plan


BENCH_MIN_GAP = 7  # days between a benchmark client's questionnaires, at the least


def _bench_counts(clients: list[Client], wanted: int, today: dt.date) -> list[int]:
    """How many administrations each benchmark client gets so that `wanted` are written in
    all: shared in proportion to the weekly slots each has between intake and today (a client
    who started last month cannot take 20), never more than its slots."""
    slots = [
        max(1, (min(today, c.discharge_date or today) - c.intake_date).days // BENCH_MIN_GAP + 1)
        for c in clients
    ]
    total = sum(slots)
    counts = [min(slot, -(-wanted * slot // total)) for slot in slots] if total else []
    excess = sum(counts) - wanted
    for index in sorted(range(len(counts)), key=lambda i: -counts[i]):
        if excess <= 0:
            break
        if counts[index] > 1:
            counts[index] -= 1
            excess -= 1
    return counts


def _plan(
    client: Client,
    rng,
    count: int,
    today: dt.date,
    kind: str | None = None,
    min_gap: int = 14,
) -> list[tuple[dt.date, float]]:
    """Dates and self-compassion levels for `count` administrations of one client."""
    kind = kind or _trajectory(rng)
    start_level = rng.uniform(1.8, 3.2)
    step = {
        "improve": rng.uniform(0.2, 0.4),
        "flat": 0.0,
        "deteriorate": -rng.uniform(0.1, 0.25),
    }[kind]
    # From intake (never before it) to discharge or today, spaced to fit `count` forms.
    day = client.intake_date
    end = min(today, client.discharge_date or today)
    gap = max(min_gap, min(45, (end - day).days // max(1, count - 1)))
    plan = []
    for n in range(count):
        if day > end:
            break
        plan.append((day, min(4.8, max(1.2, start_level + step * n + rng.gauss(0, 0.1)))))
        day += dt.timedelta(days=rng.randint(gap - gap // 4, gap))
    return plan or [(min(client.intake_date, end), start_level)]


class AssessmentSeeder:
    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--administrations",
            type=int,
            default=None,
            help="SCS administrations for the Benchmark Clinic (default: 3 per benchmark client).",
        )

    def seed(self, context) -> None:
        started = time.perf_counter()
        scs = get_instrument("scs")
        fscrs = get_instrument("fscrs")
        phq, gad = get_instrument("phq-9"), get_instrument("gad-7")
        rng = context.rng
        today = timezone.localdate()
        done = set(
            Administration.objects.filter(client__in=[c.pk for c in context.clients])
            .values_list("client_id", flat=True)
            .distinct()
        )
        planned: list[tuple[Administration, dict]] = []
        for index, client in enumerate(context.clients):
            if client.pk in done:
                continue
            count = 4 if index == 0 else rng.randint(1, 6)
            kind = "improve" if index == 0 else None  # sam's record shows a clear trajectory
            # Sam's last SCS is five weeks old, so the next (every four weeks by default) is
            # due: `make run` emails Sam a scheduled questionnaire within a minute.
            last_day = today - SAM_LAST_SCS_AGO if index == 0 else today
            plan = _plan(client, rng, count, last_day, kind)
            for position, (on, level) in enumerate(plan):
                planned.append(self._row(client, scs, _scs_answers(scs, rng, level), on))
                if index % 4 == 0:
                    planned.append(self._row(client, fscrs, _fscrs_answers(fscrs, rng, level), on))
                if index % 2 == 0:
                    risk = index == RISK_DEMO_CLIENT and position == len(plan) - 1
                    planned.append(
                        self._row(client, phq, _symptom_answers(phq, rng, level, risk), on)
                    )
                    planned.append(self._row(client, gad, _symptom_answers(gad, rng, level), on))
            taken = {on for on, _ in plan}
            for on, level in _programme_plan(client, rng, last_day, taken=taken):
                planned.append(self._row(client, scs, _scs_answers(scs, rng, level), on))
        created = self._insert(planned)
        wording = load_demo_wording(context.organisations.values())

        bench = context.bench_organisation
        bench_created = 0
        if bench is not None and not Administration.objects.filter(organisation=bench).exists():
            clients = list(Client.objects.filter(organisation=bench).order_by("pk"))
            wanted = context.options.get("administrations")
            wanted = 3 * len(clients) if wanted is None else wanted
            rows: list[tuple[Administration, dict]] = []
            for client, count in zip(clients, _bench_counts(clients, wanted, today), strict=True):
                for on, level in _plan(client, rng, count, today, min_gap=BENCH_MIN_GAP):
                    rows.append(self._row(client, scs, _scs_answers(scs, rng, level), on))
                if len(rows) >= BATCH:
                    bench_created += self._insert(rows)
                    rows = []
            bench_created += self._insert(rows)
        context.created["administrations"] = created + bench_created
        context.write(
            f"assessments: {created} demo administrations, demo wording for {wording} "
            "questionnaires"
            + (f", {bench_created} in {bench}" if bench is not None else "")
            + f" ({time.perf_counter() - started:.1f}s)"
        )

    @staticmethod
    def _row(client, instrument, answers, on) -> tuple[Administration, dict]:
        administration = Administration(
            organisation_id=client.organisation_id,
            client=client,
            instrument_code=instrument.code,
            instrument_version=instrument.version,
            administered_on=on,
            mode=Mode.PAPER if on.toordinal() % 3 else Mode.CLIENT_PORTAL,
            status=Status.FINAL,
            answers={str(n): v for n, v in answers.items()},
            wording_used="demo data",
            finalised_at=timezone.now(),
        )
        return administration, score_fields(score_response(instrument, answers))

    @staticmethod
    @transaction.atomic
    def _insert(rows: list[tuple[Administration, dict]]) -> int:
        if not rows:
            return 0
        administrations = Administration.objects.bulk_create([a for a, _ in rows], batch_size=BATCH)
        Score.objects.bulk_create(
            [
                Score(administration=a, **fields)
                for a, (_, fields) in zip(administrations, rows, strict=True)
            ],
            batch_size=BATCH,
        )
        projections.scores_refresh({a.client_id for a in administrations})
        for administration in administrations:
            instrument = get_instrument(administration.instrument_code)
            answers = {int(n): v for n, v in administration.answers.items()}
            if instrument.risk_alert(answers):
                risk_check(administration, instrument, answers)  # the flag, as any form raises
        return len(administrations)
