"""Scheduled questionnaires end to end, with nothing stood in for: a real consumer process runs
the periodic task, which finds the due schedules and queues the emails; the consumer sends them
to a real SMTP server; the link in the email completes the questionnaire, its status reads
"completed", and no reminder goes to that client, while a client who did not answer gets one
reminder whose link works too."""

import datetime as dt
from urllib.parse import urlsplit

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from assessments.selectors import client_invitations
from assessments.services import invitations_send_due
from clinic.models import EmailKind, OutboxEmail
from tests.dashboard.helpers import give_scs
from tests.delivery.harness import Consumer, every_email_sent, shared_queue  # noqa: F401
from tests.mailserver import Inbox, smtp_server, wait_until

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WAIT = 60  # seconds: a bound on waiting on a loaded machine, never a measurement


def link_of(message) -> str:
    (url,) = [link for link in Inbox.links(message) if "/t/a/" in link]
    return urlsplit(url).path


def to(inbox, address: str) -> list:
    return [message for message in inbox.messages if message["To"] == address]


def status_of(client) -> str:
    return client_invitations(client, timezone.now())[0]["status"].label


def test_a_due_schedule_emails_a_link_that_completes_the_questionnaire_and_no_reminder_follows(
    world,
    shared_queue,  # noqa: F811
    tmp_path,
):
    from assessments.tasks import send_due_questionnaires

    today = world.clinic.today()
    sam, pat = world.client_record, world.other_client_record
    for record, address in ((sam, "sam@example.org"), (pat, "pat@example.org")):
        record.email = address
        record.save()
        give_scs(record, today - dt.timedelta(weeks=5), 3, 3)  # due a week ago
    give_scs(world.other_clinic_record, today, 3, 3)  # not due

    with smtp_server() as (inbox, port):
        consumer = Consumer(queue_file=shared_queue, smtp_port=port, log=tmp_path / "log")
        consumer.start()
        try:
            send_due_questionnaires()  # the periodic task, run by the consumer
            wait_until(lambda: len(inbox.messages) == 2, seconds=WAIT, what="two invitations")
            (invitation,) = to(inbox, "sam@example.org")
            assert invitation["Subject"] == "A message from Riverside Counseling"
            assert "a short questionnaire from Riverside Counseling" in invitation.get_content()

            # Sam follows the link and completes the questionnaire.
            browser = HttpClient()
            assert browser.get(link_of(invitation)).status_code == 200
            answers = {f"item_{n}": "3" for n in range(1, 27)} | {"finish": "1"}
            done = browser.post(link_of(invitation), answers)
            assert done.status_code == 200 and b"Thank you" in done.content
            assert status_of(sam) == "completed"

            # Two days on, the reminders fall due: Pat's, not Sam's.
            later = timezone.now() + dt.timedelta(days=2, minutes=1)
            assert invitations_send_due(now=later).reminded == 1
            wait_until(lambda: len(inbox.messages) == 3, seconds=WAIT, what="one reminder")
            (first, reminder) = to(inbox, "pat@example.org")
            assert link_of(reminder) == link_of(first)
            assert HttpClient().get(link_of(reminder)).status_code == 200
            wait_until(every_email_sent, seconds=WAIT, what="every email marked sent")
        finally:
            consumer.stop()

    assert len(to(inbox, "sam@example.org")) == 1, consumer.output()
    assert len(inbox.messages) == 3
    assert sorted(OutboxEmail.objects.values_list("kind", flat=True)) == [
        EmailKind.QUESTIONNAIRE,
        EmailKind.QUESTIONNAIRE,
        EmailKind.QUESTIONNAIRE_REMINDER,
    ]
    assert status_of(sam) == "completed"
    (pats,) = client_invitations(pat, timezone.now())
    assert [step.status for step in pats["steps"]] == ["scheduled", "sent", "reminded", "opened"]
