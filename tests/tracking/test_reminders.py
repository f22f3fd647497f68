"""Reminders the client chooses: the days and local time they asked for, across both clock
changes, never to someone discharged, without an address, paused or unsubscribed."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from clinic.models import ClientStatus, EmailKind, EmailOptOut, OutboxEmail
from tests.factories import make_client
from tracking.models import Reminder, ReminderPurpose
from tracking.reminders import occurrences
from tracking.services import reminders_enqueue_due

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
UTC = dt.UTC
EVERY_DAY = list(range(7))


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def daily_instants(tz, at, first_day, last_day):
    start = dt.datetime.combine(first_day, dt.time(0), tzinfo=tz)
    end = dt.datetime.combine(last_day, dt.time(23, 59), tzinfo=tz)
    return [instant for _, instant in occurrences(EVERY_DAY, at, tz, start, end)]


# --- pure: when a reminder falls due -------------------------------------------------------------


def test_eight_oclock_in_london_stays_eight_oclock_when_the_clocks_go_forward():
    # British Summer Time starts at 01:00 UTC on Sunday 29 March 2026.
    instants = daily_instants(LONDON, dt.time(8), dt.date(2026, 3, 28), dt.date(2026, 3, 30))
    assert instants == [utc(2026, 3, 28, 8), utc(2026, 3, 29, 7), utc(2026, 3, 30, 7)]
    assert {instant.astimezone(LONDON).time() for instant in instants} == {dt.time(8)}


def test_eight_oclock_in_london_stays_eight_oclock_when_the_clocks_go_back():
    # British Summer Time ends at 01:00 UTC on Sunday 25 October 2026.
    instants = daily_instants(LONDON, dt.time(8), dt.date(2026, 10, 24), dt.date(2026, 10, 26))
    assert instants == [utc(2026, 10, 24, 7), utc(2026, 10, 25, 8), utc(2026, 10, 26, 8)]


def test_the_same_holds_in_new_york_on_its_own_dates():
    spring = daily_instants(NEW_YORK, dt.time(8), dt.date(2026, 3, 7), dt.date(2026, 3, 9))
    autumn = daily_instants(NEW_YORK, dt.time(8), dt.date(2026, 10, 31), dt.date(2026, 11, 2))
    assert spring == [utc(2026, 3, 7, 13), utc(2026, 3, 8, 12), utc(2026, 3, 9, 12)]
    assert autumn == [utc(2026, 10, 31, 12), utc(2026, 11, 1, 13), utc(2026, 11, 2, 13)]


def test_a_time_in_the_skipped_hour_falls_due_once_as_the_clocks_jump_past_it():
    instants = daily_instants(LONDON, dt.time(1, 30), dt.date(2026, 3, 29), dt.date(2026, 3, 29))
    assert instants == [utc(2026, 3, 29, 1, 30)]  # 02:30 British Summer Time
    assert instants[0].astimezone(LONDON).time() == dt.time(2, 30)


def test_a_time_in_the_repeated_hour_falls_due_once_at_its_first_occurrence():
    instants = daily_instants(LONDON, dt.time(1, 30), dt.date(2026, 10, 25), dt.date(2026, 10, 25))
    assert instants == [utc(2026, 10, 25, 0, 30)]  # 01:30 BST, not 01:30 GMT an hour later


def test_only_the_chosen_days_fall_due():
    start, end = utc(2026, 3, 1, 23), utc(2026, 3, 8, 23)  # Monday 2 March .. Sunday 8 March
    days = [day for day, _ in occurrences([0, 2], dt.time(8), LONDON, start, end)]
    assert days == [dt.date(2026, 3, 2), dt.date(2026, 3, 4)]


# --- the periodic task ---------------------------------------------------------------------------


@pytest.fixture
def sam(world):
    record = world.client_record
    record.email = "sam@example.org"
    record.save()
    return record


def remind(client, *, weekdays=EVERY_DAY, at=dt.time(8), purpose=ReminderPurpose.PRACTICE, **kw):
    return Reminder.objects.create(
        client=client, purpose=purpose, weekdays=weekdays, local_time=at, **kw
    )


def run_every_five_minutes(first: dt.datetime, last: dt.datetime) -> list[dt.datetime]:
    """Run the task as the consumer's crontab would; the moments it queued something."""
    moments = []
    now = first
    while now <= last:
        if reminders_enqueue_due(now=now):
            moments.append(now)
        now += dt.timedelta(minutes=5)
    return moments


CLOCK_CHANGE_DAYS = [
    dt.date(2026, 3, 28),
    dt.date(2026, 3, 29),  # forward
    dt.date(2026, 10, 25),  # back
    dt.date(2026, 10, 26),
]


@pytest.mark.parametrize("day", CLOCK_CHANGE_DAYS)
def test_the_task_queues_one_reminder_at_eight_local_on_each_side_of_a_clock_change(sam, day):
    remind(sam)
    start = dt.datetime.combine(day, dt.time(0), tzinfo=LONDON)
    moments = run_every_five_minutes(start, start + dt.timedelta(hours=23, minutes=55))
    assert [moment.astimezone(LONDON).time() for moment in moments] == [dt.time(8)]
    email = OutboxEmail.objects.get()
    assert email.kind == EmailKind.REMINDER and email.to == "sam@example.org"
    assert email.key == f"reminder:{sam.pk}:practice:{day.isoformat()}T08:00"


def test_a_reminder_is_queued_once_however_often_the_task_runs(sam):
    remind(sam)
    now = utc(2026, 3, 2, 8, 3)
    assert reminders_enqueue_due(now=now) == 1
    assert reminders_enqueue_due(now=now) == 0
    assert reminders_enqueue_due(now=now + dt.timedelta(minutes=30)) == 0
    assert OutboxEmail.objects.count() == 1


