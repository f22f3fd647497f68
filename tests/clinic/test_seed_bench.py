"""seed_demo's Benchmark Clinic: a clinic admin, clinicians sharing the clients evenly, and
group programmes with members, all idempotent."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter

import pytest
from django.core.management import call_command
from django.utils import timezone

from assessments.models import Administration, Score
from clinic.models import Client, Programme, Role, User


def _seed(**sizes):
    call_command("seed_demo", verbosity=0, **sizes)


@pytest.mark.django_db
def test_benchmark_clinic_has_an_admin_and_even_caseloads():
    _seed(clients=60, clinicians=3)
    admin = User.objects.get(username="bench-admin")
    assert admin.role == Role.CLINIC_ADMIN and admin.organisation.slug == "bench"
    assert admin.check_password("selfkind-demo")
    caseloads = Counter(
        Client.objects.filter(organisation__slug="bench").values_list(
            "primary_clinician__username", flat=True
        )
    )
    assert caseloads == {f"bench-clinician-{n:04d}": 20 for n in (1, 2, 3)}


@pytest.mark.django_db
def test_benchmark_programmes_have_members_and_are_idempotent():
    _seed(clients=600, clinicians=4)
    programmes = list(Programme.objects.filter(organisation__slug="bench").order_by("name"))
    assert [p.name for p in programmes] == ["Bench course 001", "Bench course 002"]
    today = timezone.localdate()
    for programme in programmes:
        assert programme.starts_on.weekday() == 0  # a Monday
        assert today - dt.timedelta(days=372) <= programme.starts_on <= today
        assert (programme.ends_on - programme.starts_on).days == 53  # 8 weeks, Monday to Friday
        members = list(programme.clients.all())
        assert len(members) == 25
        assert all(m.organisation.slug == "bench" for m in members)
        assert all(m.intake_date <= programme.starts_on for m in members)
    assert programmes[0].starts_on < programmes[1].starts_on
    membership = Client.programmes.through.objects.filter(programme__in=programmes)
    assert membership.values("client").distinct().count() == 50  # nobody in two programmes

    _seed(clients=600, clinicians=4)
    assert Programme.objects.filter(organisation__slug="bench").count() == 2
    assert membership.count() == 50


@pytest.mark.django_db
def test_a_small_benchmark_clinic_still_gets_one_full_programme():
    _seed(clients=30, clinicians=2)
    programme = Programme.objects.get(organisation__slug="bench")
    assert programme.clients.count() == 25  # later intakes fill in when too few qualify


@pytest.mark.django_db
def test_benchmark_administrations_give_clients_consecutive_scores():
    _seed(clients=40, clinicians=2, administrations=400)
    bench = Administration.objects.filter(organisation__slug="bench", instrument_code="scs")
    assert Score.objects.filter(administration__in=bench).count() == bench.count()
    per_client = Counter(bench.values_list("client_id", flat=True))
    assert len(per_client) == 40
    assert sum(1 for n in per_client.values() if n >= 3) > 30
    for client in Client.objects.filter(organisation__slug="bench")[:10]:
        days = list(
            bench.filter(client=client)
            .order_by("administered_on")
            .values_list("administered_on", flat=True)
        )
        assert days[0] == client.intake_date
        assert all(b > a for a, b in itertools.pairwise(days))
