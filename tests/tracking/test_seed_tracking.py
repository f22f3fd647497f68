"""seed_demo adds plausible tracking logs once, and --entries fills the Benchmark Clinic."""

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
