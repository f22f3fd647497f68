"""Create a realistic synthetic demo: two clinics, their staff, about 75 clients.

Idempotent: running it again adds nothing that is already there. Refuses to run against a
production configuration unless --force is given. Size flags (--clients, --clinicians) add a
third, large "Benchmark Clinic" (slug `bench`) with bulk inserts for benchmarks: clinicians
`bench-clinician-0001`... sharing the clients evenly as primary clinician, a clinic admin
`bench-admin`, and one 8-week group programme ("Bench course 001"...) per 250 clients, started
over the past year, each with 25 members who were clients by its start where possible.
"""

from __future__ import annotations

import datetime as dt
import random
import time

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from clinic.demo import DEMO_PASSWORD, DemoContext, demo_seeders
from clinic.models import (
    CareTeamMember,
    Client,
    ClientStatus,
    CrisisContact,
    Organisation,
    Programme,
    Role,
    Tag,
    User,
)

CLINICS = {
    "riverside": ("Riverside Counseling", "Europe/London"),
    "harbor": ("Harbor Psychology", "America/New_York"),
}
STAFF = [
    # username, first, last, clinic, role
    ("casey", "Casey", "Morgan", "riverside", Role.CLINIC_ADMIN),
    ("alex", "Alex", "Okafor", "riverside", Role.CLINICIAN),
    ("blair", "Blair", "Lindqvist", "riverside", Role.CLINICIAN),
    ("drew", "Drew", "Santos", "harbor", Role.CLINICIAN),
    ("jules", "Jules", "Rivera", "harbor", Role.CLINIC_ADMIN),
]
# Real, public crisis lines for each demo clinic's country: a demo must never show a made-up
# number where someone may look for help.
CRISIS_CONTACTS = {
    "riverside": [
        ("Samaritans", "116 123", "", "24 hours, every day", "Free from any phone in the UK."),
        ("Shout", "", "Text SHOUT to 85258", "24 hours, every day", "Free text support."),
    ],
    "harbor": [
        ("988 Suicide & Crisis Lifeline", "988", "Text 988", "24 hours, every day", ""),
    ],
    "bench": [("Samaritans", "116 123", "", "24 hours, every day", "")],
}
SAFETY_CONTACTS = ("blair",)  # Riverside's safety contact besides each primary clinician
PROGRAMMES = {
    "riverside": [
        ("MSC 8-week course, spring 2026", dt.date(2026, 3, 2), dt.date(2026, 4, 24)),
        ("MSC 8-week course, autumn 2026", dt.date(2026, 9, 7), dt.date(2026, 10, 30)),
    ],
    "harbor": [("Compassion-focused group 2026", dt.date(2026, 5, 4), dt.date(2026, 6, 26))],
}
FIRST = [
    "Jordan",
    "Riley",
    "Avery",
    "Quinn",
    "Rowan",
    "Sasha",
    "Robin",
    "Jamie",
    "Kai",
    "Noor",
    "Mina",
    "Theo",
    "Ines",
    "Priya",
    "Tomas",
    "Lena",
    "Omar",
    "Hana",
    "Felix",
    "Yara",
    "Ivo",
    "Maya",
    "Luca",
    "Zara",
    "Nico",
    "Ada",
    "Ravi",
    "Elin",
    "Milo",
    "Suki",
]
LAST = "ABCDEFGHJKLMNOPRSTVWY"
# Harbor has more than 30 clients, each with an SCS baseline, so that its own baseline SD gives
# reliable-change verdicts (no reference SD is invented for the demo).
CLIENT_PLAN = [("riverside", "RC", 40), ("harbor", "HP", 36)]
SPRING_MEMBERS = 10  # active Riverside clients in the spring course, with intake before it
BENCH_CLIENTS_PER_PROGRAMME = 250
BENCH_PROGRAMME_MEMBERS = 25
PRONOUNS = ["she/her", "he/him", "they/them", "", ""]


