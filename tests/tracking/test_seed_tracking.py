"""seed_demo adds plausible tracking logs once; --entries and --practice fill the Benchmark
Clinic."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Avg

from clinic.models import Client
from tracking.models import InnerCriticEntry, JournalEntry, PracticeSession


@pytest.mark.django_db
def test_seed_demo_adds_months_of_logs_once():
    call_command("seed_demo", verbosity=0)
    entries = InnerCriticEntry.objects.count()
    assert entries > 5_000
    assert PracticeSession.objects.exists() and JournalEntry.objects.exists()
    assert InnerCriticEntry.objects.filter(is_private=True).exists()
    sam = Client.objects.get(user__username="sam")
    sams = InnerCriticEntry.objects.filter(client=sam).order_by("occurred_at")
    first, last = sams[:40], sams.reverse()[:40]
    early = InnerCriticEntry.objects.filter(pk__in=first).aggregate(m=Avg("intensity"))["m"]
    late = InnerCriticEntry.objects.filter(pk__in=last).aggregate(m=Avg("intensity"))["m"]
    assert late < early  # sam's critic softens as reframing practice grows

    call_command("seed_demo", verbosity=0)
    assert InnerCriticEntry.objects.count() == entries


@pytest.mark.django_db
def test_the_demo_shows_the_safety_pathway_once():
    """sam: two of the last three practices raised distress and the latest asked for contact;
    every demo clinic has crisis contacts and readable demo wording; blair is a safety contact."""
    from assessments.models import ItemWording
    from clinic.models import CrisisContact, Organisation, SafetySignal, User
    from tracking.models import ClientActivity

    call_command("seed_demo", verbosity=0)
    sam = Client.objects.get(user__username="sam")
    assert ClientActivity.objects.get(client=sam).distress_rises == 2
    [signal] = SafetySignal.objects.filter(client=sam)
    assert (signal.kind, signal.source, signal.asked_for_contact) == ("safety", "practice", True)
    assert SafetySignal.objects.filter(kind="risk_item").count() == 1
    for clinic in Organisation.objects.all():
        assert CrisisContact.objects.filter(organisation=clinic).exists()
        sources = set(
            ItemWording.objects.filter(organisation=clinic).values_list("source", flat=True)
        )
        assert sources == {"demo wording, not the published scale"}
        assert ItemWording.objects.filter(organisation=clinic).count() == 5
    assert User.objects.get(username="blair").is_safety_contact
    call_command("seed_demo", verbosity=0)
    assert SafetySignal.objects.count() == 2 and CrisisContact.objects.count() == 3


@pytest.mark.django_db
def test_demo_logs_fall_between_intake_and_discharge():
    """Seen in a walkthrough: sam's log began two months before intake."""
    from django.db.models import F, Q
    from django.db.models.functions import TruncDate

    call_command("seed_demo", verbosity=0)
    entries = InnerCriticEntry.objects.annotate(day=TruncDate("occurred_at"))
    assert not entries.filter(
        Q(day__lt=F("client__intake_date") - dt.timedelta(days=1))
        | Q(day__gt=F("client__discharge_date") + dt.timedelta(days=1))
    ).exists()
    assert not PracticeSession.objects.filter(
        Q(practised_on__lt=F("client__intake_date"))
        | Q(practised_on__gt=F("client__discharge_date"))
    ).exists()


@pytest.mark.django_db
def test_entries_flag_fills_the_benchmark_clinic_and_is_idempotent():
    call_command("seed_demo", clients=20, entries=3_000, verbosity=0)
    bench = InnerCriticEntry.objects.filter(client__organisation__slug__contains="bench")
    assert bench.count() == 3_000
    call_command("seed_demo", clients=20, entries=3_000, verbosity=0)
    assert bench.count() == 3_000


@pytest.mark.django_db
def test_entries_flag_without_the_benchmark_clinic_explains_itself():
    with pytest.raises(CommandError, match="--clients"):
        call_command("seed_demo", entries=100, verbosity=0)


def _bench(model):
    return model.objects.filter(client__organisation__slug="bench")


@pytest.mark.django_db
def test_benchmark_entries_never_come_before_intake():
    from django.db.models import F
    from django.db.models.functions import TruncDate

    call_command("seed_demo", clients=30, entries=3_000, verbosity=0)
    entries = _bench(InnerCriticEntry).annotate(day=TruncDate("occurred_at"))
    assert entries.count() == 3_000
    assert not entries.filter(day__lt=F("client__intake_date") - dt.timedelta(days=1)).exists()


@pytest.mark.django_db
def test_practice_flag_fills_the_benchmark_clinic_and_is_idempotent():
    from django.db.models import F, Max, Min
    from django.utils import timezone

    call_command("seed_demo", clients=30, practice=2_000, verbosity=0)
    practice = _bench(PracticeSession)
    assert practice.count() == 2_000
    assert practice.values("client").distinct().count() == 30
    assert not practice.filter(practised_on__lt=F("client__intake_date")).exists()
    assert practice.aggregate(last=Max("practised_on"))["last"] <= timezone.localdate()
    low_high = practice.aggregate(low=Min("minutes"), high=Max("minutes"))
    assert low_high["low"] >= 1 and low_high["high"] <= 600
    typical = practice.filter(minutes__gte=5, minutes__lte=30).count()
    assert typical > 0.7 * 2_000
    rated = practice.filter(distress_before__isnull=False)
    assert 0.5 * 2_000 < rated.count() < 0.9 * 2_000
    assert not rated.filter(distress_after__gt=F("distress_before")).exists()
    assert not practice.filter(distress_before__isnull=True, distress_after__isnull=False).exists()
    assert not practice.filter(created_at__gt=timezone.now()).exists()

    call_command("seed_demo", clients=30, practice=2_000, verbosity=0)
    assert practice.count() == 2_000
    call_command("seed_demo", clients=30, practice=2_500, verbosity=0)
    assert practice.count() == 2_500  # topped up, not rewritten


@pytest.mark.django_db
def test_practice_flag_without_the_benchmark_clinic_explains_itself():
    with pytest.raises(CommandError, match=r"--practice needs the Benchmark Clinic.*--clients"):
        call_command("seed_demo", practice=100, verbosity=0)
