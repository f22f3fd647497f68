"""No clinical content in any email: not the client's name or code, no score, no questionnaire
name. Subjects say only "A message from <clinic>"."""

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from assessments.instruments import all_instruments
from assessments.services import invitation_remind, invitations_send_due
from clinic import outbox
from clinic.models import EmailKind, OutboxEmail
from tracking.models import Reminder, ReminderPurpose
from tracking.services import reminders_enqueue_due

EMAIL_TEMPLATES = sorted(
    path.name.removesuffix("_body.txt")
    for path in Path(settings.BASE_DIR).glob("*/templates/emails/*_body.txt")
)


def forbidden_words(world) -> list[str]:
    record = world.client_record
    words = [record.display_name, record.code, world.client.first_name, world.client.username]
    for instrument in all_instruments():
        words += [instrument.name, instrument.short_name]
    return [*words, "3.42", "self-compassion", "inner critic", "inner-critic", "score"]


def assert_no_clinical_content(world, subject: str, body: str) -> None:
    assert subject == "A message from Riverside Counseling"
    text = f"{subject}\n{body}".lower()
    leaked = [word for word in forbidden_words(world) if word.lower() in text]
    assert not leaked, f"clinical content in an email: {leaked}"


def test_every_email_template_is_found():
    assert EMAIL_TEMPLATES == [
        "invitation",
        "password_reset",
        "questionnaire",
        "questionnaire_reminder",
        "records_due",
        "reminder",
        "safety_notice",
        "security_notice",
    ]


@pytest.mark.parametrize("template", EMAIL_TEMPLATES)
def test_no_template_shows_clinical_content_even_when_given_it(world, template):
    """Rendered with everything a careless caller might pass: the client, their login, a
    score, a questionnaire."""
    subject, body = outbox.email_render(
        template,
        {
            "clinic": "Riverside Counseling",
            "link": "https://selfkind.example.org/t/x/",
            "unsubscribe_url": "https://selfkind.example.org/t/unsubscribe/x/",
            "valid_days": 7,
            "valid_until": "Friday 6 March at 09:00",
            "client": world.client_record,
            "user": world.client,
            "score": 3.42,
            "instrument": all_instruments()[0],
        },
    )
    assert_no_clinical_content(world, subject, body)
    assert "https://selfkind.example.org/t/x/" in body


def test_the_emails_the_services_send_carry_no_clinical_content(
    world, django_capture_on_commit_callbacks
):
    record = world.client_record
    record.email = world.client.email = "sam@example.org"
    record.save()
    world.client.save()
    Reminder.objects.create(
        client=record, purpose=ReminderPurpose.PRACTICE, weekdays=[0], local_time=dt.time(8)
    )
    with django_capture_on_commit_callbacks(execute=True):
        world.browser("anonymous").post(reverse("password_reset"), {"email": "sam@example.org"})
        world.browser("clinic_admin").post(
            reverse("clinic:staff_invite"),
            {"username": "jo", "first_name": "Sam", "email": "jo@example.org"}
            | {"role": "clinician", "by_email": "on"},
        )
        reminders_enqueue_due(now=dt.datetime(2026, 3, 2, 8, 1, tzinfo=dt.UTC))  # a Monday
        invitations_send_due()  # the client's SCS is due: a scheduled questionnaire
        invitation_remind(invitation=record.questionnaire_invitations.get(), number=1)
    kinds = set(OutboxEmail.objects.values_list("kind", flat=True))
    assert kinds == {
        EmailKind.PASSWORD_RESET,
        EmailKind.INVITATION,
        EmailKind.REMINDER,
        EmailKind.QUESTIONNAIRE,
        EmailKind.QUESTIONNAIRE_REMINDER,
    }
    assert len(mail.outbox) == 5
    for message in mail.outbox:
        assert_no_clinical_content(world, message.subject, message.body)
