"""A discharged client's portal is read-only: they read and download their own data, write
nothing, their open sessions end at discharge, their one-time links stop opening, and
reactivation gives everything back (README, Privacy decisions)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from assessments.models import Administration, OneTimeLink
from clinic import services
from clinic.models import SafetySignal, UserSession
from tests.access_rules import RULES
from tests.access_rules.assessments import SCS_ANSWERS, a_valid_link, administration_of
from tests.access_rules.base import LOGIN
from tests.access_rules.tracking import the_clients_entry, the_clients_practice
from tests.clinic.test_caseload import count_queries
from tests.factories import write_entry
from tracking.models import InnerCriticEntry, JournalEntry, PracticeSession, Reminder

PASSWORD = "correct horse battery staple"
DISCHARGED_ON = dt.date(2026, 3, 2)
READ_ONLY = "read-only since your discharge on 2 March 2026"


def entry_kwargs(world) -> dict:
    return the_clients_entry(world)


def no_kwargs(world) -> dict:
    return {}


def scs_kwargs(world) -> dict:
    return {"instrument": "scs"}


def entry_data(world) -> dict:
    now = timezone.localtime(timezone.now(), world.clinic.tz)
    return {
        "critic_text": "You never finish anything.",
        "intensity": "7",
        "occurred_at": now.strftime("%Y-%m-%dT%H:%M"),
    }


# Every write a client can make in their portal: URL name -> (kwargs, a valid POST).
PORTAL_WRITES = {
    "tracking:my_log": (no_kwargs, entry_data),
    "tracking:my_entry": (entry_kwargs, lambda world: {**entry_data(world), "intensity": "4"}),
    "tracking:my_reframe": (
        entry_kwargs,
        lambda world: {"self_kindness": "Everyone struggles sometimes.", "intensity_after": "3"},
    ),
    "tracking:my_practice": (
        no_kwargs,
        lambda world: {
            "practised_on": world.clinic.today().isoformat(),
            "practice_type": "hand_on_heart",
            "minutes": "10",
        },
    ),
    "tracking:my_journal": (no_kwargs, lambda world: {"difficulty": "A hard week at work."}),
    "tracking:my_reminders": (
        no_kwargs,
        lambda world: {
            "practice-weekdays": ["0", "2"],
            "practice-local_time": "08:00",
            "log-local_time": "20:00",
        },
    ),
    "assessments:portal_complete": (
        scs_kwargs,
        lambda world: {**{f"item_{n}": str(v) for n, v in SCS_ANSWERS.items()}, "finish": "1"},
    ),
    "tracking:my_difficult": (
        no_kwargs,
        lambda world: {"source": "entry", "record": entry_kwargs(world)["entry_id"]},
    ),
}
# Pages a client reaches that write nothing of their record (or only their own password).
NOT_PORTAL_WRITES = {
    "home",
    "floor",
    "healthz",  # the load balancer's probes: they read nothing of anyone's
    "readyz",
    "tracking:my_entry_delete",  # allowed after discharge (test below)
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "unsubscribe",  # anonymous, by a link in an email
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "invite_accept",
    "assessment_link",  # anonymous; closed for a discharged client (test below)
    "admin:index",
    "clinic:portal_home",
    "tracking:my_charts",
    "tracking:my_export_csv",
    "tracking:my_export_json",
    "assessments:portal_list",
    "assessments:portal_results",
    # The client's own sign-in security (second factors, sessions), not their record: kept
    # after discharge, as changing their password is.
    "account:security",
    "account:sign_out_everywhere",
    "account:two_factor_enrol",
    "account:two_factor_verify",
    "account:recovery_codes",
    "account:two_factor_remove",
    "otp_webauthn:credential-registration-begin",
    "otp_webauthn:credential-registration-complete",
    "otp_webauthn:credential-authentication-begin",
    "otp_webauthn:credential-authentication-complete",
    "otp_webauthn:js-i18n-catalog",
    "clinic:portal_help",  # the crisis contacts: readable after discharge (test below)
    "tracking:my_something_hard",
    "tracking:my_practice_note",
    "assessment_link_help",  # anonymous: the clinic's crisis contacts only
}
# Portal pages that stay readable after discharge (GET), with their URL arguments.
PORTAL_READS = {
    "clinic:portal_home": no_kwargs,
    "tracking:my_log": no_kwargs,
    "tracking:my_entry": entry_kwargs,
    "tracking:my_practice": no_kwargs,
    "tracking:my_journal": no_kwargs,
    "tracking:my_charts": no_kwargs,
    "tracking:my_practice_note": the_clients_practice,
    "assessments:portal_list": no_kwargs,
    "assessments:portal_results": lambda world: {"pk": administration_of(world.client_record).pk},
}


def discharge(world, by: str = "clinician") -> HttpClient:
    """Discharge the client record through the staff page, as a clinician would."""
    http = world.browser(by)
    record = world.client_record
    record.refresh_from_db()
    response = http.post(
        reverse("clinic:client_discharge", args=[record.pk]),
        {"version": record.version, "discharge_date": DISCHARGED_ON.isoformat()},
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == "discharged"
    return http


def reactivate(world, http: HttpClient) -> None:
    record = world.client_record
    record.refresh_from_db()
    http.post(reverse("clinic:client_reactivate", args=[record.pk]), {"version": record.version})
    record.refresh_from_db()
    assert record.status == "active"


def portal_state(world) -> dict:
    """Everything a portal write could change, to compare before and after."""
    client = world.client_record
    return {
        "entries": list(
            InnerCriticEntry.objects.filter(client=client)
            .order_by("pk")
            .values("pk", "critic_text", "intensity", "self_kindness", "updated_at")
        ),
        "practice": PracticeSession.objects.filter(client=client).count(),
        "journal": list(JournalEntry.objects.filter(client=client).values("difficulty")),
        "administrations": list(
            Administration.objects.filter(client=client).values("pk", "status", "answers")
        ),
        "reminders": list(
            Reminder.objects.filter(client=client).values("purpose", "weekdays", "local_time")
        ),
        "safety_signals": SafetySignal.objects.filter(client=client).count(),
    }


def test_every_page_a_client_reaches_is_declared_a_portal_write_or_not():
    """A new client page must be classified here, so no write path escapes the rule."""
    reachable = {
        name for name, rule in RULES.items() if rule.expect["client"] not in (403, 404, LOGIN)
    }
    assert set(PORTAL_WRITES) | NOT_PORTAL_WRITES == reachable
    assert not set(PORTAL_WRITES) & NOT_PORTAL_WRITES


@pytest.mark.parametrize("name", sorted(PORTAL_WRITES))
def test_a_portal_write_works_while_active_and_is_refused_after_discharge(world, name):
    kwargs, data = PORTAL_WRITES[name]
    http = world.browser("client")
    url = reverse(name, kwargs=kwargs(world))
    before = portal_state(world)
    assert http.post(url, data(world)).status_code == 302  # a real write while active...
    assert portal_state(world) != before

    discharge(world)
    http = world.browser("client")
    url = reverse(name, kwargs=kwargs(world))
    before = portal_state(world)
    response = http.post(url, data(world))
    assert response.status_code == 403  # ...refused once discharged
    assert READ_ONLY in response.content.decode()
    assert reverse("tracking:my_export_json") in response.content.decode()
    assert portal_state(world) == before


def test_a_discharged_client_reads_every_portal_page_without_a_form_to_write(world):
    http = world.browser("client")
    http.post(reverse("tracking:my_log"), entry_data(world))
    http.post(reverse("tracking:my_journal"), {"difficulty": "A hard week at work."})
    discharge(world)
    http = world.browser("client")
    for name, kwargs in PORTAL_READS.items():
        response = http.get(reverse(name, kwargs=kwargs(world)))
        page = response.content.decode()
        assert response.status_code == 200, name
        assert READ_ONLY in page, name
        # Only "Log out" is left, and on an entry "Delete for good" (test below).
        forms = 2 if name == "tracking:my_entry" else 1
        assert page.count('method="post"') == forms, name
    journal = http.get(reverse("tracking:my_journal")).content.decode()
    assert "A hard week at work." in journal  # this week's journal, shown read-only


def test_a_discharged_client_still_reaches_the_crisis_contacts(world):
    discharge(world)
    http = world.browser("client")
    for name in ("clinic:portal_help", "tracking:my_something_hard"):
        page = http.get(reverse(name)).content.decode()
        assert "Selfkind is not monitored around the clock" in page, name


def test_a_discharged_client_still_downloads_their_own_data(world):
    world.browser("client").post(reverse("tracking:my_log"), entry_data(world))
    discharge(world)
    http = world.browser("client")
    csv_export = http.get(reverse("tracking:my_export_csv"))
    json_export = http.get(reverse("tracking:my_export_json"))
    assert csv_export.status_code == json_export.status_code == 200
    assert b"You never finish anything." in b"".join(csv_export.streaming_content)
    assert b"You never finish anything." in json_export.content
    home = http.get(reverse("clinic:portal_home")).content.decode()
    assert reverse("tracking:my_export_csv") in home


def test_a_discharged_client_cannot_open_a_questionnaire_to_fill_in(world):
    discharge(world)
    response = world.browser("client").get(
        reverse("assessments:portal_complete", kwargs={"instrument": "scs"})
    )
    assert response.status_code == 403
    assert READ_ONLY in response.content.decode()


def test_discharge_ends_every_session_of_the_client_and_no_one_elses(world):
    phone, laptop, other = HttpClient(), HttpClient(), HttpClient()
    for http, username in ((phone, "sam"), (laptop, "sam"), (other, "pat")):
        http.post(reverse("login"), {"username": username, "password": PASSWORD})
        assert http.get(reverse("clinic:portal_home")).status_code == 200
    assert UserSession.objects.filter(user_id=world.client.pk).count() == 2

    clinician = discharge(world)

    assert not UserSession.objects.filter(user_id=world.client.pk).exists()
    for http in (phone, laptop):
        response = http.get(reverse("clinic:portal_home"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert other.get(reverse("clinic:portal_home")).status_code == 200
    assert clinician.get(reverse("clinic:caseload")).status_code == 200
    # Logging in again still works, into the read-only portal.
    assert (
        phone.post(reverse("login"), {"username": "sam", "password": PASSWORD}).status_code == 302
    )
    assert READ_ONLY in phone.get(reverse("clinic:portal_home")).content.decode()


def test_a_discharge_that_is_refused_ends_no_session(world):
    world.browser("client")  # a session of sam's
    record = world.client_record
    with pytest.raises(services.ConcurrentEditError):
        services.client_discharge(
            actor=world.clinician,
            client=record,
            expected_version=record.version + 1,
            discharge_date=DISCHARGED_ON,
        )
    assert UserSession.objects.filter(user_id=world.client.pk).count() == 1


def test_reactivation_makes_the_portal_writable_again(world):
    clinician = discharge(world)
    reactivate(world, clinician)
    http = world.browser("client")
    page = http.get(reverse("tracking:my_log")).content.decode()
    assert "read-only" not in page
    assert http.post(reverse("tracking:my_log"), entry_data(world)).status_code == 302
    assert InnerCriticEntry.objects.filter(client=world.client_record).count() == 1


def test_a_discharged_clients_one_time_link_stops_opening_until_reactivation(world):
    url = reverse("assessment_link", kwargs=a_valid_link(world))
    assert HttpClient().get(url).status_code == 200
    clinician = discharge(world)
    closed = HttpClient().get(url)
    assert closed.status_code == 404
    assert "no-store" in closed["Cache-Control"]
    answers = {f"item_{n}": str(v) for n, v in SCS_ANSWERS.items()}
    assert HttpClient().post(url, {**answers, "finish": "1"}).status_code == 404
    assert not Administration.objects.filter(client=world.client_record).exists()
    reactivate(world, clinician)
    assert HttpClient().get(url).status_code == 200


def test_staff_are_told_a_discharged_client_cannot_get_a_one_time_link(world):
    clinician = discharge(world)
    page = clinician.get(reverse("assessments:client_assessments", args=[world.client_record.pk]))
    assert reverse("assessments:link_create", args=[world.client_record.pk]) not in (
        page.content.decode()
    )
    response = clinician.post(
        reverse("assessments:link_create", args=[world.client_record.pk]),
        {"instrument": "scs"},
        follow=True,
    )
    assert "is discharged, so a one-time link would not open" in response.content.decode()
    assert not OneTimeLink.objects.filter(client=world.client_record).exists()


def test_a_discharged_client_may_be_invited_to_a_read_only_portal(world):
    record = world.other_client_record
    record.user = None
    record.save()
    services.client_discharge(
        actor=world.colleague,
        client=record,
        expected_version=record.version,
        discharge_date=DISCHARGED_ON,
    )
    page = world.browser("colleague").get(reverse("clinic:client_portal_invite", args=[record.pk]))
    assert "their portal is read-only" in page.content.decode()


@pytest.mark.parametrize("name", ["clinic:portal_home", "tracking:my_log", "tracking:my_entry"])
def test_a_read_only_portal_page_costs_no_more_queries_than_a_writable_one(world, name):
    http = world.browser("client")
    url = reverse(name, kwargs=PORTAL_READS[name](world))
    writable = count_queries(http, url)
    discharge(world)
    http = world.browser("client")
    assert count_queries(http, url) <= writable


def test_a_discharged_client_may_still_delete_their_own_words(world):
    entry = write_entry(world.client_record, critic_text="Mine to take back")
    discharge(world)
    http = world.browser("client")
    page = http.get(reverse("tracking:my_entry", kwargs={"entry_id": entry.pk})).content.decode()
    assert "Delete for good" in page and "Save reframe" not in page
    response = http.post(reverse("tracking:my_entry_delete", kwargs={"entry_id": entry.pk}))
    assert response.status_code == 302
    assert not world.client_record.critic_entries.exists()
