"""The transactional outbox: written with the change that causes it, sent once, answer kept."""

import datetime as dt

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from clinic import outbox
from clinic.mail import deliver, mail_connection, message_id
from clinic.models import ClientStatus, EmailKind, EmailOptOut, EmailStatus, OutboxEmail
from tests.mailserver import smtp_server, use_smtp

LEASE = dt.timedelta(minutes=10)


def queue(world, key="test:1", kind=EmailKind.INVITATION, **extra) -> OutboxEmail | None:
    return outbox.email_enqueue(
        key=key,
        kind=kind,
        to=extra.pop("to", "sam@example.org"),
        template="reminder" if kind == EmailKind.REMINDER else "invitation",
        context={"link": "https://selfkind.example.org/t/x/", "valid_days": 7},
        organisation=world.clinic,
        client=extra.pop("client", world.client_record),
        **extra,
    )


@pytest.fixture
def later():
    """A moment after any lease taken now has run out."""
    return timezone.now() + LEASE + dt.timedelta(seconds=1)


def test_an_email_is_sent_once_the_transaction_that_queued_it_commits(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        email = queue(world)
        assert mail.outbox == []
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["sam@example.org"]
    assert sent.extra_headers["Message-ID"] == message_id("test:1")
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT and email.sent_at is not None
    assert email.attempts == 1


def test_an_email_queued_by_a_change_that_rolls_back_does_not_exist(
    world, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        queue(world)
        raise RuntimeError("the change failed")
    assert not OutboxEmail.objects.exists()
    assert mail.outbox == []


def test_the_body_with_its_one_time_link_is_erased_once_sent(world):
    email = queue(world)
    assert "/t/x/" in email.body
    outbox.outbox_send(email.pk)
    email.refresh_from_db()
    assert email.body == ""
    assert email.subject == "A message from Riverside Counseling"


def test_queueing_the_same_key_twice_queues_it_once(world):
    assert queue(world) is not None
    assert queue(world) is None
    assert OutboxEmail.objects.count() == 1


def test_a_row_marked_sent_is_never_sent_again(world, later):
    email = queue(world)
    outbox.outbox_send(email.pk)
    outbox.outbox_send(email.pk)
    outbox.outbox_sweep(now=later)
    assert len(mail.outbox) == 1


def test_of_two_consumers_claiming_the_same_row_only_one_wins(world):
    email = queue(world)
    now = timezone.now()
    assert outbox.outbox_claim(email.pk, now=now) is not None
    assert outbox.outbox_claim(email.pk, now=now) is None


def test_a_row_whose_consumer_died_before_sending_is_sent_once_its_lease_runs_out(world, later):
    email = queue(world)
    outbox.outbox_claim(email.pk, now=timezone.now())  # ... and the consumer dies here
    outbox.outbox_sweep()
    assert mail.outbox == []  # still leased to the dead consumer
    sweep = outbox.outbox_sweep(now=later)
    assert sweep.sent_or_tried == 1
    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT and email.attempts == 2


def test_death_between_the_servers_acceptance_and_the_record_resends_with_the_same_message_id(
    world, later
):
    """The one case that is at least once, not exactly once (see clinic/outbox.py)."""
    email = queue(world)
    claimed = outbox.outbox_claim(email.pk, now=timezone.now())
    with mail_connection() as connection:
        assert deliver(outbox.outbox_message(claimed), connection).accepted  # ... and it dies
    outbox.outbox_sweep(now=later)
    assert len(mail.outbox) == 2
    first, second = mail.outbox
    assert first.extra_headers["Message-ID"] == second.extra_headers["Message-ID"]


def test_a_row_queued_while_no_consumer_ran_is_sent_by_the_sweep(world):
    email = queue(world)  # the task never ran: no commit in this test
    assert outbox.outbox_sweep().sent_or_tried == 0  # too fresh: its task may still be coming
    outbox.outbox_sweep(now=timezone.now() + outbox.SWEEP_GRACE)
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT


def test_the_server_accepting_is_recorded_with_its_reply(world, settings):
    with smtp_server() as (inbox, port):
        use_smtp(settings, port)
        email = queue(world)
        outbox.outbox_send(email.pk)
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT
    assert (email.smtp_code, email.smtp_reply) == (250, "2.0.0 Ok: queued as TEST1")
    assert inbox.message_ids() == [message_id("test:1")]
    assert inbox.messages[0]["Auto-Submitted"] == "auto-generated"


def test_a_refused_recipient_fails_for_good_with_the_servers_reason(world, settings):
    with smtp_server() as (inbox, port):
        use_smtp(settings, port)
        inbox.refuse_recipients_with = "550 5.1.1 No such mailbox here"
        email = queue(world)
        assert outbox.outbox_send(email.pk) is None
    email.refresh_from_db()
    assert email.status == EmailStatus.FAILED
    assert (email.smtp_code, email.smtp_reply) == (550, "5.1.1 No such mailbox here")
    assert email.body == ""


def test_a_temporary_refusal_is_tried_again_later_with_a_growing_delay(world, settings):
    with smtp_server() as (inbox, port):
        use_smtp(settings, port)
        inbox.refuse_recipients_with = "451 4.7.1 Greylisted, try again"
        email = queue(world)
        now = timezone.now()
        assert outbox.outbox_send(email.pk, now=now) == 60
        email.refresh_from_db()
        assert email.status == EmailStatus.QUEUED
        assert email.not_before == now + dt.timedelta(minutes=1)
        assert (email.smtp_code, email.smtp_reply) == (451, "4.7.1 Greylisted, try again")
        assert outbox.outbox_send(email.pk, now=now) is None  # not due yet
        assert outbox.outbox_send(email.pk, now=email.not_before) == 120
        inbox.refuse_recipients_with = None
        email.refresh_from_db()
        outbox.outbox_send(email.pk, now=email.not_before)
    email.refresh_from_db()
    assert email.status == EmailStatus.SENT and email.attempts == 3
    assert len(inbox.messages) == 1


def test_an_unreachable_server_is_given_up_after_the_last_attempt(world, settings):
    use_smtp(settings, port=9)  # nothing listens on the discard port here
    email = queue(world)
    now = timezone.now()
    for _ in range(outbox.MAX_ATTEMPTS):
        email.refresh_from_db()
        now = max(now, email.not_before)
        outbox.outbox_send(email.pk, now=now)
    email.refresh_from_db()
    assert email.status == EmailStatus.FAILED
    assert email.attempts == outbox.MAX_ATTEMPTS
    assert email.smtp_code is None and "ConnectionRefusedError" in email.smtp_reply


def test_a_reminder_carries_one_click_unsubscribe_headers_and_an_invitation_does_not(world):
    reminder = queue(world, key="r:1", kind=EmailKind.REMINDER)
    invitation = queue(world, key="i:1")
    outbox.outbox_send(reminder.pk)
    outbox.outbox_send(invitation.pk)
    sent_reminder, sent_invitation = mail.outbox
    link = f"http://127.0.0.1:8000/t/unsubscribe/{reminder.ref}/"
    assert sent_reminder.extra_headers["List-Unsubscribe"] == f"<{link}>"
    assert sent_reminder.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link in sent_reminder.body
    assert "List-Unsubscribe" not in sent_invitation.extra_headers


def test_no_reminder_is_queued_to_an_address_that_unsubscribed(world):
    EmailOptOut.objects.create(organisation=world.clinic, address="sam@example.org")
    assert queue(world, kind=EmailKind.REMINDER, to="Sam@Example.org") is None
    assert queue(world, key="i:1") is not None  # an invitation still goes


def test_a_reminder_queued_before_the_client_unsubscribed_is_not_sent(world):
    first = queue(world, key="r:1", kind=EmailKind.REMINDER)
    second = queue(world, key="r:2", kind=EmailKind.REMINDER)
    outbox.email_opt_out(email=first)
    outbox.outbox_send(second.pk)
    second.refresh_from_db()
    assert second.status == EmailStatus.CANCELLED
    assert second.smtp_reply == "Not sent: unsubscribed"
    assert mail.outbox == []


def test_a_reminder_claimed_after_the_client_was_discharged_is_not_sent(world):
    email = queue(world, kind=EmailKind.REMINDER)
    world.client_record.status = ClientStatus.DISCHARGED
    world.client_record.save()
    outbox.outbox_send(email.pk)
    email.refresh_from_db()
    assert email.status == EmailStatus.CANCELLED
    assert "not in active care" in email.smtp_reply
    assert mail.outbox == []
