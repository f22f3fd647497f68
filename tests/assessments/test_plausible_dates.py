"""A paper form dated in year 1 is refused; a bad date already stored breaks no page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from assessments.models import Administration
from tests.access_rules.assessments import administration_of

ANSWERS = {"scs": [3] * 26, "fscrs": [2] * 22}


def paper_form(instrument: str, administered_on: str) -> dict:
    data = {"administered_on": administered_on, "mode": "paper"}
    data.update({f"item_{n}": str(v) for n, v in enumerate(ANSWERS[instrument], start=1)})
    return data


@pytest.mark.parametrize("instrument", ["scs", "fscrs"])
@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("0001-01-01", "Date administered cannot be before 1 January 1900."),
        ("1899-12-31", "Date administered cannot be before 1 January 1900."),
        ("9999-12-31", "Date administered cannot be in the future (after "),
        ("10000-01-01", "Date administered: enter a date as YYYY-MM-DD."),
    ],
)
def test_a_paper_form_dated_outside_the_plausible_range_is_refused(
    world, instrument, typed, message
):
    url = reverse(
        "assessments:entry",
        kwargs={"client_id": world.client_record.pk, "instrument": instrument},
    )
    response = world.browser("clinician").post(url, paper_form(instrument, typed))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert f'value="{typed}"' in response.content.decode()  # kept as typed
    assert not Administration.objects.exists()


def test_the_database_refuses_an_administration_before_1900_whoever_writes_it(world):
    stored = administration_of(world.client_record, on=dt.date(2026, 2, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Administration.objects.filter(pk=stored.pk).update(administered_on=dt.date(1, 1, 1))
    stored.administered_on = dt.date(1899, 12, 31)
    with pytest.raises(ValidationError, match="Date administered cannot be before 1 January"):
        stored.full_clean()


def test_the_service_refuses_a_date_the_form_would_refuse(world):
    with pytest.raises(ValidationError, match="Date administered cannot be in the future"):
        administration_of(world.client_record, on=world.clinic.today() + dt.timedelta(days=2))
    assert not Administration.objects.exists()


STAFF_PAGES = [
    "dashboard:brief",
    "tracking:client_charts",
    "tracking:client_log",
    "dashboard:client_flags",
    "clinic:client_detail",
    "assessments:client_assessments",
    "assessments:export_csv",
]


@pytest.mark.parametrize("stored_on", [dt.date(9999, 12, 31), dt.date(2263, 1, 1)])
def test_every_page_of_the_client_survives_an_administration_stored_with_a_far_date(
    world, stored_on
):
    """Dates after tomorrow cannot be a constraint (tomorrow moves): a row written around the
    forms and services before this check existed must not break a page."""
    administration_of(world.client_record, on=dt.date(2026, 1, 5))
    bad = administration_of(world.client_record, on=dt.date(2026, 2, 1))
    Administration.objects.filter(pk=bad.pk).update(administered_on=stored_on)
    http = world.browser("clinician")
    for name in STAFF_PAGES:
        response = http.get(reverse(name, kwargs={"client_id": world.client_record.pk}))
        assert response.status_code == 200, name
    assert http.get(reverse("dashboard:home")).status_code == 200
    assert http.get(reverse("dashboard:dose_response")).status_code == 200
    portal = world.browser("client")
    for name in ("tracking:my_charts", "assessments:portal_list"):
        assert portal.get(reverse(name)).status_code == 200, name
