"""Who sees which inner-critic entries, and the words of private entries never reach staff."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEvent, CareTeamMember
from tests.factories import write_entry, write_practice
from tracking import access, selectors
from tracking.models import InnerCriticEntry, JournalEntry
from tracking.projections import EntryValues

PRIVATE_WORDS = "PRIVATE-You are a fraud and everyone knows it"
PRIVATE_REFRAME = "PRIVATE-REFRAME-Everyone struggles sometimes"
OPEN_WORDS = "OPEN-You should have prepared more"


def entry(client, text, *, private=False, **extra) -> InnerCriticEntry:
    return write_entry(
        client,
        critic_text=text,
        intensity=extra.pop("intensity", 7),
        is_private=private,
        **extra,
    )


@pytest.fixture
def sams_entries(world):
    private = entry(
        world.client_record,
        PRIVATE_WORDS,
        private=True,
        situation="PRIVATE-SITUATION at the office",
        body_location="PRIVATE-BODY chest",
        pattern="self_judgment",
        self_kindness=PRIVATE_REFRAME,
        intensity_after=3,
        reframed_at=timezone.now(),
    )
    shared = entry(world.client_record, OPEN_WORDS, intensity=5)
    pats = entry(world.other_client_record, "PAT-ONLY words")
    return private, shared, pats


def test_a_client_sees_only_their_own_entries(world, sams_entries):
    private, shared, pats = sams_entries
    assert set(access.own_entries(world.client)) == {private, shared}
    assert set(access.own_entries(world.other_client)) == {pats}
    assert not access.own_entries(world.clinician).exists()

    page = world.browser("client").get(reverse("tracking:my_log")).content.decode()
    assert PRIVATE_WORDS in page and OPEN_WORDS in page
    assert "PAT-ONLY" not in page


def test_a_client_cannot_open_another_clients_entry(world, sams_entries):
    _, _, pats = sams_entries
    http = world.browser("client")
    assert http.get(reverse("tracking:my_entry", args=[pats.pk])).status_code == 404
    response = http.post(
        reverse("tracking:my_reframe", args=[pats.pk]),
        {"self_kindness": "hijack", "intensity_after": 1},
    )
    assert response.status_code == 404
    pats.refresh_from_db()
    assert pats.self_kindness == ""


def test_a_clinician_sees_only_their_caseloads_entries(world, sams_entries):
    own = reverse("tracking:client_log", args=[world.client_record.pk])
    other = reverse("tracking:client_log", args=[world.other_client_record.pk])
    http = world.browser("clinician")
    assert OPEN_WORDS in http.get(own).content.decode()
    assert http.get(other).status_code == 404
    assert world.browser("colleague").get(own).status_code == 404
    assert world.browser("other_clinic_clinician").get(own).status_code == 404
    assert not access.staff_entries(world.colleague, world.client_record).exists()


def test_a_care_team_member_sees_the_clients_entries(world, sams_entries):
    CareTeamMember.objects.create(client=world.client_record, clinician=world.colleague)
    assert access.staff_entries(world.colleague, world.client_record).count() == 2


def test_the_clients_charts_are_their_own(world, sams_entries):
    response = world.browser("client").get(reverse("tracking:my_charts"))
    assert "Entries per week, 26 weeks, 2 entries" in response.content.decode()


STAFF_PAGES = ("tracking:client_log", "tracking:client_charts", "tracking:client_entry_create")


@pytest.mark.parametrize("persona", ["clinician", "clinic_admin"])
def test_private_words_never_appear_in_any_staff_response(world, sams_entries, persona):
    http = world.browser(persona)
    responses = [http.get(reverse(name, args=[world.client_record.pk])) for name in STAFF_PAGES]
    responses.append(http.get(reverse("clinic:client_detail", args=[world.client_record.pk])))
    for response in responses:
        assert response.status_code == 200
        body = response.content.decode()
        for secret in ("PRIVATE-",):
            assert secret not in body, response.request["PATH_INFO"]
    log = responses[0].content.decode()
    assert OPEN_WORDS in log
    assert "kept the words of this entry private" in log
    # Exports are for the client only: staff get 403 (CSV and JSON).
    for name in ("tracking:my_export_csv", "tracking:my_export_json"):
        assert http.get(reverse(name)).status_code == 403


def test_staff_rows_come_back_from_the_database_without_private_words(world, sams_entries):
    private, _, _ = sams_entries
    rows = selectors.redacted_entries(access.staff_entries(world.clinician, world.client_record))
    row = next(row for row in rows if row["id"] == private.pk)
    assert row["pattern"] == "self_judgment"
    assert (row["intensity"], row["intensity_after"]) == (7, 3)
    assert row["reframed_at"] is not None
    for name in InnerCriticEntry.TEXT_FIELDS:
        assert row[f"{name}_shown"] is None, name
    assert "PRIVATE" not in repr(list(rows))


def test_the_timeline_shows_counts_and_intensities_never_words(world, sams_entries):
    body = (
        world.browser("clinician")
        .get(reverse("clinic:client_detail", args=[world.client_record.pk]))
        .content.decode()
    )
    assert "2 inner-critic entries" in body
    assert OPEN_WORDS not in body and "PRIVATE-" not in body


def test_staff_views_of_the_log_are_audited_by_field_name_only(world, sams_entries):
    world.browser("clinician").get(reverse("tracking:client_log", args=[world.client_record.pk]))
    event = AuditEvent.objects.filter(subject="inner_critic_log").get()
    assert (event.actor, event.action) == (world.clinician, "view")
    assert event.fields == ["entries", "journal", "practice"]


def test_practice_and_journal_are_scoped_the_same_way(world):
    write_practice(world.other_client_record, practice_type="hand_on_heart", minutes=5)
    JournalEntry.objects.create(
        client=world.other_client_record, week_start=dt.date(2026, 3, 2), difficulty="PAT"
    )
    assert not access.own_practice(world.client).exists()
    assert not access.own_journal(world.client).exists()
    assert not access.staff_practice(world.clinician, world.other_client_record).exists()
    assert not access.staff_journal(world.clinician, world.other_client_record).exists()
    assert access.staff_journal(world.clinic_admin, world.other_client_record).count() == 1


def test_staff_charts_do_not_reveal_the_trigger_of_a_private_entry(world):
    """Found in review: a one-day chart range showed the trigger of a single private entry.
    Staff may see a private entry's time, pattern and intensities, nothing more."""
    from tracking.models import TriggerCategory

    money = TriggerCategory.objects.get(organisation__isnull=True, name__iexact="money")
    written = entry(world.client_record, PRIVATE_WORDS, private=True, trigger=money)
    # The day the rollups count the entry on (the factory writes it two hours ago, which is
    # yesterday between midnight and 2 a.m.)
    day = EntryValues.of(written, world.clinic.tz).day.isoformat()
    url = reverse("tracking:client_charts", args=[world.client_record.pk])

    staff_page = world.browser("clinician").get(url, {"start": day, "end": day})
    own_page = world.browser("client").get(
        reverse("tracking:my_charts"), {"start": day, "end": day}
    )

    assert "Kept private" in staff_page.content.decode()
    assert money.name not in staff_page.content.decode()
    assert money.name in own_page.content.decode()  # the client sees their own trigger
