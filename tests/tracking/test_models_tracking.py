"""The database refuses out-of-range scores and empty or over-long words, whatever the caller."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from tracking.models import InnerCriticEntry, JournalEntry, PracticeSession, TriggerCategory


def refused(**fields) -> bool:
    try:
        with transaction.atomic():
            InnerCriticEntry.objects.create(**fields)
    except IntegrityError:
        return True
    return False


def test_the_database_refuses_out_of_range_intensities_and_bad_words(world):
    ok = {"client": world.client_record, "critic_text": "Lazy.", "intensity": 5}
    assert not refused(**ok)
    assert refused(**{**ok, "intensity": 11})
    assert refused(**{**ok, "intensity_after": 11})
    assert refused(**{**ok, "intensity_after": 3})  # an after-score needs a reframe
    assert refused(**{**ok, "critic_text": ""})
    assert refused(**{**ok, "critic_text": "x" * 2001})


def test_practice_minutes_and_distress_are_bounded(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        PracticeSession.objects.create(client=world.client_record, practice_type="other", minutes=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        PracticeSession.objects.create(
            client=world.client_record, practice_type="other", minutes=5, distress_after=12
        )


def test_one_journal_per_client_per_week(world):
    monday = dt.date(2026, 3, 2)
    JournalEntry.objects.create(client=world.client_record, week_start=monday, difficulty="a")
    with pytest.raises(IntegrityError), transaction.atomic():
        JournalEntry.objects.create(client=world.client_record, week_start=monday, difficulty="b")


def test_the_eight_built_in_triggers_exist_and_a_clinic_adds_its_own(world):
    assert (
        list(TriggerCategory.objects.filter(organisation=None).values_list("name", flat=True))
        == TriggerCategory.BUILT_IN
    )
    TriggerCategory.objects.create(organisation=world.clinic, name="Exams")
    assert TriggerCategory.objects.available_to(world.clinic.pk).count() == 9
    assert TriggerCategory.objects.available_to(world.other_clinic.pk).count() == 8
