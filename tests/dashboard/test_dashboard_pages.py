"""The dashboard, its CSV, flags, settings and schedule pages, persona by persona."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assessments.models import AssessmentSchedule, AssessmentSettings
from clinic.models import AuditEvent, Programme
from dashboard import flags
from dashboard.models import FlagAcknowledgement, FlagSettings
from tests.dashboard.helpers import configure_sd, give_scs, log_entry, practise
from tests.factories import make_client

pytestmark = pytest.mark.django_db
HOME = reverse("dashboard:home")
EXPORT = reverse("dashboard:export_csv")


def csv_rows(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def page_codes(response) -> list[str]:
    """Client codes in the table, read from the HTML."""
    return re.findall(r'title="Session brief">([^<]+)</a>', response.content.decode())


def rows_of(response):
    """The rows the page was built from."""
    return response.context["t"]["rows"]


def test_a_clinician_sees_only_their_caseload_on_the_page_and_in_the_csv(world):
    http = world.browser("clinician")
    assert page_codes(http.get(HOME)) == ["RC-001"]
    assert [row["code"] for row in csv_rows(http.get(EXPORT))] == ["RC-001"]
    colleague = world.browser("colleague")
    assert page_codes(colleague.get(HOME)) == ["RC-002"]
    assert "RC-001" not in colleague.get(HOME).content.decode()
    assert [row["code"] for row in csv_rows(colleague.get(EXPORT))] == ["RC-002"]


def test_another_clinics_clinician_sees_none_of_this_clinic(world):
    http = world.browser("other_clinic_clinician")
    assert page_codes(http.get(HOME)) == ["HP-001"]
    assert [row["code"] for row in csv_rows(http.get(EXPORT))] == ["HP-001"]


def test_a_clinic_admin_sees_the_whole_clinic_and_can_filter_by_clinician(world):
    http = world.browser("clinic_admin")
    assert sorted(page_codes(http.get(HOME))) == ["RC-001", "RC-002"]
    filtered = http.get(HOME, {"clinician": world.colleague.pk})
    assert page_codes(filtered) == ["RC-002"]


def test_clients_and_anonymous_visitors_cannot_open_the_dashboard(world):
    assert world.browser("client").get(HOME).status_code == 403
    assert world.browser("other_client").get(EXPORT).status_code == 403
    assert world.browser("anonymous").get(HOME).status_code == 302


def test_discharged_clients_are_not_on_the_dashboard(world):
    world.client_record.status = "discharged"
    world.client_record.discharge_date = dt.date(2026, 6, 1)
    world.client_record.save()
    assert page_codes(world.browser("clinician").get(HOME)) == []


def test_the_row_shows_score_change_counts_and_flags(world):
    configure_sd(world.clinic)
    client = world.client_record
    today = world.clinic.today()
    give_scs(client, today - dt.timedelta(days=50), 4, 2)
    give_scs(client, today - dt.timedelta(days=3), 3, 3)
    log_entry(client, today, 5)
    log_entry(client, today - dt.timedelta(days=13), 5)
    log_entry(client, today - dt.timedelta(days=14), 5)  # outside the 14 days
    practise(client, today - dt.timedelta(days=2), 25)
    response = world.browser("clinician").get(HOME)
    [row] = rows_of(response)
    assert (row.entries_recent, row.minutes_recent) == (2, 25)
    assert row.summary.latest_total == pytest.approx(3.0)
    assert [flag.kind for flag in row.open_flags] == [flags.DETERIORATION]
    page = response.content.decode()
    assert "3.00" in page and "-1.00" in page and "deteriorated" in page
    assert "What the flags mean" in page


def test_rows_sort_by_recent_entries_and_attention(world):
    second = make_client(world.clinic, world.clinician, code="RC-009")
    today = world.clinic.today()
    for _ in range(3):
        log_entry(second, today)
    http = world.browser("clinician")
    assert page_codes(http.get(HOME, {"sort": "-entries"})) == ["RC-009", "RC-001"]
    assert page_codes(http.get(HOME, {"sort": "entries"})) == ["RC-001", "RC-009"]
    assert page_codes(http.get(HOME, {"sort": "nonsense"})) == ["RC-001", "RC-009"]


def test_the_csv_escapes_formulas_keeps_numbers_and_audits_each_client(world):
    world.client_record.display_name = "=HYPERLINK(1)"
    world.client_record.save()
    configure_sd(world.clinic)
    today = world.clinic.today()
    give_scs(world.client_record, today - dt.timedelta(days=50), 4, 2)
    give_scs(world.client_record, today - dt.timedelta(days=3), 3, 3)
    [row] = csv_rows(world.browser("clinician").get(EXPORT))
    assert row["name"] == "'=HYPERLINK(1)"
    assert row["scs_change_since_baseline"] == "-1.0"
    assert row["open_flags"].startswith("Reliable deterioration")
    assert AuditEvent.objects.filter(
        client=world.client_record, action="export", subject="dashboard"
    ).exists()


def count_queries(http, url, params=None) -> int:
    """Queries of one request (no page is cached: every request reads the projections)."""
    with CaptureQueriesContext(connection) as queries:
        response = http.get(url, params or {})
        assert response.status_code == 200
        if response.streaming:
            b"".join(response.streaming_content)
    return len(queries)


@pytest.mark.parametrize("persona", ["clinician", "clinic_admin"])
@pytest.mark.parametrize("url", [HOME, EXPORT])
def test_query_counts_do_not_grow_with_the_caseload(world, persona, url):
    http = world.browser(persona)
    few = count_queries(http, url)
    today = world.clinic.today()
    for n in range(30):
        client = make_client(world.clinic, world.clinician, code=f"RC-1{n:02d}")
        give_scs(client, today - dt.timedelta(days=40), 3, 3)
        give_scs(client, today - dt.timedelta(days=5), 4, 2)
        log_entry(client, today)
        practise(client, today)
    assert count_queries(http, url) == few


@pytest.mark.parametrize(("persona", "expected"), [("clinician", 19), ("clinic_admin", 20)])
def test_the_dashboard_reads_in_an_exact_number_of_queries(world, persona, expected):
    # session, user, clinic; flag settings, assessment settings, configured SDs, baseline
    # moments; count, the page's ids, the page's clients, their SCS, PHQ-9 and GAD-7 summaries,
    # their open safety signals, their 14 days, their questionnaires not delivered; the safety
    # panel's signals; the programme filter's choices (1: no COUNT first, no server-side
    # cursor) and, for an admin, the clinician filter's (1); the session's new expiry
    # (savepoint, update, release).
    assert count_queries(world.browser(persona), HOME) == expected


def test_a_get_writes_nothing(world):
    log_entry(world.client_record, world.clinic.today())
    http = world.browser("clinic_admin")
    with CaptureQueriesContext(connection) as queries:
        http.get(HOME)
    writes = [
        q["sql"] for q in queries if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE")
    ]
    # Only the session's new expiry (the session table is clinic.UserSession's).
    assert all("clinic_user_session" in sql for sql in writes), writes


def test_a_new_entry_shows_on_the_next_read(world):
    http = world.browser("clinician")
    http.get(HOME)
    log_entry(world.client_record, world.clinic.today())
    [row] = rows_of(http.get(HOME))
    assert row.activity.last_activity_on == world.clinic.today()
    assert row.entries_recent == 1


# --- Acknowledging a flag -----------------------------------------------------------------


def quiet_client(world):
    for n in (40, 35, 30):
        log_entry(world.client_record, world.clinic.today() - dt.timedelta(days=n))
    return (world.clinic.today() - dt.timedelta(days=30)).isoformat()


def flags_url(world):
    return reverse("dashboard:client_flags", kwargs={"client_id": world.client_record.pk})


def test_acknowledging_without_a_note_names_the_field_keeps_nothing_and_saves_nothing(world):
    episode = quiet_client(world)
    http = world.browser("clinician")
    response = http.post(flags_url(world), {"kind": "quiet", "episode": episode, "note": "  "})
    assert response.status_code == 200
    assert "Note: Write a short note" in response.content.decode()
    assert not FlagAcknowledgement.objects.exists()


def test_acknowledging_an_out_of_date_flag_is_refused_and_the_note_is_kept_on_screen(world):
    quiet_client(world)
    http = world.browser("clinician")
    response = http.post(
        flags_url(world),
        {"kind": "quiet", "episode": "2020-01-01", "note": "Will call on Monday"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "no longer raised" in page and "Will call on Monday" in page
    assert not FlagAcknowledgement.objects.exists()


def test_an_acknowledgement_is_kept_and_audited(world):
    episode = quiet_client(world)
    http = world.browser("clinician")
    http.post(flags_url(world), {"kind": "quiet", "episode": episode, "note": "Called."})
    ack = FlagAcknowledgement.objects.get()
    assert (ack.acknowledged_by, ack.episode) == (world.clinician, episode)
    assert AuditEvent.objects.filter(client=world.client_record, subject="flag").exists()
    assert "Called." in http.get(flags_url(world)).content.decode()


def test_an_acknowledgement_posted_twice_is_recorded_and_audited_once(world):
    episode = quiet_client(world)
    http = world.browser("clinician")
    data = {"kind": "quiet", "episode": episode, "note": "Called."}
    assert http.post(flags_url(world), data).status_code == 302
    assert http.post(flags_url(world), data).status_code == 302
    assert FlagAcknowledgement.objects.count() == 1
    assert AuditEvent.objects.filter(client=world.client_record, subject="flag").count() == 1


def test_a_second_note_on_an_acknowledged_flag_is_kept_beside_the_first(world):
    episode = quiet_client(world)
    http = world.browser("clinician")
    http.post(flags_url(world), {"kind": "quiet", "episode": episode, "note": "Called."})
    http.post(flags_url(world), {"kind": "quiet", "episode": episode, "note": "No answer."})
    notes = FlagAcknowledgement.objects.order_by("pk").values_list("note", flat=True)
    assert list(notes) == ["Called.", "No answer."]


def test_a_colleague_cannot_acknowledge_a_flag_of_someone_elses_client(world):
    episode = quiet_client(world)
    response = world.browser("colleague").post(
        flags_url(world), {"kind": "quiet", "episode": episode, "note": "x"}
    )
    assert response.status_code == 404
    assert not FlagAcknowledgement.objects.exists()


# --- Settings and schedules ------------------------------------------------------------------


def test_a_clinic_admin_changes_the_thresholds_and_the_flags_follow(world):
    for n in (12, 11, 10):
        log_entry(world.client_record, world.clinic.today() - dt.timedelta(days=n))
    http = world.browser("clinic_admin")
    [row] = [r for r in rows_of(http.get(HOME)) if r.client == world.client_record]
    assert flags.QUIET not in [f.kind for f in row.flags]
    data = {
        "assessment_every_weeks": 4,
        "overdue_after_days": 7,
        "quiet_days": 7,
        "quiet_min_records": 3,
        "rising_weeks": 4,
        "rising_min_slope": 0.5,
        "deterioration_subscales": "on",
        "distress_min_rises": 2,
    }
    assert http.post(reverse("dashboard:flag_settings"), data).status_code == 302
    assert FlagSettings.objects.get(organisation=world.clinic).quiet_days == 7
    assert AssessmentSettings.objects.get(organisation=world.clinic).every_weeks == 4
    [row] = [r for r in rows_of(http.get(HOME)) if r.client == world.client_record]
    assert flags.QUIET in [f.kind for f in row.flags]


def test_bad_thresholds_are_refused_with_the_field_named(world):
    http = world.browser("clinic_admin")
    response = http.post(reverse("dashboard:flag_settings"), {"quiet_days": "1"})
    assert response.status_code == 200
    assert "quiet_days" in response.context["form"].errors
    assert FlagSettings.for_organisation(world.clinic.pk).quiet_days == 14  # nothing saved


def test_a_clinician_sets_a_clients_schedule_and_the_due_date_follows(world):
    http = world.browser("clinician")
    url = reverse("dashboard:schedule", kwargs={"client_id": world.client_record.pk})
    assert http.post(url, {"every_weeks": "8"}).status_code == 302
    assert AssessmentSchedule.objects.get(client=world.client_record).every_weeks == 8
    [row] = rows_of(http.get(HOME))
    assert row.next_due_on == world.client_record.intake_date + dt.timedelta(weeks=8)
    assert http.post(url, {"every_weeks": "0"}).status_code == 200  # 1..52 only


def test_programme_filter_keeps_only_members(world):
    programme = Programme.objects.create(organisation=world.clinic, name="MSC")
    programme.clients.add(world.other_client_record)
    http = world.browser("clinic_admin")
    assert page_codes(http.get(HOME, {"programme": programme.pk})) == ["RC-002"]


def test_an_acknowledgement_shows_at_once(world):
    for n in (40, 35, 30):
        log_entry(world.client_record, world.clinic.today() - dt.timedelta(days=n))
    http = world.browser("clinician")
    assert "Stopped logging</a>" in http.get(HOME).content.decode()
    episode = (world.clinic.today() - dt.timedelta(days=30)).isoformat()
    http.post(flags_url(world), {"kind": "quiet", "episode": episode, "note": "Called."})
    assert "Stopped logging ✓" in http.get(HOME).content.decode()


def test_the_client_flags_page_loads_the_stylesheet_that_colours_its_badges(world):
    quiet_client(world)
    page = world.browser("clinician").get(flags_url(world)).content.decode()
    assert 'class="badge sk-flag sk-flag-quiet"' in page
    assert "dashboard/dashboard.css" in page  # else the white badge text sits on white


# --- The safety pathway and the symptom measures on the dashboard -----------------------------


def a_safety_signal(world, client=None, **extra):
    from clinic.models import SignalKind, SignalSource
    from clinic.safety import safety_signal_raise

    client = client or world.client_record
    return safety_signal_raise(
        client=client,
        kind=SignalKind.SAFETY,
        source=SignalSource.PRACTICE,
        source_id=extra.pop("source_id", 1),
        actor=client.user,
        **extra,
    )


def test_a_safety_flag_tops_the_dashboard_and_its_panel_for_the_primary_clinician(world):
    other = make_client(world.clinic, world.clinician, code="RC-003")
    for n in (40, 35, 30):
        log_entry(other, world.clinic.today() - dt.timedelta(days=n))
    signal = a_safety_signal(world, asked_for_contact=True)
    response = world.browser("clinician").get(HOME)
    assert page_codes(response) == ["RC-001", "RC-003"]
    [first, _] = rows_of(response)
    assert first.flags[0].kind == flags.SAFETY
    page = response.content.decode()
    assert "Safety flags to act on (1)" in page
    assert "asked to be contacted" in page
    assert reverse("clinic:safety_signal", kwargs={"pk": signal.pk}) in page


@pytest.mark.parametrize(
    ("persona", "safety_contact", "sees"),
    [
        ("clinician", False, True),
        ("clinic_admin", False, True),
        ("colleague", False, False),
        ("colleague", True, True),
        ("other_clinic_clinician", True, False),
    ],
)
def test_the_safety_panel_shows_signals_to_those_they_are_routed_to(
    world, persona, safety_contact, sees
):
    a_safety_signal(world)
    user = world.user(persona)
    user.is_safety_contact = safety_contact
    user.save()
    page = world.browser(persona).get(HOME).content.decode()
    assert ("Safety flags to act on" in page) is sees


def test_the_dashboard_shows_the_latest_phq_9_and_gad_7_with_band_and_reliable_change(world):
    from assessments.instruments import get_instrument
    from assessments.services import administration_create

    today = world.clinic.today()

    def give(code, value, days):
        instrument = get_instrument(code)
        administration_create(
            client=world.client_record,
            instrument=instrument,
            answers=dict.fromkeys(range(1, instrument.item_count + 1), value),
            administered_on=today - dt.timedelta(days=days),
            mode="paper",
            entered_by=world.clinician,
        )

    give("phq-9", 2, 40)  # 18: moderately severe
    give("phq-9", 1, 3)  # 9: mild, 9 points down: reliably improved
    give("gad-7", 1, 3)  # 7: mild, one form only
    http = world.browser("clinician")
    [row] = rows_of(http.get(HOME))
    phq, gad = row.symptoms["phq-9"], row.symptoms["gad-7"]
    assert (phq.total, phq.band, phq.change, phq.verdict) == (9.0, "mild", -9.0, "improved")
    assert (gad.total, gad.band, gad.change, gad.verdict) == (7.0, "mild", None, "")
    [exported] = csv_rows(http.get(EXPORT))
    assert exported["phq9_latest_total"] == "9.0"
    assert exported["phq9_band"] == "mild"
    assert exported["phq9_reliable_change"] == "improved"
    assert exported["gad7_change_since_first"] == ""


def test_the_client_flags_page_lists_safety_flags_with_their_acknowledgements(world):
    from clinic.safety import safety_signal_acknowledge

    signal = a_safety_signal(world)
    old = a_safety_signal(world, source_id=2)
    safety_signal_acknowledge(actor=world.clinician, signal=old, action="scheduled", note="Mon.")
    page = world.browser("clinician").get(flags_url(world)).content.decode()
    assert reverse("clinic:safety_signal", kwargs={"pk": signal.pk}) in page
    assert "Scheduled a session" in page and "Mon." in page


@pytest.mark.parametrize("persona", ["clinician", "clinic_admin"])
@pytest.mark.parametrize("url", [HOME, EXPORT], ids=["page", "csv"])
def test_the_dashboard_reads_no_clients_notes_and_no_password_hash(world, url, persona):
    world.client_record.notes = "Free-text notes stay on the record page."
    world.client_record.save()
    http = world.browser(persona)
    with CaptureQueriesContext(connection) as queries:
        response = http.get(url)
        if url == EXPORT:
            csv_rows(response)
    assert not [q for q in queries if '"clinic_client"."notes"' in q["sql"]]
    # Only the signed-in user's own row carries a password hash, read once by the session
    # machinery as on every page: not the rows' clinicians, at once or one by one.
    with_password = [q["sql"] for q in queries if '"clinic_user"."password"' in q["sql"]]
    own = getattr(world, persona).pk
    assert len(with_password) == 1
    assert with_password[0].startswith('SELECT "clinic_user"."id", "clinic_user"."password"')
    assert with_password[0].endswith(f'WHERE "clinic_user"."id" = {own} LIMIT 21')
