"""The clinic's side of the safety pathway: crisis contacts a clinic admin keeps and every client
page links to, and safety signals routed to the primary clinician and the safety contacts,
acknowledged with an action and a note."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from clinic.models import (
    AuditEvent,
    CrisisContact,
    EmailKind,
    OutboxEmail,
    Role,
    SafetySignal,
    SignalKind,
    SignalSource,
)
from clinic.notify import initials, safety_notice_enqueue
from clinic.safety import safety_recipients, safety_signal_raise
from tests.factories import make_client, make_user

pytestmark = pytest.mark.django_db
CONTACTS = reverse("clinic:crisis_contacts")
HELP = reverse("clinic:portal_help")


def add_contact(world, **fields):
    return CrisisContact.objects.create(
        organisation=world.clinic,
        **{"name": "Samaritans", "phone": "116 123", "hours": "24 hours, every day", **fields},
    )


def raise_signal(world, client=None, **fields):
    values = {
        "kind": SignalKind.SAFETY,
        "source": SignalSource.PRACTICE,
        "source_id": 7,
        "actor": world.client,
        **fields,
    }
    return safety_signal_raise(client=client or world.client_record, **values)


def signal_url(signal) -> str:
    return reverse("clinic:safety_signal", kwargs={"pk": signal.pk})


# --- Crisis contacts ---------------------------------------------------------------------------


def test_a_clinic_admin_adds_a_crisis_contact_and_the_client_sees_it_one_tap_away(world):
    admin = world.browser("clinic_admin")
    response = admin.post(
        CONTACTS,
        {
            "name": " Samaritans ",
            "phone": "116 123",
            "text_line": "",
            "hours": "24 hours, every day",
            "note": "Free from any phone.",
            "position": 1,
        },
    )
    assert response.status_code == 302
    contact = CrisisContact.objects.get(organisation=world.clinic)
    assert (contact.name, contact.tel) == ("Samaritans", "116123")
    page = world.browser("client").get(HELP).content.decode()
    assert "Samaritans" in page and 'href="tel:116123"' in page
    assert "Selfkind is not monitored around the clock" in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"phone": "", "text_line": ""}, "Give a phone number or a text line (or both)."),
        ({"phone": "call us"}, "Phone: use digits, spaces and + ( ) - only"),
        ({"name": ""}, "Name is required (e.g. Samaritans)."),
        ({"position": "5000"}, "Order on the page must be between 0 and 999."),
    ],
)
def test_a_bad_crisis_contact_names_the_field_keeps_the_input_and_saves_nothing(
    world, fields, message
):
    data = {"name": "Shout", "phone": "", "text_line": "Text SHOUT to 85258", "position": 1}
    response = world.browser("clinic_admin").post(CONTACTS, {**data, **fields})
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert "Text SHOUT to 85258" in page or fields.get("text_line") == ""
    assert not CrisisContact.objects.exists()


def test_a_clinic_admin_changes_and_removes_a_contact_of_their_own_clinic_only(world):
    contact = add_contact(world)
    other = CrisisContact.objects.create(organisation=world.other_clinic, name="988", phone="988")
    admin = world.browser("clinic_admin")
    edit = reverse("clinic:crisis_contact_edit", kwargs={"pk": contact.pk})
    response = admin.post(edit, {"name": "Samaritans", "phone": "116 123", "position": 2})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.position, contact.hours) == (2, "")
    assert (
        admin.get(reverse("clinic:crisis_contact_edit", kwargs={"pk": other.pk})).status_code == 404
    )
    admin.post(reverse("clinic:crisis_contact_delete", kwargs={"pk": contact.pk}))
    assert not CrisisContact.objects.filter(pk=contact.pk).exists()
    assert CrisisContact.objects.filter(pk=other.pk).exists()


def test_a_clinic_without_contacts_shows_its_admin_a_clear_placeholder(world):
    admin = world.browser("clinic_admin")
    assert 'id="sk-no-crisis-contacts"' in admin.get(CONTACTS).content.decode()
    assert 'id="sk-no-crisis-contacts"' in admin.get(reverse("clinic:settings")).content.decode()
    page = world.browser("client").get(HELP).content.decode()
    assert "call your local emergency number" in page and 'id="sk-crisis-none"' in page
    add_contact(world)
    assert 'id="sk-no-crisis-contacts"' not in admin.get(CONTACTS).content.decode()


def test_manage_py_check_warns_about_each_clinic_without_crisis_contacts(world):
    add_contact(world)
    out = io.StringIO()
    call_command("check", stdout=out, stderr=out)
    text = out.getvalue()
    assert f"Clinic {world.other_clinic.slug!r} has no crisis contacts" in text
    assert f"Clinic {world.clinic.slug!r} has" not in text


PORTAL_PAGES = [
    "clinic:portal_home",
    "clinic:portal_help",
    "tracking:my_log",
    "tracking:my_practice",
    "tracking:my_journal",
    "tracking:my_charts",
    "assessments:portal_list",
]


@pytest.mark.parametrize("name", PORTAL_PAGES)
def test_every_portal_page_links_to_the_crisis_resources_outside_the_collapsed_menu(world, name):
    page = world.browser("client").get(reverse(name)).content.decode()
    link = f'<a class="btn btn-sm btn-light fw-semibold sk-crisis-link" href="{HELP}">'
    assert link in page
    # Before the menu that needs JavaScript to open on a phone: always one tap away.
    assert page.index(link) < page.index('class="collapse navbar-collapse"')


def test_staff_pages_carry_no_crisis_link(world):
    assert (
        "sk-crisis-link"
        not in world.browser("clinician").get(reverse("home"), follow=True).content.decode()
    )


def test_the_help_page_reads_in_a_fixed_number_of_queries(world, django_assert_num_queries):
    add_contact(world)
    http = world.browser("client")
    # session, user, the clinic (its time zone), the client record, the contacts; the
    # session's new expiry (savepoint, update, release)
    with django_assert_num_queries(8):
        assert http.get(HELP).status_code == 200
    add_contact(world, name="Shout", phone="", text_line="Text SHOUT to 85258")
    with django_assert_num_queries(8):
        assert "Shout" in http.get(HELP).content.decode()


def test_the_crisis_contacts_page_reads_in_a_fixed_number_of_queries(
    world, django_assert_num_queries
):
    add_contact(world)
    http = world.browser("clinic_admin")
    # session, user, the clinic (its time zone), the contacts; the session's new expiry (3)
    with django_assert_num_queries(7):
        http.get(CONTACTS)
    add_contact(world, name="Shout", phone="", text_line="Text SHOUT to 85258")
    with django_assert_num_queries(7):
        http.get(CONTACTS)


# --- Safety signals: routing ------------------------------------------------------------------


def test_a_signal_goes_to_the_primary_clinician_and_the_active_safety_contacts(world):
    world.colleague.is_safety_contact = True
    world.colleague.save()
    retired = make_user(world.clinic, Role.CLINICIAN, is_safety_contact=True, is_active=False)
    elsewhere = make_user(world.other_clinic, Role.CLINICIAN, is_safety_contact=True)
    recipients = safety_recipients(world.client_record)
    assert recipients == [world.clinician, world.colleague]
    assert retired not in recipients and elsewhere not in recipients


def test_the_email_carries_initials_and_a_link_only(world):
    world.clinician.email = "alex@example.org"
    world.clinician.save()
    signal = raise_signal(world, asked_for_contact=True)
    [notice] = OutboxEmail.objects.filter(kind=EmailKind.SAFETY)  # queued with the signal
    assert notice.to == "alex@example.org"
    assert "S.R." in notice.body and signal_url(signal) in notice.body
    # A second call for the same signal and recipient queues nothing more.
    assert safety_notice_enqueue([world.clinician], world.client_record, signal) == []
    for detail in ("Sam", "RC-001", "practice", "contact", "difficult"):
        assert detail not in notice.body and detail not in notice.subject
    assert initials("Sam R.") == "S.R." and initials("  ") == "?"


def test_a_second_tap_on_the_same_record_adds_the_request_for_contact_to_the_open_signal(world):
    first = raise_signal(world)
    second = raise_signal(world, asked_for_contact=True)
    assert second.pk == first.pk and second.asked_for_contact
    assert SafetySignal.objects.count() == 1
    events = AuditEvent.objects.filter(client=world.client_record, subject="safety_signal")
    assert [e.fields for e in events.order_by("pk")] == [
        ["asked_for_contact", "kind"],
        ["asked_for_contact"],
    ]


# --- Safety signals: the page and its acknowledgement -----------------------------------------


def test_the_primary_clinician_acknowledges_with_an_action_and_a_note_and_the_audit_keeps_it(
    world,
):
    signal = raise_signal(world, asked_for_contact=True)
    http = world.browser("clinician")
    page = http.get(signal_url(signal)).content.decode()
    assert "brought up something difficult" in page and "<strong>Yes</strong>" in page
    response = http.post(signal_url(signal), {"action": "contacted", "note": "Called; safe."})
    assert response.status_code == 302
    signal.refresh_from_db()
    assert (signal.acknowledged_by, signal.action, signal.note) == (
        world.clinician,
        "contacted",
        "Called; safe.",
    )
    event = AuditEvent.objects.get(action="acknowledge")
    assert (event.actor, event.subject, event.fields) == (
        world.clinician,
        "safety_signal: contacted",
        ["action", "note"],
    )
    assert "Called; safe." not in str(event.fields)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "contacted", "note": "  "}, "Note: write what you saw and did"),
        ({"note": "Called."}, "Action taken: choose what you did."),
        ({"action": "ignored", "note": "Called."}, "Action taken: choose one of the actions"),
    ],
)
def test_an_acknowledgement_needs_an_action_and_a_note_and_saves_nothing_without(
    world, data, message
):
    signal = raise_signal(world)
    response = world.browser("clinician").post(signal_url(signal), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    signal.refresh_from_db()
    assert signal.is_open


def test_acknowledging_a_signal_someone_else_closed_keeps_their_note_and_shows_yours(world):
    signal = raise_signal(world)
    world.browser("clinic_admin").post(signal_url(signal), {"action": "scheduled", "note": "Mon."})
    response = world.browser("clinician").post(
        signal_url(signal), {"action": "contacted", "note": "Called her."}
    )
    page = response.content.decode()
    assert "Someone acknowledged this flag after you opened it" in page and "Called her." in page
    signal.refresh_from_db()
    assert (signal.action, signal.note) == ("scheduled", "Mon.")


def test_a_safety_contact_opens_a_signal_of_a_client_outside_their_caseload(world):
    signal = raise_signal(world)
    colleague = world.browser("colleague")
    assert colleague.get(signal_url(signal)).status_code == 404
    assert (
        colleague.get(
            reverse("clinic:client_detail", kwargs={"client_id": world.client_record.pk})
        ).status_code
        == 404
    )
    world.colleague.is_safety_contact = True
    world.colleague.save()
    assert colleague.get(signal_url(signal)).status_code == 200
    # The rest of the client's record stays out of a safety contact's scope.
    assert (
        colleague.get(
            reverse("clinic:client_detail", kwargs={"client_id": world.client_record.pk})
        ).status_code
        == 404
    )


def test_a_signal_of_another_clinic_answers_404_even_to_its_safety_contacts(world):
    world.clinician.is_safety_contact = True
    world.clinician.save()
    other = raise_signal(world, client=world.other_clinic_record, actor=None)
    assert world.browser("clinician").get(signal_url(other)).status_code == 404


def test_a_clinic_admin_marks_a_colleague_as_safety_contact(world):
    response = world.browser("clinic_admin").post(
        reverse("clinic:staff_edit", kwargs={"user_id": world.colleague.pk}),
        {"role": Role.CLINICIAN, "is_active": "on", "is_safety_contact": "on"},
    )
    assert response.status_code == 302
    world.colleague.refresh_from_db()
    assert world.colleague.is_safety_contact


def test_the_signal_page_reads_in_a_fixed_number_of_queries(world, django_assert_num_queries):
    signal = raise_signal(world)
    for n in range(5):
        raise_signal(world, client=make_client(world.clinic, world.clinician), source_id=n)
    http = world.browser("clinician")
    # session, user, the clinic (its time zone), the signal with its client and people, the
    # audit event; the session's new expiry (savepoint, update, release)
    with django_assert_num_queries(8):
        assert http.get(signal_url(signal)).status_code == 200


def test_changing_and_removing_a_contact_read_and_write_in_a_fixed_number_of_queries(
    world, django_assert_num_queries
):
    contact = add_contact(world)
    http = world.browser("clinic_admin")
    edit = reverse("clinic:crisis_contact_edit", kwargs={"pk": contact.pk})
    # session, user, the clinic (its time zone), the contact; the session's new expiry (3)
    with django_assert_num_queries(7):
        assert http.get(edit).status_code == 200
    # session, user, the clinic (its time zone), the contact, its delete (savepoint, delete,
    # release); the session's new expiry (3)
    with django_assert_num_queries(10):
        response = http.post(reverse("clinic:crisis_contact_delete", kwargs={"pk": contact.pk}))
    assert response.status_code == 302
