"""End to end, with nothing stood in for: the web app queues email in its own transactions, a
real consumer process sends it to a real SMTP server, and the links in it work. A consumer
killed in the middle of a batch and restarted delivers every email exactly once."""

import datetime as dt
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.test import Client as HttpClient
from django.urls import reverse

from clinic import outbox
from clinic.mail import message_id
from clinic.models import EmailKind, EmailOptOut, EmailStatus, OutboxEmail, Role, User
from tests.clinic.test_invitations import NEW_PASSWORD, accept
from tests.delivery.harness import WORKERS, Consumer, shared_queue  # noqa: F401
from tests.mailserver import smtp_server, wait_until
from tracking.models import Reminder, ReminderPurpose
from tracking.services import reminders_enqueue_due

# serialized_rollback: the data migrations (built-in tags, triggers) survive the flush.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WAIT = 60  # seconds: a bound on waiting on a loaded machine, never a measurement


@pytest.fixture
def inbox_and_consumer(shared_queue, tmp_path):  # noqa: F811
    with smtp_server() as (inbox, port):
        consumer = Consumer(queue_file=shared_queue, smtp_port=port, log=tmp_path / "consumer.log")
        try:
            yield inbox, consumer
        finally:
            consumer.stop()


def path_of(url: str) -> str:
    return urlsplit(url).path


def statuses() -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in OutboxEmail.objects.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


def test_emails_the_app_queues_reach_a_real_smtp_server_once_and_their_links_work(
    world, inbox_and_consumer
):
    inbox, consumer = inbox_and_consumer
    consumer.start()

    # A clinic admin invites a colleague by email; the colleague sets a password from it.
    world.browser("clinic_admin").post(
        reverse("clinic:staff_invite"),
        {"username": "jo", "first_name": "Jo", "email": "jo@example.org"}
        | {"role": Role.CLINICIAN, "by_email": "on"},
    )
    wait_until(lambda: len(inbox.messages) == 1, seconds=WAIT, what="the invitation")
    invitation = inbox.messages[0]
    row = OutboxEmail.objects.get(kind=EmailKind.INVITATION)
    assert invitation["To"] == "jo@example.org"
    assert invitation["Subject"] == "A message from Riverside Counseling"
    assert invitation["Message-ID"] == message_id(row.key)
    (link,) = inbox.links(invitation)
    accept(path_of(link))
    assert User.objects.get(username="jo").check_password(NEW_PASSWORD)
    wait_until(
        lambda: OutboxEmail.objects.get(pk=row.pk).status == EmailStatus.SENT,
        seconds=WAIT,
        what="the invitation marked sent",
    )
    row.refresh_from_db()
    assert (row.smtp_code, row.smtp_reply, row.body) == (250, "2.0.0 Ok: queued as TEST1", "")

    # A client's practice reminder falls due; one click on its unsubscribe header stops them.
    record = world.client_record
    record.email = "sam@example.org"
    record.save()
    Reminder.objects.create(
        client=record, purpose=ReminderPurpose.PRACTICE, weekdays=[0], local_time=dt.time(8)
    )
    monday_morning = dt.datetime(2026, 3, 2, 8, 1, tzinfo=dt.UTC)
    assert reminders_enqueue_due(now=monday_morning) == 1
    wait_until(lambda: len(inbox.messages) == 2, seconds=WAIT, what="the reminder")
    reminder = inbox.messages[1]
    assert reminder["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = path_of(str(reminder["List-Unsubscribe"]).strip().strip("<>"))
    answer = HttpClient().post(unsubscribe, {"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200, (unsubscribe, answer.status_code)
    assert EmailOptOut.objects.filter(address="sam@example.org").exists()
    assert reminders_enqueue_due(now=monday_morning + dt.timedelta(days=7)) == 0

    consumer.stop()  # graceful: nothing is in flight any more, nothing more can be sent
    assert len(inbox.messages) == 2, consumer.output()
    assert statuses() == {EmailStatus.SENT: 2}


def test_a_consumer_killed_in_the_middle_of_a_batch_and_restarted_delivers_each_email_once(
    world, inbox_and_consumer
):
    inbox, consumer = inbox_and_consumer
    batch = 20
    inbox.hold_from = 6  # the server takes five, then leaves every sender waiting for an answer
    consumer.start()
    with transaction.atomic():
        for n in range(batch):
            outbox.email_enqueue(
                key=f"batch:{n}",
                kind=EmailKind.INVITATION,
                to=f"person{n}@example.org",
                template="invitation",
                context={"link": f"http://127.0.0.1:8000/t/invite/{n}/", "valid_days": 7},
                organisation=world.clinic,
            )
    wait_until(lambda: inbox.holding == WORKERS, seconds=WAIT, what="every worker waiting mid-send")

    consumer.kill()
    # At the kill: five delivered and recorded, one message in flight per worker (the server
    # never answered them), the rest still queued.
    assert len(inbox.messages) == 5
    assert statuses() == {
        EmailStatus.SENT: 5,
        EmailStatus.SENDING: WORKERS,
        EmailStatus.QUEUED: batch - 5 - WORKERS,
    }
    inbox.hold_from = None
    inbox.release.set()

    consumer.start()
    wait_until(
        lambda: statuses() == {EmailStatus.SENT: batch},
        seconds=WAIT,
        what="every email of the batch sent",
    )
    consumer.stop()
    received = inbox.message_ids()
    assert sorted(received) == sorted(message_id(f"batch:{n}") for n in range(batch)), (
        consumer.output()
    )
