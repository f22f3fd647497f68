"""The client's quick capture, reframe, practice and journal; the clinician's read view."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.sessions import MESSAGES_KEPT
from tests.factories import write_entry
from tracking import projections
from tracking.models import InnerCriticEntry, JournalEntry, PracticeSession, TriggerCategory
from tracking.services import entry_update

LONDON = zoneinfo.ZoneInfo("Europe/London")


@pytest.fixture(autouse=True)
def empty_cache():
    """Chart fragments are cached by client id; ids repeat across tests."""
    from django.core.cache import cache

    cache.clear()


def local_input(when: dt.datetime) -> str:
    return timezone.localtime(when, LONDON).strftime("%Y-%m-%dT%H:%M")


def capture(http, **data):
    payload = {
        "critic_text": "You never finish anything.",
        "intensity": "7",
        "occurred_at": local_input(timezone.now()),
    }
    payload.update(data)
    return http.post(reverse("tracking:my_log"), payload)


# --- Quick capture and reframe --------------------------------------------------------------


def test_the_saved_message_waits_on_the_server_not_in_a_cookie(world):
    """Messages name clients (codes, an invitation's email address): they wait for the next
    page in the session, never in the browser's cookie store (settings.MESSAGE_STORAGE)."""
    http = world.browser("client")
    response = capture(http)
    assert response.status_code == 302
    assert "messages" not in response.cookies
    page = http.get(response["Location"]).content.decode()
    assert "Saved. You can reframe it now" in page
    assert "Saved. You can reframe it now" not in http.get(response["Location"]).content.decode()


def test_posts_whose_pages_are_never_opened_leave_only_the_latest_messages_waiting(world):
    """The session is read and written on every request: posts whose redirects are never
    followed must not grow it by a message each (clinic.sessions.RecentMessagesStorage)."""
    http = world.browser("client")
    for _ in range(MESSAGES_KEPT + 3):
        assert capture(http).status_code == 302
    page = http.get(reverse("tracking:my_log")).content.decode()
    assert page.count("Saved. You can reframe it now") == MESSAGES_KEPT
    assert InnerCriticEntry.objects.count() == MESSAGES_KEPT + 3


def test_a_client_captures_a_moment_in_three_fields_and_can_reframe_it(world):
    http = world.browser("client")
    form_page = http.get(reverse("tracking:my_log"))
    assert form_page.context["form"].initial["occurred_at"] is not None  # when defaults to now

    response = capture(http)
    entry = InnerCriticEntry.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("tracking:my_entry", args=[entry.pk])
    assert (entry.client, entry.created_by, entry.intensity) == (
        world.client_record,
        world.client,
        7,
    )

    page = http.get(response["Location"]).content.decode()
    assert "You never finish anything." in page  # the original stays visible beside the reframe

    reframed = http.post(
        reverse("tracking:my_reframe", args=[entry.pk]),
        {"self_kindness": "I am learning, and that is enough.", "intensity_after": "3"},
    )
    assert reframed.status_code == 302
    entry.refresh_from_db()
    assert entry.intensity_after == 3
    assert entry.reframed_at is not None
    assert entry.critic_text == "You never finish anything."


def test_optional_details_are_saved_with_the_entry(world):
    work = TriggerCategory.objects.get(organisation=None, name="Work")
    capture(
        world.browser("client"),
        trigger=work.pk,
        emotions=["shame", "anxiety"],
        pattern="isolation",
        body_location="throat",
        is_private="on",
    )
    entry = InnerCriticEntry.objects.get()
    assert (entry.trigger, entry.emotions, entry.pattern, entry.is_private) == (
        work,
        ["shame", "anxiety"],
        "isolation",
        True,
    )


def test_a_clinics_own_trigger_categories_are_offered_only_to_that_clinic(world):
    own = TriggerCategory.objects.create(organisation=world.clinic, name="Exams")
    other = TriggerCategory.objects.create(organisation=world.other_clinic, name="Elsewhere")
    choices = world.browser("client").get(reverse("tracking:my_log")).context["form"]
    queryset = choices.fields["trigger"].queryset
    assert own in queryset and other not in queryset
    assert queryset.filter(organisation=None).count() == 8


# --- Bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"intensity": "11"}, "intensity", "Intensity must be between 0 and 10."),
        ({"intensity": "-1"}, "intensity", "Intensity must be between 0 and 10."),
        ({"intensity": ""}, "intensity", "Intensity is required (0 to 10)."),
        ({"critic_text": ""}, "critic_text", "What the critic said is required."),
        ({"critic_text": "   "}, "critic_text", "What the critic said is required."),
        ({"critic_text": "x" * 2001}, "critic_text", "What the critic said is too long"),
        (
            {"occurred_at": local_input(timezone.now() + dt.timedelta(days=2))},
            "occurred_at",
            "When cannot be more than a day in the future.",
        ),
        ({"occurred_at": "yesterday-ish"}, "occurred_at", "When must be a date and time"),
    ],
)
def test_bad_input_is_answered_with_a_field_error_and_nothing_is_saved(world, data, field, message):
    response = capture(world.browser("client"), situation="kept as typed", **data)
    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    assert any(error.startswith(message) for error in errors), errors
    assert response.context["form"]["situation"].value() == "kept as typed"
    assert not InnerCriticEntry.objects.exists()


