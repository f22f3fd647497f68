"""'This brought up something difficult' on an entry, a practice or a journal entry raises a
safety flag in one tap (words never travel with it); a practice that raised distress gets a gentle
note; the last three rated practices are kept on write for the dashboard's flag."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.urls import reverse

from clinic.models import SafetySignal, SignalKind
from clinic.services import client_discharge
from tests.factories import write_entry, write_practice
from tracking.models import ClientActivity, JournalEntry
from tracking.projections import RatedPractice, latest_rated

pytestmark = pytest.mark.django_db
DIFFICULT = reverse("tracking:my_difficult")
HARD = reverse("tracking:my_something_hard")


def practice(world, before, after, days_ago=0, **extra):
    return write_practice(
        world.client_record,
        practised_on=world.clinic.today() - dt.timedelta(days=days_ago),
        distress_before=before,
        distress_after=after,
        **extra,
    )


def test_one_tap_on_an_entry_raises_a_safety_flag_and_shows_the_something_is_hard_screen(world):
    entry = write_entry(world.client_record, critic_text="I am a burden.", is_private=True)
    http = world.browser("client")
    assert (
        "Did this bring up something difficult?"
        in http.get(reverse("tracking:my_entry", args=[entry.pk])).content.decode()
    )
    response = http.post(
        DIFFICULT, {"source": "entry", "record": entry.pk, "contact": "yes"}, follow=True
    )
    assert response.redirect_chain == [(HARD, 302)]
    page = response.content.decode()
    assert "would like them to contact you" in page
    assert "Selfkind is not monitored around the clock" in page
    [signal] = SafetySignal.objects.filter(client=world.client_record)
    assert (signal.kind, signal.source, signal.source_id) == (
        SignalKind.SAFETY,
        "critic_entry",
        entry.pk,
    )
    assert signal.asked_for_contact and signal.raised_by == world.client


def test_the_clinician_sees_that_a_private_entry_asked_for_contact_but_never_its_words(world):
    entry = write_entry(world.client_record, critic_text="I am a burden.", is_private=True)
    world.browser("client").post(DIFFICULT, {"source": "entry", "record": entry.pk, "contact": "1"})
    signal = SafetySignal.objects.get()
    page = (
        world.browser("clinician")
        .get(reverse("clinic:safety_signal", kwargs={"pk": signal.pk}))
        .content.decode()
    )
    assert "an inner-critic entry brought up something difficult" in page
    assert "Asked to be contacted" in page and "<strong>Yes</strong>" in page
    assert "burden" not in page


def test_a_journal_entry_of_this_week_can_be_marked_too(world):
    http = world.browser("client")
    http.post(reverse("tracking:my_journal"), {"difficulty": "A hard week."})
    journal = JournalEntry.objects.get()
    assert (
        "Did writing this bring up something difficult?"
        in http.get(reverse("tracking:my_journal")).content.decode()
    )
    http.post(DIFFICULT, {"source": "journal", "record": journal.pk})
    signal = SafetySignal.objects.get()
    assert (signal.source, signal.asked_for_contact) == ("journal", False)


def test_someone_elses_record_answers_404_and_raises_nothing(world):
    theirs = write_entry(world.other_client_record)
    response = world.browser("client").post(DIFFICULT, {"source": "entry", "record": theirs.pk})
    assert response.status_code == 404
    assert not SafetySignal.objects.exists()


@pytest.mark.parametrize(
    "data",
    [{"source": "diary", "record": 1}, {"source": "entry", "record": "x"}, {"source": "entry"}],
)
def test_a_garbled_tap_says_so_and_raises_nothing(world, data):
    response = world.browser("client").post(DIFFICULT, data)
    assert response.status_code == 400
    assert "This could not be sent" in response.content.decode()
    assert not SafetySignal.objects.exists()


def test_a_discharged_clients_portal_raises_nothing(world):
    entry = write_entry(world.client_record)
    client_discharge(
        actor=world.clinician,
        client=world.client_record,
        expected_version=world.client_record.version,
        discharge_date=world.clinic.today(),
    )
    response = world.browser("client").post(DIFFICULT, {"source": "entry", "record": entry.pk})
    assert response.status_code == 403
    assert not SafetySignal.objects.exists()


def test_a_practice_that_raised_distress_is_followed_by_a_gentle_note(world):
    http = world.browser("client")
    response = http.post(
        reverse("tracking:my_practice"),
        {
            "practised_on": world.clinic.today().isoformat(),
            "practice_type": "loving_kindness",
            "minutes": "15",
            "distress_before": "3",
            "distress_after": "7",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "Your distress went from 3 to 7" in page
    assert "a shorter practice, a different one" in page
    assert 'name="source" value="practice"' in page


def test_a_calmer_practice_goes_back_to_the_log_without_the_note(world):
    response = world.browser("client").post(
        reverse("tracking:my_practice"),
        {
            "practised_on": world.clinic.today().isoformat(),
            "practice_type": "hand_on_heart",
            "minutes": "5",
            "distress_before": "6",
            "distress_after": "4",
        },
    )
    assert response["Location"] == reverse("tracking:my_practice")


def test_any_practice_can_be_marked_as_too_much_from_the_log(world):
    session = practice(world, 2, 2)
    http = world.browser("client")
    assert (
        reverse("tracking:my_practice_note", args=[session.pk])
        in http.get(reverse("tracking:my_practice")).content.decode()
    )
    page = http.get(reverse("tracking:my_practice_note", args=[session.pk])).content.decode()
    assert "was too much?" in page


def test_the_something_is_hard_screens_read_in_a_fixed_number_of_queries(
    world, django_assert_num_queries
):
    session = practice(world, 3, 7)
    http = world.browser("client")
    # session, user, the clinic (its time zone), the client record, the crisis contacts; the
    # session's new expiry (savepoint, update, release)
    with django_assert_num_queries(8):
        http.get(HARD)
    # session, user, the clinic (its time zone), the practice with its client; the portal tab
    # bar's questionnaire check (3); the session (3)
    with django_assert_num_queries(10):
        http.get(reverse("tracking:my_practice_note", args=[session.pk]))


# --- The last three rated practices, kept on write --------------------------------------------


def activity(world):
    return ClientActivity.objects.get(client=world.client_record)


def test_the_activity_keeps_the_last_three_rated_practices_and_how_many_raised_distress(world):
    practice(world, 2, 5, days_ago=9)  # pushed out by the three below
    practice(world, 4, 2, days_ago=6)
    practice(world, None, 8, days_ago=5)  # not rated: no "before"
    practice(world, 3, 6, days_ago=4)
    last = practice(world, 5, 7, days_ago=1)
    kept = activity(world)
    today = world.clinic.today()
    assert kept.rated_practices == [
        [(today - dt.timedelta(days=6)).isoformat(), 4, 2],
        [(today - dt.timedelta(days=4)).isoformat(), 3, 6],
        [(today - dt.timedelta(days=1)).isoformat(), 5, 7],
    ]
    assert kept.distress_rises == 2
    assert (kept.last_rated_id, kept.last_rated_on) == (last.pk, today - dt.timedelta(days=1))


def test_a_practice_logged_late_for_an_earlier_day_takes_its_place_by_day():
    day = dt.date(2026, 3, 1)
    earlier = day - dt.timedelta(days=1)
    rated = [
        RatedPractice(1, day, 1, 2),
        RatedPractice(3, day, 1, 2),
        RatedPractice(2, earlier, 5, 1),
    ]
    assert [r.id for r in latest_rated(rated)] == [2, 1, 3]
    much_earlier = RatedPractice(4, day - dt.timedelta(days=9), 0, 9)
    assert [r.id for r in latest_rated([*rated, much_earlier])] == [2, 1, 3]


def test_one_tap_writes_in_a_fixed_number_of_queries(world, django_assert_num_queries):
    entry = write_entry(world.client_record)
    http = world.browser("client")
    # session, user, the clinic (its time zone), the client record, the entry; the signal:
    # savepoint, the client's row locked (PostgreSQL only: clinic.models.clients_lock), the
    # open signal looked up, insert, audit, the recipients, release; the message in the
    # session (savepoint, update, release)
    with django_assert_num_queries(14 + connection.features.has_select_for_update):
        response = http.post(DIFFICULT, {"source": "entry", "record": entry.pk})
    assert response.status_code == 302
