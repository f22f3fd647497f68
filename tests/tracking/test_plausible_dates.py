"""Dates a client types or a URL carries on the tracking pages: a plausible range, a message
naming the field, the default shown instead, never a 500."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from django.urls import reverse

from tracking import analysis
from tracking.models import InnerCriticEntry, PracticeSession, TriggerCategory


@pytest.mark.parametrize(
    ("week", "message"),
    [
        ("0001-01-01", "Week cannot be before 1 January 1900; the last 7 days are shown instead."),
        ("1899-12-31", "Week cannot be before 1 January 1900; the last 7 days are shown instead."),
        ("9999-12-31", "Week cannot be in the future (after "),
        ("9999-12-27", "Week cannot be in the future (after "),
        ("2026-02-30", "Week: enter a date as YYYY-MM-DD; the last 7 days are shown instead."),
    ],
)
def test_the_clients_log_shows_the_last_7_days_when_the_week_asked_for_is_implausible(
    world, week, message
):
    response = world.browser("client").get(reverse("tracking:my_log"), {"week": week})
    assert response.status_code == 200
    assert message in response.content.decode()
    today = world.clinic.today()
    assert (response.context["first"], response.context["last"]) == (
        today - dt.timedelta(days=6),
        today,
    )


def test_the_first_week_of_1900_has_no_earlier_week_link(world):
    response = world.browser("client").get(reverse("tracking:my_log"), {"week": "1900-01-03"})
    assert response.status_code == 200
    assert response.context["first"] == dt.date(1900, 1, 1)
    assert response.context["previous_week"] is None


RANGE_PAGES = [
    ("client", "tracking:my_charts", False),
    ("clinician", "tracking:client_charts", True),
    ("clinician", "tracking:client_log", True),
]


@pytest.mark.parametrize(("persona", "name", "for_staff"), RANGE_PAGES)
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "0001-01-01"}, "From cannot be before 1 January 1900"),
        ({"end": "0001-01-01"}, "To cannot be before 1 January 1900"),
        ({"start": "9999-12-31"}, "From cannot be in the future"),
        ({"end": "9999-12-31"}, "To cannot be in the future"),
        ({"start": "0001-01-01", "end": "9999-12-31"}, "To cannot be in the future"),
        ({"start": "2026-02-01", "end": "2026-01-01"}, "To cannot be before From"),
        ({"start": "last week"}, "From: enter a date as YYYY-MM-DD"),
    ],
)
def test_a_range_outside_the_plausible_dates_falls_back_to_the_default_with_a_message(
    world, persona, name, for_staff, query, message
):
    kwargs = {"client_id": world.client_record.pk} if for_staff else {}
    http = world.browser(persona)
    default = http.get(reverse(name, kwargs=kwargs))
    response = http.get(reverse(name, kwargs=kwargs), query)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "the default range is shown instead" in response.content.decode()
    if len(query) == 2 or "end" not in query:
        assert (response.context["first"], response.context["last"]) == (
            default.context["first"],
            default.context["last"],
        )


def test_a_start_of_tomorrow_alone_shows_that_day(world):
    tomorrow = world.clinic.today() + dt.timedelta(days=1)
    response = world.browser("client").get(
        reverse("tracking:my_charts"), {"start": tomorrow.isoformat()}
    )
    assert response.status_code == 200
    assert response.context["first"] == response.context["last"] == tomorrow


def test_an_entry_in_year_one_is_refused_naming_the_field_and_nothing_is_stored(world):
    response = world.browser("client").post(
        reverse("tracking:my_log"),
        {"critic_text": "Useless.", "intensity": "5", "occurred_at": "0001-01-01T00:00"},
    )
    assert response.status_code == 200
    assert "When cannot be before 1 January 1900." in response.content.decode()
    assert "Useless." in response.content.decode()
    assert not InnerCriticEntry.objects.exists()


def test_a_practice_session_in_year_one_is_refused(world):
    response = world.browser("client").post(
        reverse("tracking:my_practice"),
        {"practised_on": "0001-01-01", "practice_type": "hand_on_heart", "minutes": "5"},
    )
    assert "Date cannot be before 1 January 1900." in response.content.decode()
    assert not PracticeSession.objects.exists()


def test_trigger_category_names_that_look_alike_are_one_name(world):
    http = world.browser("clinic_admin")
    url = reverse("tracking:trigger_settings")
    nfc = unicodedata.normalize("NFC", "Ménage")
    assert http.post(url, {"name": unicodedata.normalize("NFD", nfc)}).status_code == 302
    assert TriggerCategory.objects.filter(organisation=world.clinic).get().name == nfc
    assert "already exists" in http.post(url, {"name": nfc}).content.decode()
    refused = http.post(url, {"name": "Work\u200b"}).content.decode()
    assert "New trigger category contains U+200B ZERO WIDTH SPACE" in refused


def test_the_pure_chart_code_leaves_out_dates_pandas_cannot_hold():
    rows = [
        {"administered_on": dt.date(1, 1, 1), "subscale": "self_kindness", "score": 1.0},
        {"administered_on": dt.date(9999, 12, 31), "subscale": "self_kindness", "score": 2.0},
        {"administered_on": dt.date(2026, 1, 5), "subscale": "self_kindness", "score": 3.0},
    ]
    trend = analysis.scs_trend(rows, dt.date(2025, 12, 1), dt.date(2026, 2, 1))
    assert list(trend["administered_on"]) == [dt.date(2026, 1, 5)]
    practice = [
        {"practised_on": day, "practice_type": "other", "minutes": 10}
        for day in (dt.date(1, 1, 1), dt.date(2026, 1, 6), dt.date(9999, 12, 31))
    ]
    weekly = analysis.practice_minutes_weekly(practice, dt.date(2026, 1, 5), dt.date(2026, 1, 11))
    assert weekly["total"].sum() == 10


def test_pages_survive_an_entry_and_a_practice_session_stored_with_far_dates(world):
    client = world.client_record
    far = dt.datetime(9999, 12, 31, 12, tzinfo=dt.UTC)
    InnerCriticEntry.objects.create(client=client, occurred_at=far, intensity=4, critic_text="x")
    PracticeSession.objects.create(
        client=client, practised_on=far.date(), practice_type="other", minutes=5
    )
    portal = world.browser("client")
    for name in ("my_log", "my_charts", "my_practice", "my_export_csv", "my_export_json"):
        assert portal.get(reverse(f"tracking:{name}")).status_code == 200, name
    staff = world.browser("clinician")
    for name in ("tracking:client_log", "tracking:client_charts", "dashboard:brief"):
        response = staff.get(reverse(name, kwargs={"client_id": client.pk}))
        assert response.status_code == 200, name
    assert staff.get(reverse("dashboard:home")).status_code == 200