def test_an_over_long_reframe_or_out_of_range_intensity_after_saves_nothing(world):
    entry = write_entry(world.client_record, critic_text="Lazy.", intensity=5)
    http = world.browser("client")
    response = http.post(
        reverse("tracking:my_reframe", args=[entry.pk]),
        {
            "self_kindness": "y" * 2001,
            "common_humanity": "Many feel this.",
            "intensity_after": "12",
        },
    )
    form = response.context["reframe_form"]
    assert "self_kindness" in form.errors and "intensity_after" in form.errors
    assert form["common_humanity"].value() == "Many feel this."
    entry.refresh_from_db()
    assert (entry.common_humanity, entry.reframed_at) == ("", None)


def test_an_empty_reframe_asks_for_at_least_one_response(world):
    entry = write_entry(world.client_record, critic_text="Lazy.", intensity=5)
    response = world.browser("client").post(
        reverse("tracking:my_reframe", args=[entry.pk]), {"intensity_after": "4"}
    )
    assert "Write at least one response" in response.content.decode()
    entry.refresh_from_db()
    assert entry.reframed_at is None


def test_markup_in_words_is_shown_escaped_everywhere(world):
    capture(world.browser("client"), critic_text="<script>alert('critic')</script>")
    TriggerCategory.objects.create(organisation=world.clinic, name="<b>Exams</b>")
    entry = InnerCriticEntry.objects.get()
    entry_update(
        actor=world.client,
        entry=entry,
        data={"trigger": TriggerCategory.objects.get(organisation=world.clinic)},
    )
    pages = [
        world.browser("client").get(reverse("tracking:my_log")),
        world.browser("client").get(reverse("tracking:my_entry", args=[entry.pk])),
        world.browser("client").get(reverse("tracking:my_charts")),
        world.browser("clinician").get(
            reverse("tracking:client_log", args=[world.client_record.pk])
        ),
        world.browser("clinician").get(
            reverse("tracking:client_charts", args=[world.client_record.pk])
        ),
    ]
    for response in pages:
        body = response.content.decode()
        assert "<script>alert" not in body
        assert "<b>Exams</b>" not in body
    charts = pages[2].content.decode()
    assert "&amp;lt;b&amp;gt;Exams" in charts or "\\u0026lt;b\\u0026gt;Exams" in charts


# --- Practice and journal -------------------------------------------------------------------


