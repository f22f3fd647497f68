"""The demo a new user opens: both clinics have a clinic admin, Harbor's dashboard gives
reliable-change verdicts from its own baselines, and the spring course has members with scores
before and after."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client as HttpClient
from django.urls import reverse

from assessments.instruments import get_instrument
from assessments.reliable_change import MIN_BASELINE_CLIENTS, NOT_ENOUGH_DATA
from assessments.selectors import sd_choices
from clinic.models import Organisation, Programme, Role, User
from dashboard import cohorts


@pytest.mark.django_db
def test_the_demo_clinics_each_have_an_admin_and_enough_baselines_for_verdicts():
    call_command("seed_demo", verbosity=0)
    harbor = Organisation.objects.get(slug="harbor")
    admin = User.objects.get(username="jules")
    assert (admin.organisation, admin.role) == (harbor, Role.CLINIC_ADMIN)
    for clinic in Organisation.objects.all():
        sd = sd_choices(clinic.pk, get_instrument("scs"))["total"]
        assert sd.available and sd.baseline_clients >= MIN_BASELINE_CLIENTS, clinic
    http = HttpClient()
    http.force_login(admin)
    page = http.get(reverse("dashboard:home")).content.decode()
    assert "improved" in page or "no reliable change" in page
    assert NOT_ENOUGH_DATA not in page


@pytest.mark.django_db
def test_the_spring_course_has_members_with_scores_before_and_after():
    call_command("seed_demo", verbosity=0)
    spring = Programme.objects.get(name="MSC 8-week course, spring 2026")
    casey = User.objects.get(username="casey")
    cohort = cohorts.cohort_for(casey, spring)
    paired = dict(cohort.status_counts)["paired"]
    assert len(cohort.members) >= 8 and paired >= 8
    assert all(m.intake_date < spring.starts_on for m in spring.clients.all() if m.code != "RC-013")
    call_command("seed_demo", verbosity=0)  # idempotent: nobody is added twice
    assert spring.clients.count() == len(cohort.members)