class Command(BaseCommand):
    help = "Create (or complete) the synthetic demo data set. Safe to run more than once."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Run even with SELFKIND_ENV=production."
        )
        parser.add_argument(
            "--clients",
            type=int,
            default=0,
            help="Also fill a 'Benchmark Clinic' with this many clients (bulk inserts).",
        )
        parser.add_argument(
            "--clinicians",
            type=int,
            default=20,
            help="Clinicians of the Benchmark Clinic (with --clients).",
        )
        parser.add_argument("--seed", type=int, default=2026, help="Random seed.")
        for seeder in demo_seeders():
            seeder.add_arguments(parser)

    def handle(self, *args, **options):
        if settings.PRODUCTION and not options["force"]:
            raise CommandError(
                "Refusing to seed demo data into a production configuration "
                "(SELFKIND_ENV=production). Use --force if you really mean it."
            )
        started = time.perf_counter()
        rng = random.Random(options["seed"])
        password = make_password(DEMO_PASSWORD)
        with transaction.atomic():
            # Demo clinics do not require two-factor sign-in of staff (new clinics do).
            organisations = {
                slug: Organisation.objects.update_or_create(
                    slug=slug,
                    defaults={"two_factor_required": False},
                    create_defaults={"name": name, "time_zone": tz, "two_factor_required": False},
                )[0]
                for slug, (name, tz) in CLINICS.items()
            }
            staff = {
                username: self._user(username, first, last, organisations[org], role, password)
                for username, first, last, org, role in STAFF
            }
            programmes = {
                slug: [
                    Programme.objects.get_or_create(
                        organisation=organisations[slug],
                        name=name,
                        defaults={"starts_on": start, "ends_on": end},
                    )[0]
                    for name, start, end in items
                ]
                for slug, items in PROGRAMMES.items()
            }
            clients = self._demo_clients(organisations, staff, programmes, rng, password)
            self._safety(organisations, staff)
        bench = None
        if options["clients"]:
            bench = self._bench_clinic(options["clients"], options["clinicians"], rng, password)
            self._safety({"bench": bench}, {})
        context = DemoContext(
            organisations=organisations,
            staff=staff,
            clients=clients,
            bench_organisation=bench,
            options=options,
            rng=rng,
            write=self.stdout.write,
        )
        for seeder in demo_seeders():
            seeder.seed(context)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready in {time.perf_counter() - started:.1f}s: "
                f"{Client.objects.filter(organisation__in=organisations.values()).count()} demo "
                f"clients in {len(organisations)} clinics"
                + (
                    f", {Client.objects.filter(organisation=bench).count()} in {bench}"
                    if bench
                    else ""
                )
            )
        )
        self.stdout.write(
            f"Logins (password {DEMO_PASSWORD}): casey (clinic admin, Riverside), "
            "alex and blair (clinicians, Riverside), jules (clinic admin, Harbor), "
            "drew (clinician, Harbor), sam (client portal, a client of alex)"
            + (
                "; Benchmark Clinic: bench-admin (clinic admin), bench-clinician-0001... "
                "(clinicians)"
                if bench
                else ""
            )
        )

    def _user(self, username, first, last, organisation, role, password) -> User:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "organisation": organisation,
                "role": role,
                "email": f"{username}@example.org",
                "password": password,
            },
        )
        if not created and not user.has_usable_password():
            user.password = password
            user.save(update_fields=["password"])
        return user

    def _safety(self, organisations, staff) -> None:
        """Each demo clinic's crisis contacts and safety contacts (once)."""
        for slug, organisation in organisations.items():
            if CrisisContact.objects.filter(organisation=organisation).exists():
                continue
            CrisisContact.objects.bulk_create(
                CrisisContact(
                    organisation=organisation,
                    name=name,
                    phone=phone,
                    text_line=text_line,
                    hours=hours,
                    note=note,
                    position=position,
                )
                for position, (name, phone, text_line, hours, note) in enumerate(
                    CRISIS_CONTACTS.get(slug, []), start=1
                )
            )
        for username in SAFETY_CONTACTS:
            if username in staff and not staff[username].is_safety_contact:
                staff[username].is_safety_contact = True
                staff[username].save(update_fields=["is_safety_contact"])

    def _demo_clients(self, organisations, staff, programmes, rng, password) -> list[Client]:
        builtin = list(Tag.objects.filter(organisation__isnull=True))
        today = timezone.localdate()
        clients: list[Client] = []
        for slug, prefix, count in CLIENT_PLAN:
            org = organisations[slug]
            clinicians = [u for u in staff.values() if u.organisation_id == org.pk]
            treating = [u for u in clinicians if u.role == Role.CLINICIAN]
            for number in range(1, count + 1):
                code = f"{prefix}-{number:03d}"
                primary = treating[(number - 1) % len(treating)]
                if slug == "riverside" and number == 1:
                    primary = staff["alex"]
                intake = today - dt.timedelta(days=rng.randint(30, 420))
                if number == 1:
                    intake = today - dt.timedelta(days=170)  # sam: months of history to show
                status = rng.choices(
                    [ClientStatus.ACTIVE, ClientStatus.ON_HOLD, ClientStatus.DISCHARGED],
                    weights=[75, 10, 15],
                )[0]
                if number == 1:
                    status = ClientStatus.ACTIVE
                first = FIRST[(number * 7 + len(prefix)) % len(FIRST)]
                client, created = Client.objects.get_or_create(
                    organisation=org,
                    code=code,
                    defaults={
                        "display_name": f"{first} {rng.choice(LAST)}.",
                        "pronouns": rng.choice(PRONOUNS),
                        "date_of_birth": dt.date(rng.randint(1960, 2004), rng.randint(1, 12), 15),
                        "status": status,
                        "intake_date": intake,
                        "discharge_date": (
                            min(today, intake + dt.timedelta(days=rng.randint(60, 200)))
                            if status == ClientStatus.DISCHARGED
                            else None
                        ),
                        "primary_clinician": primary,
                        "notes": "Synthetic demo client.",
                    },
                )
                if created:
                    client.tags.set(rng.sample(builtin, rng.randint(1, 3)))
                    if rng.random() < 0.35:
                        client.programmes.add(rng.choice(programmes[slug]))
                    others = [u for u in treating if u != primary]
                    if others and rng.random() < 0.2:
                        CareTeamMember.objects.create(client=client, clinician=rng.choice(others))
                clients.append(client)
        self._fill_spring_course(programmes["riverside"][0], clients, rng)
        sam_record = clients[0]
        if sam_record.user_id is None:
            sam = self._user("sam", "Sam", "", organisations["riverside"], Role.CLIENT, password)
            Client.objects.filter(pk=sam_record.pk).update(
                user=sam, display_name="Sam R.", email=sam.email
            )
            sam_record.refresh_from_db()
        return clients

    def _fill_spring_course(self, spring: Programme, clients: list[Client], rng) -> None:
        """The spring course gets SPRING_MEMBERS active clients of its clinic who are in no
        other programme, their intake moved to before the course where it was later, so that its
        cohort page has members with scores before and after (the seeders add them)."""
        have = spring.clients.count()
        if have >= SPRING_MEMBERS or spring.starts_on is None:
            return
        free = [
            c
            for c in clients[1:]  # not sam: the portal client keeps a recent intake
            if c.organisation_id == spring.organisation_id
            and c.status == ClientStatus.ACTIVE
            and not c.programmes.exists()
        ]
        free.sort(key=lambda c: (c.intake_date, c.code))
        for client in free[: SPRING_MEMBERS - have]:
            latest = spring.starts_on - dt.timedelta(days=14)
            if client.intake_date > latest:
                client.intake_date = latest - dt.timedelta(days=rng.randint(0, 60))
                client.save(update_fields=["intake_date"])
            spring.clients.add(client)

    def _bench_clinic(self, total: int, clinician_count: int, rng, password) -> Organisation:
        org, _ = Organisation.objects.get_or_create(
            slug="bench",
            defaults={
                "name": "Benchmark Clinic",
                "time_zone": "Europe/London",
                "two_factor_required": False,
            },
        )
        existing = set(User.objects.filter(organisation=org).values_list("username", flat=True))
        User.objects.bulk_create(
            User(
                username=f"bench-clinician-{n:04d}",
                first_name="Bench",
                last_name=f"Clinician {n:04d}",
                organisation=org,
                role=Role.CLINICIAN,
                password=password,
            )
            for n in range(1, clinician_count + 1)
            if f"bench-clinician-{n:04d}" not in existing
        )
        if "bench-admin" not in existing:
            User.objects.create(
                username="bench-admin",
                first_name="Bench",
                last_name="Admin",
                organisation=org,
                role=Role.CLINIC_ADMIN,
                password=password,
            )
        clinicians = list(
            User.objects.filter(organisation=org, role=Role.CLINICIAN).order_by("username")
        )
        have = Client.objects.filter(organisation=org).count()
        today = timezone.localdate()
        now = timezone.now()
        batch: list[Client] = []
        for n in range(have + 1, total + 1):
            batch.append(
                Client(
                    organisation=org,
                    code=f"BC-{n:06d}",
                    display_name=f"{FIRST[n % len(FIRST)]} {LAST[n % len(LAST)]}.",
                    status=ClientStatus.ACTIVE if n % 10 else ClientStatus.ON_HOLD,
                    intake_date=today - dt.timedelta(days=30 + n % 400),
                    primary_clinician=clinicians[n % len(clinicians)],
                    created_at=now,
                    updated_at=now,
                )
            )
            if len(batch) == 5000:
                Client.objects.bulk_create(batch)
                batch = []
        Client.objects.bulk_create(batch)
        programmes = self._bench_programmes(org, total, rng)
        self.stdout.write(
            f"Benchmark Clinic: {Client.objects.filter(organisation=org).count()} clients, "
            f"{len(clinicians)} clinicians, {programmes} programmes; clinic admin bench-admin"
        )
        return org

    def _bench_programmes(self, org: Organisation, total: int, rng) -> int:
        """One 8-week programme per 250 clients (at least one), starting on Mondays spread over
        the past year, each with 25 members: clients whose intake was on or before its start,
        no client in two programmes, topped up with later intakes when too few qualify.
        Programmes that already have members are left alone."""
        count = max(1, round(total / BENCH_CLIENTS_PER_PROGRAMME))
        today = timezone.localdate()
        existing = {p.name: p for p in Programme.objects.filter(organisation=org)}
        new = []
        for k in range(count):
            name = f"Bench course {k + 1:03d}"
            if name in existing:
                continue
            start = today - dt.timedelta(days=365 - k * 365 // count)
            start -= dt.timedelta(days=start.weekday())
            new.append(
                Programme(
                    organisation=org,
                    name=name,
                    starts_on=start,
                    ends_on=start + dt.timedelta(weeks=8, days=-3),  # Friday of week 8
                )
            )
        Programme.objects.bulk_create(new)
        programmes = list(
            Programme.objects.filter(organisation=org, name__startswith="Bench course ").order_by(
                "name"
            )
        )
        through = Client.programmes.through
        used = set(
            through.objects.filter(programme__in=programmes).values_list("client_id", flat=True)
        )
        filled = set(
            through.objects.filter(programme__in=programmes).values_list("programme_id", flat=True)
        )
        clients = list(
            Client.objects.filter(organisation=org).order_by("pk").values_list("pk", "intake_date")
        )
        rows = []
        for programme in programmes:
            if programme.pk in filled:
                continue
            free = [(pk, intake) for pk, intake in clients if pk not in used]
            eligible = [pk for pk, intake in free if intake <= programme.starts_on]
            members = rng.sample(eligible, min(BENCH_PROGRAMME_MEMBERS, len(eligible)))
            if len(members) < BENCH_PROGRAMME_MEMBERS:
                later = sorted((intake, pk) for pk, intake in free if pk not in members)
                members += [pk for _, pk in later[: BENCH_PROGRAMME_MEMBERS - len(members)]]
            used.update(members)
            rows += [through(client_id=pk, programme_id=programme.pk) for pk in members]
        through.objects.bulk_create(rows, batch_size=5000)
        return len(programmes)