def test_a_client_logs_practice_and_sees_it_listed(world):
    http = world.browser("client")
    response = http.post(
        reverse("tracking:my_practice"),
        {
            "practised_on": timezone.localdate(timezone.now(), LONDON).isoformat(),
            "practice_type": "self_compassion_break",
            "minutes": "10",
            "distress_before": "6",
            "distress_after": "3",
        },
    )
    assert response.status_code == 302
    assert "Self-compassion break" in http.get(reverse("tracking:my_practice")).content.decode()
    bad = http.post(
        reverse("tracking:my_practice"),
        {
            "practised_on": "2026-01-01",
            "practice_type": "other",
            "minutes": "0",
            "distress_before": "11",
        },
    )
    assert set(bad.context["form"].errors) == {"minutes", "distress_before"}
    assert PracticeSession.objects.count() == 1


def test_one_journal_per_week_editable_during_that_week(world):
    http = world.browser("client")
    first = http.post(
        reverse("tracking:my_journal"), {"difficulty": "A hard review.", "self_kindness": "Rest."}
    )
    assert first.status_code == 302
    http.post(reverse("tracking:my_journal"), {"difficulty": "A hard review, and a cold."})
    journal = JournalEntry.objects.get()
    assert journal.difficulty == "A hard review, and a cold."
    assert journal.week_start.weekday() == 0
    assert (
        not http.post(reverse("tracking:my_journal"), {"difficulty": ""}).context["form"].is_valid()
    )


def test_a_past_weeks_journal_cannot_be_written(world):
    from tracking import services

    with pytest.raises(services.ServiceError):
        services.journal_save(
            actor=world.client,
            client=world.client_record,
            week_start=dt.date(2026, 1, 5),
            data={"difficulty": "late"},
        )


# --- The clinician's view -------------------------------------------------------------------


def test_a_clinician_writes_an_entry_on_the_clients_behalf(world):
    http = world.browser("clinician")
    url = reverse("tracking:client_entry_create", args=[world.client_record.pk])
    response = http.post(
        url,
        {
            "critic_text": "Said in session: I ruin everything.",
            "intensity": "8",
            "occurred_at": local_input(timezone.now()),
        },
    )
    assert response.status_code == 302
    entry = InnerCriticEntry.objects.get()
    assert (entry.client, entry.created_by) == (world.client_record, world.clinician)
    log = http.get(reverse("tracking:client_log", args=[world.client_record.pk]))
    assert "I ruin everything" in log.content.decode()


def test_the_clinicians_date_range_limits_the_read_view(world):
    old = timezone.now() - dt.timedelta(days=60)
    write_entry(world.client_record, critic_text="OLD words", intensity=5, occurred_at=old)
    write_entry(world.client_record, critic_text="RECENT words", intensity=5)
    http = world.browser("clinician")
    url = reverse("tracking:client_log", args=[world.client_record.pk])
    assert "OLD words" not in http.get(url).content.decode()
    start = (timezone.localdate(old, LONDON) - dt.timedelta(days=1)).isoformat()
    body = http.get(url, {"start": start}).content.decode()
    assert "OLD words" in body and "RECENT words" in body


# --- Query counts do not grow with the data -------------------------------------------------


