"""Staff invite a colleague or a client by email; the copy-a-link page stays as the fallback."""

import re

from django.core import mail
from django.urls import reverse

from clinic.models import AuditEvent, EmailKind, EmailStatus, OutboxEmail, Role, User
from tests.clinic.test_invitations import NEW_PASSWORD, accept


def emailed_link(message) -> str:
    match = re.search(r"http://127\.0\.0\.1:8000(/t/invite/\S+/)", message.body)
    assert match, "an invitation link under /t/"
    return match.group(1)


def test_a_clinic_admin_invites_a_colleague_by_email_who_then_logs_in(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = world.browser("clinic_admin").post(
            reverse("clinic:staff_invite"),
            {
                "username": "jo",
                "first_name": "Jo",
                "email": "jo@example.org",
                "role": Role.CLINICIAN,
                "by_email": "on",
            },
        )
    assert response["Location"] == reverse("clinic:staff_list")
    (message,) = mail.outbox
    assert message.to == ["jo@example.org"]
    assert message.subject == "A message from Riverside Counseling"
    http = accept(emailed_link(message))
    assert "Log in with your login name, jo." in http.get(reverse("login")).content.decode()
    assert User.objects.get(username="jo").check_password(NEW_PASSWORD)
    assert OutboxEmail.objects.get().status == EmailStatus.SENT


def test_the_invitation_is_not_shown_to_the_inviter_when_it_is_emailed(world):
    response = world.browser("clinic_admin").post(
        reverse("clinic:staff_invite"),
        {"username": "jo", "first_name": "Jo", "email": "jo@example.org", "role": "clinician"}
        | {"by_email": "on"},
        follow=True,
    )
    assert "/t/invite/" not in response.content.decode()
    assert "on its way to jo@example.org" in response.content.decode()


def test_emailing_an_invitation_needs_an_address_and_keeps_what_was_typed(world):
    response = world.browser("clinic_admin").post(
        reverse("clinic:staff_invite"),
        {"username": "jo", "first_name": "Jo", "role": Role.CLINICIAN, "by_email": "on"},
    )
    assert response.status_code == 200
    assert "Enter the address" in response.context["form"].errors["email"][0]
    assert 'value="jo"' in response.content.decode()
    assert not User.objects.filter(username="jo").exists()
    assert not OutboxEmail.objects.exists()


def a_client_without_a_login(world, email: str = ""):
    """The clinician's client RC-003, not yet invited to the portal."""
    record = world.other_clinic_record
    record.organisation, record.primary_clinician, record.code = (
        world.clinic,
        world.clinician,
        "RC-003",
    )
    record.email = email
    record.save()
    return record


def test_a_clinician_emails_a_portal_invitation_to_the_address_on_the_record(
    world, django_capture_on_commit_callbacks
):
    record = a_client_without_a_login(world, email="hale@example.org")
    http = world.browser("clinician")
    url = reverse("clinic:client_portal_invite", args=[record.pk])
    assert "Email the link to hale@example.org" in http.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post(url, {"username": "hale", "by_email": "on"})
    assert response["Location"] == reverse("clinic:client_detail", args=[record.pk])
    (message,) = mail.outbox
    assert message.to == ["hale@example.org"]
    accept(emailed_link(message))
    assert User.objects.get(username="hale").check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(client=record, action="portal_invite")
    assert event.fields == ["invitation_email", "user"]
    assert OutboxEmail.objects.get().kind == EmailKind.INVITATION


def test_a_record_without_an_address_falls_back_to_the_link_shown_once(world):
    record = a_client_without_a_login(world)
    http = world.browser("clinician")
    url = reverse("clinic:client_portal_invite", args=[record.pk])
    page = http.get(url).content.decode()
    assert "Email the link" not in page and "no email address on this record" in page
    response = http.post(url, {"username": "hale", "by_email": "on"})
    assert "/t/invite/" in response.content.decode()
    assert not OutboxEmail.objects.exists()
