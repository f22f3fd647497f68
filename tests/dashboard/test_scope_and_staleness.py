"""Regression tests from the review of the dashboard: who may see a client changes, writes that
send no model signal, overlapping rebuilds, and bad input on the dashboard pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from assessments.instruments import get_instrument
from assessments.models import Mode
from assessments.services import administration_create
from clinic import services as clinic_services
from clinic.models import Programme
from dashboard import services
from dashboard.models import ClientSummary, FlagSettings
from tests.dashboard.helpers import give_scs, log_entry
from tests.factories import make_client
from tracking.models import TriggerCategory

pytestmark = pytest.mark.django_db
HOME = reverse("dashboard:home")


def codes_on(http) -> str:
    return http.get(HOME).content.decode()


def test_a_clinician_taken_off_the_care_team_no_longer_sees_the_client_even_cached(world):
    client = world.client_record
    clinic_services.client_care_team_set(
        actor=world.clinic_admin,
        client=client,
        expected_version=client.version,
        primary=world.clinician,
        others=[world.colleague],
    )
    colleague = world.browser("colleague")
    assert "RC-001" in codes_on(colleague)  # now cached
    client.refresh_from_db()
    clinic_services.client_care_team_set(
        actor=world.clinic_admin,
        client=client,
        expected_version=client.version,
        primary=world.clinician,
        others=[],
    )
    assert "RC-001" not in codes_on(colleague)


def test_a_new_primary_clinician_takes_the_client_off_the_old_ones_cached_page(world):
    client = world.client_record
    alex = world.browser("clinician")
    assert "RC-001" in codes_on(alex)
    clinic_services.client_care_team_set(
        actor=world.clinic_admin,
        client=client,
        expected_version=client.version,
        primary=world.colleague,
        others=[],
    )
    assert "RC-001" not in codes_on(alex)
    assert "RC-001" in codes_on(world.browser("colleague"))


def test_an_edited_name_and_intake_date_reach_the_cached_page_and_the_due_date(world):
    client = world.client_record
    http = world.browser("clinician")
    codes_on(http)
    new_intake = world.clinic.today() - dt.timedelta(days=3)
    clinic_services.client_update(
        actor=world.clinician,
        client=client,
        expected_version=client.version,
        data={"display_name": "Samira R.", "intake_date": new_intake},
    )
    assert "Samira R." in codes_on(http)
    summary = ClientSummary.objects.get(client=client)
    assert summary.next_due_on == new_intake + dt.timedelta(weeks=4)


def test_another_instrument_does_not_postpone_the_scs_due_date(world):
    client = world.client_record
    today = world.clinic.today()
    give_scs(client, today - dt.timedelta(days=60), 3, 3)
    fscrs = get_instrument("fscrs")
    administration_create(
        client=client,
        instrument=fscrs,
        answers={item.number: 2 for item in fscrs.items},
        administered_on=today,
        mode=Mode.PAPER,
        entered_by=None,
    )
    services.summaries_refresh([client.pk])
    summary = ClientSummary.objects.get(client=client)
    assert summary.next_due_on == today - dt.timedelta(days=60) + dt.timedelta(weeks=4)


def test_overlapping_rebuilds_never_leave_older_data_marked_fresh(world, monkeypatch):
    client = world.client_record
    real = services._summaries_for
    calls = []

    def first_rebuild_is_slow(*args, **kwargs):
        rows = real(*args, **kwargs)
        if not calls:
            calls.append(1)
            log_entry(client, world.clinic.today())  # lands after this rebuild read
            services.summaries_refresh([client.pk])  # a second rebuild runs to the end
        return rows

    monkeypatch.setattr(services, "_summaries_for", first_rebuild_is_slow)
    services.summaries_refresh([client.pk])
    summary = ClientSummary.objects.get(client=client)
    assert summary.stale  # the first rebuild's older rows are not trusted
    monkeypatch.setattr(services, "_summaries_for", real)
    services.summaries_refresh([client.pk])
    assert ClientSummary.objects.get(client=client).activity_count == 1


def test_an_acknowledgement_made_during_a_rebuild_is_not_lost(world, monkeypatch):
    client = world.client_record
    for n in (40, 35, 30):
        log_entry(client, world.clinic.today() - dt.timedelta(days=n))
    services.summaries_refresh([client.pk])
    episode = (world.clinic.today() - dt.timedelta(days=30)).isoformat()
    real = services._summaries_for

    def acknowledged_meanwhile(*args, **kwargs):
        rows = real(*args, **kwargs)
        services.flag_acknowledge(
            actor=world.clinician,
            client=client,
            kind="quiet",
            episode=episode,
            note="Called.",
            today=world.clinic.today(),
        )
        return rows

    ClientSummary.objects.filter(client=client).update(stale=True)
    monkeypatch.setattr(services, "_summaries_for", acknowledged_meanwhile)
    services.summaries_refresh([client.pk])
    monkeypatch.setattr(services, "_summaries_for", real)
    services.summaries_refresh_stale([client.pk])
    assert ClientSummary.objects.get(client=client).ack_quiet.isoformat() == episode


def test_the_thirtieth_baseline_marks_the_whole_clinic_stale(world):
    for n in range(28):
        give_scs(
            make_client(world.clinic, world.clinician, code=f"B-{n:02d}"), dt.date(2026, 2, 1), 3, 3
        )
    give_scs(world.client_record, dt.date(2026, 2, 1), 3, 2)  # 29 baselines
    services.summaries_refresh()
    give_scs(world.other_client_record, dt.date(2026, 2, 1), 4, 2)  # the 30th
    assert ClientSummary.objects.get(client=world.client_record).stale


def test_a_new_clinic_time_zone_and_a_renamed_trigger_reach_cached_pages(world):
    services.summaries_refresh()
    before = FlagSettings.for_organisation(world.clinic.pk).dashboard_version
    TriggerCategory.objects.create(organisation=world.clinic, name="Studies")
    assert FlagSettings.for_organisation(world.clinic.pk).dashboard_version > before
    world.clinic.time_zone = "Europe/Dublin"
    world.clinic.save()
    assert ClientSummary.objects.get(client=world.client_record).stale


def test_a_member_removed_from_the_client_side_leaves_the_cached_cohort(world):
    programme = Programme.objects.create(organisation=world.clinic, name="MSC")
    programme.clients.add(world.client_record)
    url = reverse("dashboard:cohort", kwargs={"programme_id": programme.pk})
    http = world.browser("clinic_admin")
    assert "RC-001" in http.get(url).content.decode()
    world.client_record.programmes.remove(programme)
    assert "RC-001" not in http.get(url).content.decode()


def test_a_brief_since_a_date_centuries_ago_is_refused_with_a_message(world):
    url = reverse("dashboard:brief", kwargs={"client_id": world.client_record.pk})
    response = world.browser("clinician").get(url, {"since": "0001-01-01"})
    assert response.status_code == 200
    assert (
        "Since: Since cannot be before 1 January 1900; the default period is shown instead."
        in response.content.decode()
    )
    ten_years_ago = world.clinic.today().replace(year=world.clinic.today().year - 11)
    response = world.browser("clinician").get(url, {"since": ten_years_ago.isoformat()})
    assert "Since: Since must be within the last 10 years." in response.content.decode()


def test_an_invalid_filter_is_named_and_the_others_still_apply(world):
    make_client(world.clinic, world.clinician, code="RC-050")
    http = world.browser("clinician")
    page = http.get(HOME, {"q": "RC-050", "programme": "99999"}).content.decode()
    assert "Some filters were left out: Programme" in page
    assert "RC-050" in page and "RC-001" not in page


def test_the_csv_export_refuses_an_invalid_filter_rather_than_export_everything(world):
    response = world.browser("clinic_admin").get(reverse("dashboard:export_csv"), {"flag": "x"})
    assert response.status_code == 400
    assert "Flags" in response.content.decode()


def test_refused_thresholds_do_not_show_as_if_in_force(world):
    response = world.browser("clinic_admin").post(
        reverse("dashboard:flag_settings"), {"quiet_days": "30", "rising_weeks": "1"}
    )
    assert response.status_code == 200
    assert "for 14 days" in response.content.decode()