def bulk_entries(client, count: int) -> None:
    now = timezone.now()
    InnerCriticEntry.objects.bulk_create(
        InnerCriticEntry(
            client=client,
            critic_text=f"words {n}",
            intensity=n % 11,
            occurred_at=now - dt.timedelta(hours=n % (24 * 150)),
            is_private=n % 7 == 0,
            pattern=("self_judgment", "isolation", "over_identification", "")[n % 4],
            intensity_after=(n % 11) // 2 if n % 3 else None,
            reframed_at=now if n % 3 else None,
        )
        for n in range(count)
    )
    PracticeSession.objects.bulk_create(
        PracticeSession(
            client=client,
            practised_on=now.date() - dt.timedelta(days=n % 150),
            practice_type="hand_on_heart",
            minutes=5,
        )
        for n in range(count // 10)
    )
    projections.clients_rebuild([client.pk])  # the bulk path, as seeding uses


def count_queries(http, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert http.get(url).status_code == 200
    return len(queries)


PAGES = [
    ("client", "tracking:my_log", False),
    ("client", "tracking:my_charts", False),
    ("client", "tracking:my_practice", False),
    ("client", "tracking:my_journal", False),
    ("clinician", "tracking:client_log", True),
    ("clinician", "tracking:client_charts", True),
    ("clinician", "tracking:client_entry_create", True),
]


@pytest.mark.parametrize(("persona", "name", "with_client"), PAGES)
def test_query_count_is_the_same_with_10_and_1000_entries(world, persona, name, with_client):
    http = world.browser(persona)
    url = reverse(name, args=[world.client_record.pk] if with_client else [])
    bulk_entries(world.client_record, 10)
    small = count_queries(http, url)
    bulk_entries(world.client_record, 990)
    assert count_queries(http, url) == small


def test_an_entry_page_query_count_is_fixed(world):
    bulk_entries(world.client_record, 10)
    entry = InnerCriticEntry.objects.first()
    http = world.browser("client")
    url = reverse("tracking:my_entry", args=[entry.pk])
    small = count_queries(http, url)
    bulk_entries(world.client_record, 990)
    assert count_queries(http, url) == small


def test_posting_an_entry_asks_the_same_number_of_queries_after_months_of_logging(
    world, django_assert_num_queries
):
    """The write keeps the day rollup and the activity row: one more entry on the stored totals
    and only the days the rising trend reads, so a client of years costs what a new one does."""
    http = world.browser("client")
    bulk_entries(world.client_record, 10)
    with CaptureQueriesContext(connection) as first:
        assert capture(http).status_code == 302
    bulk_entries(world.client_record, 3000)  # 150 days of entries and practice
    with django_assert_num_queries(len(first)):
        assert capture(http).status_code == 302
    # The session, login, clinic and record; in a savepoint the entry, the client's lock with
    # the clinic's time zone as it stands (clinic.models.clients_lock_zones), its day (lock,
    # update: today has a row already), the activity (recent days, update: one more entry on
    # the stored row, whose totals the client's lock keeps exact; no practice changed, so the
    # rated practices are not read); the session's "Saved" message. The form leaves the
    # model's check constraints to the write (ChecksOnWriteMixin).
    assert len(first) == 15


def test_charts_follow_every_new_entry_and_reframe_in_the_same_number_of_queries(world):
    bulk_entries(world.client_record, 50)
    http = world.browser("client")
    url = reverse("tracking:my_charts")
    before = count_queries(http, url)
    assert "50 entries" in http.get(url).content.decode()
    capture(http)
    assert "51 entries" in http.get(url).content.decode()
    entry = InnerCriticEntry.objects.order_by("-id").first()
    http.post(
        reverse("tracking:my_reframe", args=[entry.pk]),
        {"self_kindness": "Gently.", "intensity_after": "1"},
    )
    assert count_queries(http, url) == before


def test_a_clinic_adds_its_own_trigger_category_for_its_clients_only(world):
    from tracking.models import TriggerCategory

    http = world.browser("clinic_admin")
    url = reverse("tracking:trigger_settings")
    assert http.post(url, {"name": "  Caring   for a parent "}).status_code == 302
    duplicate = http.post(url, {"name": "work"})
    assert "already exists" in duplicate.context["form"].errors["name"][0]
    own = TriggerCategory.objects.get(name="Caring for a parent")
    assert own.organisation == world.clinic

    mine = world.browser("client").get(reverse("tracking:my_log")).content.decode()
    assert "Caring for a parent" in mine
    assert reverse("tracking:trigger_settings") in (
        http.get(reverse("clinic:settings")).content.decode()
    )


def test_the_trigger_settings_page_has_a_bounded_query_count(world):
    from tests.clinic.test_caseload import count_queries
    from tracking.models import TriggerCategory

    http = world.browser("clinic_admin")
    url = reverse("tracking:trigger_settings")
    few = count_queries(http, url)
    for n in range(10):
        TriggerCategory.objects.create(organisation=world.clinic, name=f"Own {n}")
    assert count_queries(http, url) == few


def test_a_client_deletes_their_own_entry_for_good_and_the_charts_notice(world):
    from clinic.models import AuditEvent

    kept = write_entry(world.client_record, critic_text="Kept", intensity=5)
    gone = write_entry(world.client_record, critic_text="Take this back", intensity=9)
    http = world.browser("client")
    charts = reverse("tracking:my_charts")
    assert "2 entries" in http.get(charts).content.decode()

    response = http.post(reverse("tracking:my_entry_delete", args=[gone.pk]))

    assert response.status_code == 302
    assert list(InnerCriticEntry.objects.all()) == [kept]
    event = AuditEvent.objects.get(action="delete")
    assert (event.actor, event.fields) == (world.client, [])
    assert "1 entry" in http.get(charts).content.decode()


def test_no_one_else_can_delete_a_clients_entry(world):
    entry = write_entry(world.client_record, critic_text="Mine", intensity=5)
    url = reverse("tracking:my_entry_delete", args=[entry.pk])
    assert world.browser("other_client").post(url).status_code == 404
    assert world.browser("clinician").post(url).status_code == 403
    assert world.browser("client").get(url).status_code == 405
    assert InnerCriticEntry.objects.filter(pk=entry.pk).exists()


def test_the_clients_log_shows_the_last_seven_days_so_a_monday_still_shows_the_weekend(world):
    from tests.dashboard.helpers import log_entry

    today = world.clinic.today()
    log_entry(world.client_record, today - dt.timedelta(days=6), critic_text="Six days ago.")
    log_entry(world.client_record, today - dt.timedelta(days=7), critic_text="A week ago.")
    response = world.browser("client").get(reverse("tracking:my_log"))
    page = response.content.decode()
    assert "Six days ago." in page and "A week ago." not in page
    assert "The last 7 days" in page and "No entries" not in page
    # Earlier goes to the week before that; from there, Later comes back to the last 7 days.
    earlier = response.context["previous_week"]
    assert earlier == (today - dt.timedelta(days=7)) - dt.timedelta(
        days=(today - dt.timedelta(days=7)).weekday()
    )
    back = world.browser("client").get(reverse("tracking:my_log"), {"week": earlier})
    assert "A week ago." in back.content.decode()
    assert response.context["next_week"] is None


def test_a_new_clients_charts_and_log_start_in_the_week_of_intake(world):
    today = world.clinic.today()
    client = world.client_record
    client.intake_date = today - dt.timedelta(days=10)
    client.save(update_fields=["intake_date"])
    monday = client.intake_date - dt.timedelta(days=client.intake_date.weekday())
    for persona, url in (
        ("client", reverse("tracking:my_charts")),
        ("clinician", reverse("tracking:client_charts", args=[client.pk])),
        ("clinician", reverse("tracking:client_log", args=[client.pk])),
    ):
        response = world.browser(persona).get(url)
        assert response.context["first"] == monday, url
    # An explicit start is kept.
    early = today - dt.timedelta(weeks=20)
    response = world.browser("client").get(reverse("tracking:my_charts"), {"start": early})
    assert response.context["first"] == early


def test_the_entry_form_skips_only_check_constraints_the_fields_already_check():
    """ChecksOnWriteMixin turns the model's constraint queries off: safe only while every
    constraint of the entry model is a check its fields restate, or a unique one on a field
    the form does not write (a unique constraint on the form's own fields would lose its form
    message). The submission key's is entry_create's to keep."""
    from django.db.models import CheckConstraint, UniqueConstraint

    from tracking.forms import EntryForm

    constraints = EntryForm._meta.model._meta.constraints
    checks = [c for c in constraints if isinstance(c, CheckConstraint)]
    others = [c for c in constraints if not isinstance(c, CheckConstraint)]
    assert checks
    assert [(type(c), c.fields) for c in others] == [(UniqueConstraint, ("client", "submission"))]
    assert not {"client", "submission"} & set(EntryForm._meta.fields)
