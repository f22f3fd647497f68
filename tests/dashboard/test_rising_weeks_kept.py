"""The rising-intensity window a clinic chooses is one the projections keep a slope for
(ClientActivity's rising_w3 to rising_w12): the form says so, the database refuses any other,
and the migration that adds the constraint brings a stored outlier to the nearest length."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from dashboard.models import FlagSettings
from tests.schema_steps import latest, migrate, schema_at

BEFORE = [("dashboard", "0008_build_projections")]


@pytest.mark.django_db
@pytest.mark.parametrize("weeks", [2, 13])
def test_a_window_without_a_slope_column_is_refused_by_the_form_and_the_database(world, weeks):
    http = world.browser("clinic_admin")
    response = http.post(reverse("dashboard:flag_settings"), {"rising_weeks": str(weeks)})
    assert response.status_code == 200
    assert "rising_weeks" in response.context["form"].errors
    with pytest.raises(IntegrityError), transaction.atomic():
        FlagSettings.objects.create(organisation=world.clinic, rising_weeks=weeks)


@pytest.fixture
def old_schema(django_db_blocker):
    """The schema before the constraint."""
    with schema_at(BEFORE) as apps:
        yield apps


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_brings_a_stored_outlier_to_the_nearest_kept_length(old_schema):
    apps = old_schema
    Organisation = apps.get_model("clinic", "Organisation")
    FlagSettings = apps.get_model("dashboard", "FlagSettings")
    for weeks, slug in ((1, "short"), (40, "long"), (6, "kept")):
        clinic = Organisation.objects.create(name=slug, slug=slug, time_zone="Europe/London")
        FlagSettings.objects.create(organisation=clinic, rising_weeks=weeks)

    apps = migrate(latest())

    stored = apps.get_model("dashboard", "FlagSettings").objects.values_list(
        "organisation__slug", "rising_weeks"
    )
    assert dict(stored) == {"short": 3, "long": 12, "kept": 6}
