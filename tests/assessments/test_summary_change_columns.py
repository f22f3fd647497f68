"""ScoreSummary's typed subscale changes (the deterioration flag's inputs): the migration that
adds them fills existing summaries with what the projection writes."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps

from assessments.models import ScoreSummary
from tests.dashboard.helpers import give_scs

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("assessments.migrations.0008_summary_subscale_changes")
COLUMNS = [f"change_{code}" for code in ScoreSummary.SUBSCALES]


def changes():
    return list(ScoreSummary.objects.order_by("client_id").values_list(*COLUMNS))


def test_the_migration_names_the_same_subscales_as_the_model():
    assert MIGRATION.SUBSCALES == ScoreSummary.SUBSCALES


def test_the_migration_fills_existing_summaries_as_the_projection_does(world):
    today = world.clinic.today()
    give_scs(world.client_record, today - dt.timedelta(days=60), 3, 2)
    give_scs(world.client_record, today - dt.timedelta(days=5), 4, 4)
    give_scs(world.other_client_record, today - dt.timedelta(days=3), 2, 2)  # a baseline alone
    written = changes()
    assert written[0][ScoreSummary.SUBSCALES.index("self_judgment")] == pytest.approx(2.0)
    assert all(value is None for value in written[1])
    ScoreSummary.objects.update(**dict.fromkeys(COLUMNS))

    MIGRATION.fill(apps, None)

    assert changes() == written
