"""Session brief, programme cohorts and dose-response pages on crafted data."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments.models import ScoreInterval
from clinic.models import AuditEvent, Programme
from dashboard.selectors import dose_frame
from tests.dashboard.helpers import at_noon, configure_sd, give_scs, log_entry, practise
from tests.factories import make_client
from tracking.models import InnerCriticEntry

pytestmark = pytest.mark.django_db


def built(response, name):
    return response.context[name]


def brief_url(world):
    return reverse("dashboard:brief", kwargs={"client_id": world.client_record.pk})


def test_the_brief_summarises_the_period_and_keeps_private_words_out(world):
    client = world.client_record
    today = world.clinic.today()
    configure_sd(world.clinic)
    give_scs(client, today - dt.timedelta(days=60), 3, 3)
    give_scs(client, today - dt.timedelta(days=2), 4, 2)
    log_entry(
        client, today - dt.timedelta(days=3), 8, intensity_after=4, reframed_at=timezone.now()
    )
    log_entry(client, today - dt.timedelta(days=1), 6, is_private=True, critic_text="SECRET")
    practise(client, today - dt.timedelta(days=1), 15)
    response = world.browser("clinician").get(brief_url(world))
    assert response.status_code == 200
    brief = built(response, "brief")
    assert (brief.entries, brief.reframed, brief.reframe_drop) == (2, 1, 4)
    assert ("Kept private", 1) in brief.triggers
    assert (brief.practice_minutes, brief.practice_sessions) == (15, 1)
    total = brief.scales[0]
    assert total.code == "total" and total.since_baseline.verdict == "improved"
    page = response.content.decode()
    assert "SECRET" not in page
    assert "Reframed 1" in page
    assert AuditEvent.objects.filter(client=client, subject="session brief").count() == 1


def test_the_brief_starts_after_the_users_last_brief_or_four_weeks_back(world):
    http = world.browser("clinician")
    today = world.clinic.today()
    assert built(http.get(brief_url(world)), "brief").since == today - dt.timedelta(days=27)
    # At noon clinic time nine days back: the same local day whatever the hour or clock change.
    AuditEvent.objects.filter(subject="session brief").update(
        at=at_noon(world.clinic, today - dt.timedelta(days=9))
    )
    brief = built(http.get(brief_url(world)), "brief")
    assert brief.since == today - dt.timedelta(days=9)
    assert "last brief" in brief.since_reason


def test_a_chosen_date_in_the_future_is_refused_with_a_message(world):
    future = (world.clinic.today() + dt.timedelta(days=3)).isoformat()
    response = world.browser("clinician").get(brief_url(world), {"since": future})
    assert response.status_code == 200
    assert "Since: Since cannot be in the future (after " in response.content.decode()
    assert "; the default period is shown instead." in response.content.decode()


def test_the_brief_query_count_does_not_grow_with_the_clients_data(world):
    http = world.browser("clinician")
    client = world.client_record
    today = world.clinic.today()
    give_scs(client, today - dt.timedelta(days=60), 3, 3)
    give_scs(client, today - dt.timedelta(days=20), 3, 2)
    with CaptureQueriesContext(connection) as few:
        http.get(brief_url(world))
    for n in range(40):
        log_entry(client, today - dt.timedelta(days=n % 20), 5)
        practise(client, today - dt.timedelta(days=n % 20), 5)
    give_scs(client, today - dt.timedelta(days=1), 4, 2)
    with CaptureQueriesContext(connection) as many:
        http.get(brief_url(world))
    assert len(many) == len(few)
    # session, user, clinic, the record; the last brief's day, the audit; the clinic's rules
    # and SDs (4); the SCS history; the day rows; trigger names; the journal count; the
    # dashboard row (record, its SCS, PHQ-9 and GAD-7 summaries, which the brief's symptoms
    # reuse, signals, 14 days, undelivered questionnaires); the charts (day rows, SCS, symptom
    # measures); the dose intervals; the session's new expiry (savepoint, update, release)
    assert len(many) == 25


# --- Cohorts -------------------------------------------------------------------------------


def cohort_world(world):
    """A programme 1 Sep - 26 Oct 2026 of four members: two paired, one without a post score,
    one (a colleague's client) without any score."""
    programme = Programme.objects.create(
        organisation=world.clinic,
        name="MSC autumn",
        starts_on=dt.date(2026, 9, 1),
        ends_on=dt.date(2026, 10, 26),
    )
    second = make_client(world.clinic, world.clinician, code="RC-010")
    third = make_client(world.clinic, world.clinician, code="RC-011")
    programme.clients.add(world.client_record, second, third, world.other_client_record)
    give_scs(world.client_record, dt.date(2026, 8, 25), 3, 3)  # 3.0
    give_scs(world.client_record, dt.date(2026, 10, 30), 4, 2)  # 4.0: +1.0
    give_scs(second, dt.date(2026, 8, 30), 2, 4)  # 2.0
    give_scs(second, dt.date(2026, 11, 2), 3, 4)  # 2.5: +0.5
    give_scs(third, dt.date(2026, 8, 28), 3, 3)  # pre only
    return programme


def test_cohort_statistics_count_every_member_and_match_hand_computed_values(world):
    programme = cohort_world(world)
    configure_sd(world.clinic)
    response = world.browser("clinic_admin").get(
        reverse("dashboard:cohort", kwargs={"programme_id": programme.pk})
    )
    cohort = built(response, "cohort")
    assert dict(cohort.status_counts) == {
        "paired": 2,
        "missing pre": 0,
        "missing post": 1,
        "missing both": 1,
    }
    total = cohort.outcomes[0]
    # changes +1.0 and +0.5: mean 0.75, SD 0.3536, d_z = 0.75 / 0.3536 = 2.12
    assert total.change.n == 2 and total.missing == 2
    assert total.change.mean_change == pytest.approx(0.75)
    assert total.change.cohens_dz == pytest.approx(2.1213, rel=1e-4)
    # minimum reliable change 0.51: +1.0 improved, +0.5 unchanged
    assert (total.verdicts.improved, total.verdicts.unchanged) == (1, 1)
    page = response.content.decode()
    assert "missing post" in page and "missing both" in page


def test_a_small_cohort_greys_its_effect_sizes_and_states_the_threshold(world):
    programme = cohort_world(world)
    response = world.browser("clinic_admin").get(
        reverse("dashboard:cohort", kwargs={"programme_id": programme.pk})
    )
    page = response.content.decode()
    # d_z 2.12 from two pairs is shown, greyed and marked, never as a finding
    assert '<span class="sk-too-few">2.12<br><span class="small">too few to interpret' in page
    assert "An effect size or a correlation needs at least 10 pairs" in page
    assert "a fitted line at least 5 points" in page
    trajectories = built(response, "cohort").trajectories
    *_, mean = trajectories.figure["data"]
    assert mean["customdata"] == [["before", 2], ["after", 2]]  # the two paired members


def test_a_clinician_sees_only_their_members_and_how_many_others_there_are(world):
    programme = cohort_world(world)
    url = reverse("dashboard:cohort", kwargs={"programme_id": programme.pk})
    cohort = built(world.browser("clinician").get(url), "cohort")
    assert sorted(m.code for m in cohort.members) == ["RC-001", "RC-010", "RC-011"]
    assert cohort.outside_scope == 1
    csv_url = reverse("dashboard:cohort_csv", kwargs={"programme_id": programme.pk})
    body = world.browser("colleague").get(csv_url).content.decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [row["code"] for row in rows] == ["RC-002"]
    assert rows[0]["status"] == "missing both"


def test_the_cohort_csv_lists_missing_members_and_audits_the_export(world):
    programme = cohort_world(world)
    url = reverse("dashboard:cohort_csv", kwargs={"programme_id": programme.pk})
    response = world.browser("clinic_admin").get(url)
    rows = {row["code"]: row for row in csv.DictReader(io.StringIO(response.content.decode()))}
    assert rows["RC-001"]["total_change"] == "1.0"
    assert rows["RC-011"]["status"] == "missing post" and rows["RC-011"]["post_total"] == ""
    assert AuditEvent.objects.filter(subject="cohort", action="export").count() == 4


def test_another_clinics_programme_is_not_found(world):
    programme = Programme.objects.create(organisation=world.other_clinic, name="Elsewhere")
    url = reverse("dashboard:cohort", kwargs={"programme_id": programme.pk})
    assert world.browser("clinic_admin").get(url).status_code == 404


def test_dose_response_relates_practice_between_questionnaires_to_change(world):
    client = world.client_record
    give_scs(client, dt.date(2026, 6, 1), 3, 3)
    give_scs(client, dt.date(2026, 7, 1), 3, 2)  # +0.5
    give_scs(client, dt.date(2026, 8, 1), 4, 2)  # +0.5
    practise(client, dt.date(2026, 6, 1), 50)  # on the first day: not between
    practise(client, dt.date(2026, 6, 15), 30)
    practise(client, dt.date(2026, 7, 1), 10)  # counts for the first interval (start < d <= end)
    practise(client, dt.date(2026, 7, 20), 60)
    log_entry(
        client,
        dt.date(2026, 7, 10),
        reframed_at=dt.datetime(2026, 7, 10, 13, tzinfo=world.clinic.tz),
    )
    response = world.browser("clinician").get(reverse("dashboard:dose_response"))
    dose = built(response, "dose")
    assert list(dose.frame["minutes"]) == [40, 60]
    assert list(dose.frame["reframes"]) == [0, 1]
    assert dose.minutes.n == 2
    assert "Correlational" in response.content.decode()


def test_the_dose_frame_holds_the_stored_intervals_numbers_with_a_missing_one_as_nan(world):
    """The reader (COPY on PostgreSQL, rows elsewhere) gives back exactly what is stored."""
    client = world.client_record
    for month, positive in ((6, 3), (7, 4), (8, 2)):
        give_scs(client, dt.date(2026, month, 1), positive, 3)
    practise(client, dt.date(2026, 6, 15), 30)
    ScoreInterval.objects.filter(client=client, end_on=dt.date(2026, 8, 1)).update(
        change_self_kindness=None
    )
    stored = ScoreInterval.objects.filter(client=client).order_by("end_on")
    frame = dose_frame([client.pk]).sort_values("days", kind="stable")
    assert len(frame) == 2
    assert list(frame["minutes"]) == [30, 0]
    expected = [row.change_self_kindness for row in stored]
    assert frame["change_self_kindness"].iloc[0] == pytest.approx(expected[0])
    assert expected[1] is None and math.isnan(frame["change_self_kindness"].iloc[1])
    assert list(frame["change_total"]) == pytest.approx([row.change_total for row in stored])
    assert dose_frame([]).empty and list(dose_frame([]).columns) == list(frame.columns)


def test_dose_response_of_a_colleague_shows_none_of_this_clients_data(world):
    give_scs(world.client_record, dt.date(2026, 6, 1), 3, 3)
    give_scs(world.client_record, dt.date(2026, 7, 1), 3, 2)
    dose = built(world.browser("colleague").get(reverse("dashboard:dose_response")), "dose")
    assert dose.minutes.n == 0
    assert InnerCriticEntry.objects.count() == 0


def test_the_brief_and_cohort_show_new_data_at_once(world):
    programme = cohort_world(world)
    http = world.browser("clinician")
    cohort_url = reverse("dashboard:cohort", kwargs={"programme_id": programme.pk})
    assert "1 missing post" in http.get(cohort_url).content.decode().replace("</strong> ", " ")
    assert "Reframed" not in http.get(brief_url(world)).content.decode()
    give_scs(world.client_record.__class__.objects.get(code="RC-011"), dt.date(2026, 10, 28), 4, 2)
    log_entry(
        world.client_record, world.clinic.today(), intensity_after=2, reframed_at=timezone.now()
    )
    assert "0 missing post" in http.get(cohort_url).content.decode().replace("</strong> ", " ")
    assert "Reframed 1" in http.get(brief_url(world)).content.decode()


@pytest.mark.parametrize("page", ["cohort", "cohort_csv", "dose_response"])
def test_cohort_and_dose_response_query_counts_do_not_grow_with_members(world, page):
    # the CSV's audit reads each member's organisation: loaded with the members, not one by one
    programme = cohort_world(world)
    by_programme = {"programme_id": programme.pk} if page != "dose_response" else {}
    url = reverse(f"dashboard:{page}", kwargs=by_programme)
    http = world.browser("clinic_admin")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert http.get(url).status_code == 200
        return len(queries)

    few = count()
    for n in range(15):
        member = make_client(world.clinic, world.clinician, code=f"RC-3{n:02d}")
        programme.clients.add(member)
        give_scs(member, dt.date(2026, 8, 28), 3, 3)
        give_scs(member, dt.date(2026, 10, 29), 4, 2)
        practise(member, dt.date(2026, 9, 15), 20)
    assert count() == few


def test_opening_a_cohort_records_a_view_of_each_member_in_scope(world):
    programme = cohort_world(world)
    url = reverse("dashboard:cohort", kwargs={"programme_id": programme.pk})
    world.browser("clinician").get(url)
    world.browser("clinician").get(url)  # every view is recorded
    viewed = AuditEvent.objects.filter(subject="cohort", action="view")
    assert sorted(set(viewed.values_list("client__code", flat=True))) == [
        "RC-001",
        "RC-010",
        "RC-011",
    ]
    assert viewed.count() == 6


def test_the_whole_clinics_dose_response_is_up_to_the_minute(world):
    give_scs(world.client_record, dt.date(2026, 6, 1), 3, 3)
    give_scs(world.client_record, dt.date(2026, 7, 1), 3, 2)
    http = world.browser("clinic_admin")
    assert built(http.get(reverse("dashboard:dose_response")), "dose").minutes.n == 1
    practise(world.client_record, dt.date(2026, 6, 20), 45)
    dose = built(http.get(reverse("dashboard:dose_response")), "dose")
    assert list(dose.frame["minutes"]) == [45]


# --- PHQ-9 and GAD-7 in the brief and the cohort -----------------------------------------------


def give_symptoms(client, code, total, on):
    """A PHQ-9 or GAD-7 totalling `total`, filled from item 1 on (never item 9 above 0)."""
    from assessments.instruments import get_instrument
    from assessments.services import administration_create

    instrument = get_instrument(code)
    answers, left = {}, total
    for number in range(1, instrument.item_count + 1):
        answers[number] = 0 if number == 9 else min(3, left)
        left -= answers[number]
    assert left == 0
    return administration_create(
        client=client,
        instrument=instrument,
        answers=answers,
        administered_on=on,
        mode="paper",
        entered_by=client.primary_clinician,
    )


def test_the_brief_shows_the_phq_9_and_gad_7_with_band_caseness_and_change(world):
    client = world.client_record
    today = world.clinic.today()
    give_symptoms(client, "phq-9", 16, today - dt.timedelta(days=30))
    give_symptoms(client, "phq-9", 8, today - dt.timedelta(days=2))
    give_symptoms(client, "gad-7", 9, today - dt.timedelta(days=2))
    response = world.browser("clinician").get(brief_url(world))
    phq, gad = built(response, "brief").symptoms
    assert (phq.short_name, phq.total, phq.band, phq.change, phq.verdict, phq.case) == (
        "PHQ-9", 8.0, "mild", -8.0, "improved", False,
    )  # fmt: skip
    assert (gad.short_name, gad.case, gad.change) == ("GAD-7", True, None)
    page = response.content.decode()
    assert "Depression and anxiety" in page and "PHQ-9 and GAD-7 over time" in page


def test_the_cohort_reports_reliable_improvement_and_recovery_per_measure(world):
    programme = Programme.objects.create(
        organisation=world.clinic,
        name="Compassion group",
        starts_on=dt.date(2026, 3, 2),
        ends_on=dt.date(2026, 4, 24),
    )
    recovered = world.client_record
    worse = make_client(world.clinic, world.clinician, code="RC-030")
    only_phq = make_client(world.clinic, world.clinician, code="RC-031")
    for member in (recovered, worse, only_phq):
        programme.clients.add(member)
    before, after = dt.date(2026, 2, 27), dt.date(2026, 4, 28)
    give_symptoms(recovered, "phq-9", 14, before)
    give_symptoms(recovered, "phq-9", 7, after)  # 7 down, 14 -> 7: reliable recovery
    give_symptoms(recovered, "gad-7", 9, before)
    give_symptoms(recovered, "gad-7", 6, after)  # 3 down: not reliable; 9 -> 6: recovered
    give_symptoms(worse, "phq-9", 5, before)
    give_symptoms(worse, "phq-9", 11, after)  # 6 up: reliable deterioration
    give_symptoms(worse, "gad-7", 3, before)
    give_symptoms(worse, "gad-7", 3, after)
    give_symptoms(only_phq, "phq-9", 12, before)  # no after: not a pair
    response = world.browser("clinician").get(
        reverse("dashboard:cohort", kwargs={"programme_id": programme.pk})
    )
    phq, gad, both = built(response, "cohort").symptoms
    assert (phq.pairs, phq.improved, phq.deteriorated, phq.cases, phq.recovered) == (2, 1, 1, 1, 1)
    assert phq.reliably_recovered == 1
    assert (gad.pairs, gad.improved, gad.cases, gad.recovered, gad.reliably_recovered) == (
        2, 0, 1, 1, 0,
    )  # fmt: skip
    assert (both.pairs, both.improved, both.deteriorated, both.cases, both.recovered) == (
        2, 1, 1, 1, 1,
    )  # fmt: skip
    page = response.content.decode()
    assert "Reliable recovery" in page and "NHS Talking Therapies" in page
    assert "only members who were a case at the start count" in page


# --- The cohort reads only the days it can use ---------------------------------------------------


def test_a_dated_programme_reads_from_eight_weeks_before_its_start_to_sixteen_after_its_end():
    from dashboard import cohorts

    programme = Programme(starts_on=dt.date(2026, 3, 2), ends_on=dt.date(2026, 4, 24))
    assert cohorts.days_read(programme) == (dt.date(2026, 1, 5), dt.date(2026, 8, 14))
    assert cohorts.days_read(Programme(starts_on=dt.date(2026, 3, 2))) is None
    assert cohorts.days_read(Programme()) is None


def test_answers_outside_the_days_read_would_change_nothing_on_the_cohort_page(world):
    """The oracle: the page's figures from every answer the members ever gave. Forms a year
    before and after, on the edges of the pre and post windows and of the trajectories' weeks,
    and just outside them."""
    from dashboard import cohorts, stats
    from dashboard.selectors import scs_rows, symptom_score_rows

    programme = cohort_world(world)  # its members' forms, Aug-Nov 2026, now a year after
    programme.starts_on, programme.ends_on = dt.date(2025, 9, 1), dt.date(2025, 10, 26)
    programme.save()
    second = programme.clients.get(code="RC-010")
    give_scs(second, dt.date(2025, 8, 30), 2, 4)
    give_scs(second, dt.date(2025, 11, 2), 3, 4)
    give_symptoms(second, "phq-9", 15, dt.date(2025, 8, 30))
    give_symptoms(second, "phq-9", 6, dt.date(2025, 11, 2))
    first, last = cohorts.days_read(programme)
    start, end = programme.starts_on, programme.ends_on
    edges = [
        first - dt.timedelta(days=1),
        first,
        start - dt.timedelta(days=stats.WINDOW_DAYS),
        end + dt.timedelta(days=stats.WINDOW_DAYS),
        last,
        last + dt.timedelta(days=1),
        start - dt.timedelta(days=365),
        end + dt.timedelta(days=365),
    ]
    for number, day in enumerate(edges):
        give_scs(world.client_record, day, 1 + number % 5, 5 - number % 5)
        give_symptoms(world.client_record, "phq-9", 3 + number, day)
        give_symptoms(world.client_record, "gad-7", 12 - number, day)
    members = list(programme.clients.order_by("code"))
    ids = [member.pk for member in members]
    every_answer = scs_rows(ids)
    assert len(every_answer) > len(scs_rows(ids, between=(first, last)))

    response = world.browser("clinic_admin").get(
        reverse("dashboard:cohort", kwargs={"programme_id": programme.pk})
    )
    cohort = built(response, "cohort")
    expected = stats.pre_post(every_answer, ids, start, end)
    pd_testing = pytest.importorskip("pandas.testing")
    pd_testing.assert_frame_equal(cohort.frame, expected)
    assert cohort.trajectories == cohorts.charts.trajectories_chart(
        cohorts._trajectory_points(programme, members, every_answer),
        pairs=cohorts._trajectory_pairs(programme, expected, every_answer),
    )
    # The PHQ-9, the GAD-7 and the two together, from every symptom answer (between=None).
    assert len(symptom_score_rows(ids)["gad-7"]) > len(
        symptom_score_rows(ids, between=(first, last))["gad-7"]
    )
    assert cohort.symptoms == cohorts.symptom_outcomes(programme, ids)
    assert [outcome.pairs for outcome in cohort.symptoms] == [2, 1, 1]
