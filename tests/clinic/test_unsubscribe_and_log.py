"""One-click unsubscribe from reminders (no login), and the clinic admin's delivery log."""

import uuid

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from clinic import outbox
from clinic.models import EmailKind, EmailOptOut, EmailStatus, OutboxEmail
from tests.factories import make_organisation


def reminder(world, key="r:1", organisation=None) -> OutboxEmail:
    return outbox.email_enqueue(
        key=key,
        kind=EmailKind.REMINDER,
        to="Sam@Example.org",
        template="reminder",
        context={"link": "http://127.0.0.1:8000/tracking/me/practice/"},
        organisation=organisation or world.clinic,
        client=world.client_record,
    )


def test_opening_the_link_asks_and_changes_nothing(world):
    email = reminder(world)
    page = HttpClient().get(reverse("unsubscribe", args=[email.ref]))
    assert page.status_code == 200
    assert "Stop reminders from Riverside Counseling?" in page.content.decode()
    assert not EmailOptOut.objects.exists()


def test_one_click_from_a_mail_client_unsubscribes_at_once_without_a_login(world):
    """RFC 8058: the mail client POSTs List-Unsubscribe=One-Click, with no CSRF token."""
    first = reminder(world)
    waiting = reminder(world, key="r:2")
    http = HttpClient(enforce_csrf_checks=True)
    response = http.post(
        reverse("unsubscribe", args=[first.ref]), {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    assert EmailOptOut.objects.get().address == "sam@example.org"
    waiting.refresh_from_db()
    assert waiting.status == EmailStatus.CANCELLED
    assert reminder(world, key="r:3") is None


def test_unsubscribing_twice_is_harmless(world):
    email = reminder(world)
    HttpClient().post(reverse("unsubscribe", args=[email.ref]))
    assert HttpClient().post(reverse("unsubscribe", args=[email.ref])).status_code == 200
    assert EmailOptOut.objects.count() == 1


def test_unsubscribing_from_one_clinic_leaves_another_clinics_reminders(world):
    elsewhere = make_organisation("Elsewhere")
    HttpClient().post(reverse("unsubscribe", args=[reminder(world).ref]))
    assert reminder(world, key="r:9", organisation=elsewhere) is not None


def invitation(organisation, key="i:1", to="jo@example.org") -> OutboxEmail:
    return outbox.email_enqueue(
        key=key,
        kind=EmailKind.INVITATION,
        to=to,
        template="invitation",
        context={"link": "http://127.0.0.1:8000/t/invite/x/", "valid_days": 7},
        organisation=organisation,
    )


def test_an_unknown_link_or_one_to_an_invitation_answers_404(world):
    http = HttpClient()
    assert http.get(reverse("unsubscribe", args=[uuid.uuid4()])).status_code == 404
    assert http.post(reverse("unsubscribe", args=[invitation(world.clinic).ref])).status_code == 404


def test_the_unsubscribe_page_runs_a_fixed_number_of_queries(world, django_assert_num_queries):
    email = reminder(world)
    with django_assert_num_queries(1):
        HttpClient().get(reverse("unsubscribe", args=[email.ref]))
    # the row; the opt-out looked up and written; queued reminders dropped; savepoints (4)
    with django_assert_num_queries(8):
        HttpClient().post(reverse("unsubscribe", args=[email.ref]))


@pytest.fixture
def failed_invitation(world):
    email = invitation(world.clinic)
    OutboxEmail.objects.filter(pk=email.pk).update(
        status=EmailStatus.FAILED, smtp_code=550, smtp_reply="5.1.1 No such mailbox", body=""
    )
    return email


def test_a_clinic_admin_sees_each_email_with_the_servers_answer(world, failed_invitation):
    invitation(world.other_clinic, key="other-clinic", to="elsewhere@example.org")
    page = world.browser("clinic_admin").get(reverse("clinic:email_log")).content.decode()
    assert "jo@example.org" in page and "550 5.1.1 No such mailbox" in page
    assert "elsewhere@example.org" not in page
    assert "/t/invite/" not in page


def test_the_delivery_log_runs_a_fixed_number_of_queries(
    world, failed_invitation, django_assert_num_queries
):
    http = world.browser("clinic_admin")
    url = reverse("clinic:email_log")
    http.get(url)
    # session, user, clinic, count, one page of rows; the session saved (3)
    with django_assert_num_queries(8):
        assert http.get(url).status_code == 200
    for n in range(80):
        reminder(world, key=f"r:{n}")
    with django_assert_num_queries(8):
        assert http.get(url).status_code == 200
