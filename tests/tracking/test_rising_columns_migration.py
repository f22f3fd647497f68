"""tracking 0009 moves each rising slope from ClientActivity's JSON object to its column: a
JSON null stays NULL (SQLite's JSON path reads it as the text 'null', which casts to 0.0), and
the way back rebuilds the same object."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.schema_steps import latest, migrate, schema_at

BEFORE = [("tracking", "0008_rated_practices"), ("dashboard", "0007_build_projections")]
SLOPES = {f"w{weeks}": None for weeks in range(3, 13)} | {"w4": 1.7, "w12": -0.25}


@pytest.fixture
def old_schema(django_db_blocker):
    """The schema before the columns."""
    with schema_at(BEFORE) as apps:
        yield apps


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_each_slope_moves_to_its_column_and_a_null_stays_null(old_schema):
    apps = old_schema
    clinic = apps.get_model("clinic", "Organisation").objects.create(
        name="Kauri Counselling", slug="kauri", time_zone="Pacific/Auckland"
    )
    clinician = apps.get_model("clinic", "User").objects.create(
        username="zoe", organisation=clinic, role="clinician"
    )
    first = apps.get_model("clinic", "Client").objects.create(
        organisation=clinic,
        primary_clinician=clinician,
        code="RC-1",
        display_name="A",
        intake_date=dt.date(2026, 1, 5),
    )
    apps.get_model("tracking", "ClientActivity").objects.create(
        client_id=first.pk, rising_slopes=SLOPES
    )

    apps = migrate(latest())

    row = apps.get_model("tracking", "ClientActivity").objects.get(client_id=first.pk)
    columns = {weeks: getattr(row, f"rising_w{weeks}") for weeks in range(3, 13)}
    assert columns == {weeks: SLOPES[f"w{weeks}"] for weeks in range(3, 13)}

    apps = migrate(BEFORE)
    back = apps.get_model("tracking", "ClientActivity").objects.get(client_id=first.pk)
    assert back.rising_slopes == SLOPES
