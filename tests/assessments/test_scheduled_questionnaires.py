"""Scheduled questionnaires: a client whose SCS falls due gets one invitation with a one-time
link by email (valid for the clinic's days), one reminder after the clinic's days while it is
not completed, and staff see what happened to each invitation. A client no email can reach is
listed as "not delivered: <why>", never skipped in silence. Tasks run at once, in process;
tests/delivery runs the same with a real consumer and a real SMTP server."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from assessments.models import (
    AssessmentSettings,
    OneTimeLink,
    QuestionnaireInvitation,
    hash_token,
)
from assessments.selectors import client_invitations
from assessments.services import (
    NO_ADDRESS,
    UNSUBSCRIBED,
    ScheduleRun,
    assessment_schedule_set,
    invitations_send_due,
)
from clinic.models import ClientStatus, EmailKind, EmailOptOut, EmailStatus, OutboxEmail
from clinic.outbox import email_opt_out
from tests.clinic.test_email_content import assert_no_clinical_content
from tests.dashboard.helpers import give_scs
from tests.mailserver import smtp_server, use_smtp

# 09:00 in London on a Monday.
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


@pytest.fixture
def clock():
    """Time stands at NOW (a Monday, 09:00 in London) until a run moves it on."""
    with freeze_time(NOW) as frozen:
        yield frozen


@pytest.fixture
def sam(world, clock):
    """The client record, reachable by email, whose SCS (every 4 weeks) has been due for a
    week."""
    record = world.client_record
    record.email = "sam@example.org"
    record.save()
    give_scs(record, NOW.date() - dt.timedelta(weeks=5), 3, 3)
    # The other clients of the world are kept out of the way: not due for weeks.
    for other in (world.other_client_record, world.other_clinic_record):
        give_scs(other, NOW.date() - DAY, 3, 3)
    return record


@pytest.fixture
def run(clock, django_capture_on_commit_callbacks):
    """One run of the periodic task at `now` (the clock moves there, never back), with the
    emails it queues sent at once."""

    def run_at(now=NOW):
        clock.move_to(now)
        with django_capture_on_commit_callbacks(execute=True):
            return invitations_send_due()

    return run_at


def link_path_of(message) -> str:
    (url,) = [word for word in message.body.split() if "/t/a/" in word]
    return urlsplit(url).path


def answers(value=3):
    return {f"item_{n}": str(value) for n in range(1, 27)}


def status_of(client) -> str:
    (row,) = client_invitations(client, timezone.now())
    return row["status"].label


# --- Invitations ----------------------------------------------------------------------------


def test_a_due_client_gets_one_email_with_a_link_that_opens_the_questionnaire(world, sam, run):
    first = run()

    assert (first.invited, first.not_delivered) == (1, 0)
    invitation = QuestionnaireInvitation.objects.get()
    assert invitation.client == sam and invitation.instrument_code == "scs"
    assert invitation.due_on == NOW.date() - dt.timedelta(weeks=1)
    (message,) = mail.outbox
    assert message.to == ["sam@example.org"]
    assert "a short questionnaire from Riverside Counseling" in message.body
    assert_no_clinical_content(world, message.subject, message.body)
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    email = OutboxEmail.objects.get()
    assert (email.kind, email.status, email.body) == (EmailKind.QUESTIONNAIRE, "sent", "")
    page = world.browser("anonymous").get(link_path_of(message))
    assert page.status_code == 200 and b"Thank you" not in page.content

    assert run(NOW + dt.timedelta(minutes=1)) == run(NOW + dt.timedelta(hours=5))
    assert QuestionnaireInvitation.objects.count() == 1 and len(mail.outbox) == 1


def test_the_link_opens_for_the_clinics_validity_at_the_same_local_time_across_a_clock_change(
    world, sam, run
):
    AssessmentSettings.objects.create(organisation=world.clinic, link_valid_days=6)
    friday_before_bst = dt.datetime(2026, 3, 27, 9, 0, tzinfo=dt.UTC)  # 09:00 GMT
    run(friday_before_bst)
    link = OneTimeLink.objects.get()
    local = link.expires_at.astimezone(world.clinic.tz)
    assert (local.date(), local.time()) == (dt.date(2026, 4, 2), dt.time(9, 0))  # 09:00 BST
    assert "until Thursday 2 April at 09:00" in mail.outbox[0].body


def test_a_client_not_due_paused_or_not_in_active_care_gets_nothing(world, sam, run):
    assessment_schedule_set(actor=world.clinician, client=sam, every_weeks=None)
    assert run() == ScheduleRun()
    assert not QuestionnaireInvitation.objects.exists()

    assessment_schedule_set(actor=world.clinician, client=sam, every_weeks=8)
    assert run().invited == 0  # the last SCS is five weeks old: next due in three

    assessment_schedule_set(actor=world.clinician, client=sam, every_weeks=4)
    for status in (ClientStatus.ON_HOLD, ClientStatus.DISCHARGED):
        sam.status = status
        sam.save()
        assert run().invited == 0
    assert not QuestionnaireInvitation.objects.exists() and not mail.outbox


def test_each_due_date_gets_one_invitation_and_a_new_due_date_a_new_one(world, sam, run):
    run()
    link = OneTimeLink.objects.get()
    world.browser("anonymous").post(link_path_of(mail.outbox[0]), {**answers(), "finish": "1"})
    assert status_of(sam) == "completed"
    run(NOW + 28 * DAY)  # the SCS just done is due again four weeks on
    assert [i.due_on for i in sam.questionnaire_invitations.order_by("due_on")] == [
        NOW.date() - 7 * DAY,
        NOW.date() + 28 * DAY,
    ]
    assert OneTimeLink.objects.exclude(pk=link.pk).get().used_at is None


# --- Not delivered -----------------------------------------------------------------------


def test_a_client_without_an_address_is_listed_as_not_delivered_then_sent_once_one_is_added(
    world, sam, run
):
    sam.email = ""
    sam.save()
    assert run().not_delivered == 1
    invitation = QuestionnaireInvitation.objects.get()
    assert (invitation.not_delivered, invitation.link, invitation.email) == (NO_ADDRESS, None, None)
    assert status_of(sam) == "not delivered: no email address"
    assert run(NOW + dt.timedelta(minutes=1)).not_delivered == 0  # listed once, not again
    assert not mail.outbox

    sam.email = "sam@example.org"
    sam.save()
    assert run(NOW + dt.timedelta(minutes=2)).invited == 1
    invitation.refresh_from_db()
    assert invitation.not_delivered == "" and invitation.link is not None
    assert len(mail.outbox) == 1 and status_of(sam) == "sent"


def test_a_client_who_unsubscribed_is_listed_as_not_delivered(world, sam, run):
    EmailOptOut.objects.create(organisation=world.clinic, address="sam@example.org")
    sam.email = "Sam@Example.org"
    sam.save()
    assert run().not_delivered == 1
    assert status_of(sam) == f"not delivered: {UNSUBSCRIBED}"
    assert run(NOW + dt.timedelta(minutes=1)) == run(NOW + dt.timedelta(minutes=2))
    assert not mail.outbox


def test_an_address_the_mail_server_refuses_shows_failed_with_its_answer(world, sam, run, settings):
    with smtp_server() as (inbox, port):
        use_smtp(settings, port)
        inbox.refuse_recipients_with = "550 5.1.1 No such mailbox"
        run()
    email = OutboxEmail.objects.get()
    assert email.status == EmailStatus.FAILED
    assert status_of(sam) == "failed: 5.1.1 No such mailbox"
    assert run(NOW + 3 * DAY).reminded == 0  # no reminder after a refused email


# --- Reminders ---------------------------------------------------------------------------


def test_one_reminder_goes_after_two_days_with_the_same_working_link(world, sam, run):
    run()
    assert run(NOW + 2 * DAY - dt.timedelta(minutes=1)).reminded == 0
    assert run(NOW + 2 * DAY).reminded == 1
    assert run(NOW + 3 * DAY).reminded == 0  # the clinic's default: one reminder
    first, reminder = mail.outbox
    assert link_path_of(first) == link_path_of(reminder)
    assert "still open" in reminder.body
    assert_no_clinical_content(world, reminder.subject, reminder.body)
    assert OutboxEmail.objects.filter(kind=EmailKind.QUESTIONNAIRE_REMINDER).count() == 1
    assert status_of(sam).startswith("reminded")

    done = world.browser("anonymous").post(link_path_of(reminder), {**answers(), "finish": "1"})
    assert done.status_code == 200 and b"Thank you" in done.content
    assert status_of(sam) == "completed"


def test_completing_the_questionnaire_stops_its_reminders(world, sam, run):
    AssessmentSettings.objects.create(
        organisation=world.clinic, link_valid_days=10, reminder_count=3, remind_after_days=3
    )
    run()
    world.browser("anonymous").post(link_path_of(mail.outbox[0]), {**answers(), "finish": "1"})
    for day in range(1, 10):
        assert run(NOW + day * DAY).reminded == 0
    assert len(mail.outbox) == 1


def test_a_questionnaire_completed_another_way_stops_reminders(world, sam, run):
    run()
    give_scs(sam, sam.organisation.today(), 4, 2)  # a paper form in session
    assert run(NOW + 2 * DAY).reminded == 0
    assert len(mail.outbox) == 1


def test_a_schedule_paused_after_the_email_stops_reminders(world, sam, run):
    run()
    assessment_schedule_set(actor=world.clinician, client=sam, every_weeks=None)
    assert run(NOW + 2 * DAY).reminded == 0
    assert len(mail.outbox) == 1


def test_reminders_follow_the_clinics_plan_and_stop_when_the_link_expires(world, sam, run):
    AssessmentSettings.objects.create(
        organisation=world.clinic, link_valid_days=7, reminder_count=3, remind_after_days=2
    )
    run()
    sent = [run(NOW + day * DAY).reminded for day in range(1, 10)]
    assert sent == [0, 1, 0, 1, 0, 1, 0, 0, 0]
    assert status_of(sam) == "expired"


def test_no_reminder_once_the_client_is_discharged_or_unsubscribes(world, sam, run):
    run()
    email_opt_out(email=OutboxEmail.objects.get())
    assert run(NOW + 2 * DAY).reminded == 0
    EmailOptOut.objects.all().delete()
    sam.status = ClientStatus.DISCHARGED
    sam.save()
    assert run(NOW + 2 * DAY).reminded == 0
    assert len(mail.outbox) == 1


def test_a_reminder_after_the_secret_key_changed_still_carries_a_working_link(
    world, sam, run, settings
):
    run()
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    run(NOW + 2 * DAY)
    link = OneTimeLink.objects.get()
    token = link_path_of(mail.outbox[1]).rstrip("/").rsplit("/", 1)[1]
    assert link.token_hash == hash_token(token)
    assert world.browser("anonymous").get(link_path_of(mail.outbox[1])).status_code == 200


def test_two_runs_at_once_send_each_reminder_once(world, sam, run):
    """Several consumers run the task: the reminder is claimed by a conditional update."""
    from assessments.selectors import reminders_due
    from assessments.services import invitation_remind

    run()
    (owed,) = reminders_due(NOW + 2 * DAY, {})
    (again,) = reminders_due(NOW + 2 * DAY, {})
    assert invitation_remind(invitation=owed, number=1) is not None
    assert invitation_remind(invitation=again, number=1) is None
    assert OutboxEmail.objects.filter(kind=EmailKind.QUESTIONNAIRE_REMINDER).count() == 1


# --- What staff see ----------------------------------------------------------------------


def test_opening_the_link_is_recorded_in_the_audit_trail_only_and_shown_as_opened(world, sam, run):
    run()
    path = link_path_of(mail.outbox[0])
    anonymous = world.browser("anonymous")
    with CaptureQueriesContext(connection) as queries:
        anonymous.get(path)
    writes = [q["sql"] for q in queries if q["sql"].split()[0].upper() in ("INSERT", "UPDATE")]
    assert len(writes) == 1 and "clinic_auditevent" in writes[0]
    anonymous.get(path)
    assert status_of(sam) == "opened"
    (row,) = client_invitations(sam, timezone.now())
    assert [step.status for step in row["steps"]] == ["scheduled", "sent", "opened"]


def test_staff_see_each_invitation_with_its_status_on_the_clients_assessments_page(world, sam, run):
    run()
    url = reverse("assessments:client_assessments", args=[sam.pk])
    page = world.browser("clinician").get(url).content.decode()
    assert "Scheduled questionnaires" in page
    assert "scheduled" in page and "sent" in page and "by the schedule" in page


def test_the_assessments_page_runs_the_same_queries_with_one_or_ten_invitations(world, sam, run):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = world.browser("clinician").get(
                reverse("assessments:client_assessments", args=[sam.pk])
            )
            assert response.status_code == 200
        return len(queries)

    run()
    world.browser("anonymous").get(link_path_of(mail.outbox[0]))
    one = count()
    when = NOW
    for _ in range(9):  # a questionnaire done on paper, and the next one due four weeks on
        give_scs(sam, sam.organisation.today(), 3, 3)
        when += 28 * DAY
        run(when)
    assert sam.questionnaire_invitations.count() == 10
    assert count() == one


# --- The clinic's settings -----------------------------------------------------------------


def test_a_clinic_admin_sets_link_validity_and_reminders_within_plausible_ranges(world):
    http = world.browser("clinic_admin")
    url = reverse("assessments:delivery_settings")
    page = http.get(url)
    assert page.status_code == 200 and b'value="4"' in page.content

    refused = http.post(
        url, {"link_valid_days": "40", "reminder_count": "1", "remind_after_days": "2"}
    )
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "Nothing was saved" in html and 'value="40"' in html
    assert "less than or equal to 30" in html
    assert not AssessmentSettings.objects.exists()

    late = http.post(url, {"link_valid_days": "4", "reminder_count": "2", "remind_after_days": "2"})
    assert late.status_code == 400
    assert "The last reminder would go on day 4" in late.content.decode()
    assert not AssessmentSettings.objects.exists()

    saved = http.post(
        url, {"link_valid_days": "7", "reminder_count": "0", "remind_after_days": "3"}
    )
    assert saved.status_code == 302
    settings = AssessmentSettings.objects.get(organisation=world.clinic)
    assert (settings.link_valid_days, settings.reminder_count, settings.every_weeks) == (7, 0, 4)


def test_the_settings_page_runs_a_fixed_number_of_queries(world, django_assert_num_queries):
    http = world.browser("clinic_admin")
    url = reverse("assessments:delivery_settings")
    http.get(url)
    # session, user, clinic; the settings; the session's new expiry (savepoint, update, release)
    with django_assert_num_queries(7):
        http.get(url)