def test_a_reminder_missed_by_more_than_an_hour_is_not_sent_late(sam):
    remind(sam)
    assert reminders_enqueue_due(now=utc(2026, 3, 2, 9, 1)) == 0


def test_practice_and_log_reminders_lead_to_their_own_pages(sam):
    remind(sam)
    remind(sam, purpose=ReminderPurpose.LOG)
    reminders_enqueue_due(now=utc(2026, 3, 2, 8, 1))
    bodies = " ".join(OutboxEmail.objects.values_list("body", flat=True))
    assert reverse("tracking:my_practice") in bodies and reverse("tracking:my_log") in bodies


@pytest.mark.parametrize(
    "reason",
    ["paused", "no days", "discharged", "on hold", "no address", "unsubscribed"],
)
def test_no_reminder_is_queued_when(world, sam, reason):
    remind(sam, paused=reason == "paused", weekdays=[] if reason == "no days" else EVERY_DAY)
    if reason in ("discharged", "on hold"):
        sam.status = ClientStatus.DISCHARGED if reason == "discharged" else ClientStatus.ON_HOLD
    if reason == "no address":
        sam.email = ""
    sam.save()
    if reason == "unsubscribed":
        EmailOptOut.objects.create(organisation=world.clinic, address="sam@example.org")
    assert reminders_enqueue_due(now=utc(2026, 3, 2, 8, 1)) == 0
    assert not OutboxEmail.objects.exists()


def test_each_clinic_reminds_in_its_own_time_zone(world):
    other = world.other_clinic_record
    other.email = "hale@example.org"
    other.save()
    remind(other)
    moments = run_every_five_minutes(utc(2026, 3, 2, 0), utc(2026, 3, 2, 23, 55))
    assert [moment.astimezone(NEW_YORK).time() for moment in moments] == [dt.time(8)]


# --- the portal page -----------------------------------------------------------------------------


def form_data(**overrides) -> dict:
    data = {
        "practice-weekdays": ["0", "2", "4"],
        "practice-local_time": "07:45",
        "log-local_time": "20:00",
    }
    return data | overrides


def test_a_client_chooses_days_and_a_time_and_can_pause(world, sam):
    http = world.browser("client")
    response = http.post(reverse("tracking:my_reminders"), form_data())
    assert response["Location"] == reverse("tracking:my_reminders")
    practice = Reminder.objects.get(client=sam, purpose=ReminderPurpose.PRACTICE)
    assert (practice.weekdays, practice.local_time, practice.paused) == (
        [0, 2, 4],
        dt.time(7, 45),
        False,
    )
    assert not Reminder.objects.get(client=sam, purpose=ReminderPurpose.LOG).is_on
    http.post(reverse("tracking:my_reminders"), form_data(**{"practice-paused": "on"}))
    practice.refresh_from_db()
    assert practice.paused and practice.weekdays == [0, 2, 4]


def test_a_bad_time_is_named_keeps_what_was_typed_and_saves_nothing(world, sam):
    response = world.browser("client").post(
        reverse("tracking:my_reminders"), form_data(**{"practice-local_time": "25:99"})
    )
    assert response.status_code == 400
    form = dict(response.context["forms"])[ReminderPurpose.PRACTICE]
    assert form.errors["local_time"] == ["Time must be a time of day such as 08:00."]
    assert 'value="25:99"' in response.content.decode()
    assert not Reminder.objects.exists()


def test_a_day_that_is_not_a_weekday_is_refused(world, sam):
    response = world.browser("client").post(
        reverse("tracking:my_reminders"), form_data(**{"practice-weekdays": ["7"]})
    )
    form = dict(response.context["forms"])[ReminderPurpose.PRACTICE]
    assert "Monday to Sunday" in form.errors["weekdays"][0]


def test_turning_a_reminder_on_after_unsubscribing_subscribes_again(world, sam):
    EmailOptOut.objects.create(organisation=world.clinic, address="sam@example.org")
    http = world.browser("client")
    assert "You unsubscribed" in http.get(reverse("tracking:my_reminders")).content.decode()
    http.post(reverse("tracking:my_reminders"), form_data(**{"practice-paused": "on"}))
    assert EmailOptOut.objects.exists()  # saving paused reminders is no request for email
    response = http.post(reverse("tracking:my_reminders"), form_data(), follow=True)
    assert "subscribed to reminders again" in response.content.decode()
    assert not EmailOptOut.objects.exists()


def test_the_page_says_when_no_reminder_can_be_sent(world):
    page = world.browser("client").get(reverse("tracking:my_reminders")).content.decode()
    assert "no email address for you" in page


def test_the_reminders_page_runs_a_fixed_number_of_queries(world, sam, django_assert_num_queries):
    http = world.browser("client")
    url = reverse("tracking:my_reminders")
    http.get(url)  # the session's first request
    # session, user, clinic, client, reminders, opt-out; the portal tab bar's questionnaire
    # check (3); the session saved (3)
    with django_assert_num_queries(12):
        assert http.get(url).status_code == 200
    remind(sam)
    remind(sam, purpose=ReminderPurpose.LOG)
    for n in range(5):
        remind(make_client(world.clinic, world.clinician))
        remind(make_client(world.clinic, world.clinician), purpose=ReminderPurpose.LOG)
        EmailOptOut.objects.create(organisation=world.clinic, address=f"x{n}@example.org")
    with django_assert_num_queries(12):
        assert http.get(url).status_code == 200
