"""The demo seeder: 1 to 6 administrations per demo client, plausible trajectories, idempotent,
and an exact number for the Benchmark Clinic."""

import datetime as dt
import io
import random

import pytest

from assessments.demo import AssessmentSeeder
from assessments.models import Administration, Score
from clinic.demo import DemoContext
from tests.factories import make_client


def context(world, clients, bench=None, **options):
    return DemoContext(
        organisations={"riverside": world.clinic},
        staff={},
        clients=clients,
        bench_organisation=bench,
        options=options,
        rng=random.Random(7),
        write=lambda line: None,
    )


def test_each_demo_client_gets_one_to_six_scored_scs_forms_and_a_rerun_adds_nothing(world):
    clients = [world.client_record] + [
        make_client(world.clinic, world.clinician, code=f"D-{n:02d}") for n in range(20)
    ]
    AssessmentSeeder().seed(context(world, clients))
    counts = [
        Administration.objects.filter(client=c, instrument_code="scs").count() for c in clients
    ]
    assert all(1 <= n <= 6 for n in counts) and counts[0] == 4
    assert Score.objects.count() == Administration.objects.count()
    totals = [
        list(
            Administration.objects.filter(client=c, instrument_code="scs")
            .order_by("administered_on")
            .values_list("score__total", flat=True)
        )
        for c in clients
    ]
    changes = [t[-1] - t[0] for t in totals if len(t) > 1]
    assert sum(change > 0 for change in changes) > len(changes) / 2  # most improve

    before = Administration.objects.count()
    AssessmentSeeder().seed(context(world, clients))
    assert Administration.objects.count() == before


def test_the_benchmark_clinic_gets_exactly_the_requested_number(world):
    for n in range(7):
        make_client(world.other_clinic, world.other_clinic_clinician, code=f"BX-{n}")
    AssessmentSeeder().seed(context(world, [], bench=world.other_clinic, administrations=25))
    assert Administration.objects.filter(organisation=world.other_clinic).count() == 25


def test_clients_who_started_recently_leave_their_share_to_the_others(world):
    from django.utils import timezone

    today = timezone.localdate()
    for n in range(2):
        make_client(
            world.other_clinic, world.other_clinic_clinician, code=f"NEW-{n}", intake_date=today
        )
        make_client(
            world.other_clinic,
            world.other_clinic_clinician,
            code=f"OLD-{n}",
            intake_date=today - dt.timedelta(days=200),
        )
    AssessmentSeeder().seed(context(world, [], bench=world.other_clinic, administrations=40))
    written = Administration.objects.filter(organisation=world.other_clinic)
    assert written.count() == 40
    assert written.filter(client__code__startswith="NEW").count() == 2  # one slot each
    for administration in written:
        assert administration.administered_on >= administration.client.intake_date


@pytest.mark.django_db
def test_demo_administrations_fall_between_intake_and_discharge_or_today():
    from django.core.management import call_command
    from django.db.models import F, Q

    from assessments.models import Administration

    call_command("seed_demo", stdout=io.StringIO())
    outside = Administration.objects.filter(
        Q(administered_on__lt=F("client__intake_date"))
        | Q(administered_on__gt=F("client__discharge_date"))
    )
    assert not outside.exists()


def test_the_demo_client_is_due_so_the_first_run_emails_them_a_working_link(
    world, django_capture_on_commit_callbacks
):
    from urllib.parse import urlsplit

    from django.core import mail
    from django.test import Client as HttpClient

    from assessments.services import invitations_send_due

    sam = world.client_record
    sam.email = "sam@example.org"
    sam.save()
    AssessmentSeeder().seed(context(world, [sam]))
    with django_capture_on_commit_callbacks(execute=True):
        assert invitations_send_due().invited == 1
    (message,) = [m for m in mail.outbox if m.to == ["sam@example.org"]]
    (url,) = [word for word in message.body.split() if "/t/a/" in word]
    assert HttpClient().get(urlsplit(url).path).status_code == 200


def test_demo_wording_is_loaded_for_every_instrument_but_never_over_a_clinics_own(world):
    from assessments.demo import DEMO_WORDING_SOURCE, load_demo_wording
    from assessments.instruments import all_instruments, get_instrument
    from assessments.models import ItemWording
    from assessments.services import wording_load

    scs = get_instrument("scs")
    own = {n: f"Our licensed item {n}" for n in range(1, scs.item_count + 1)}
    wording_load(organisation=world.clinic, instrument=scs, wording=own, source="licensed.csv")
    assert load_demo_wording([world.clinic]) == len(all_instruments()) - 1
    assert ItemWording.objects.get(instrument_code="scs").source == "licensed.csv"
    demo = ItemWording.objects.get(organisation=world.clinic, instrument_code="phq-9")
    assert demo.source == DEMO_WORDING_SOURCE and len(demo.wording) == 9
    assert load_demo_wording([world.clinic]) == 0
