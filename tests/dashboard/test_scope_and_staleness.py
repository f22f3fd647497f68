"""Regression tests from the reviews of the dashboard: who may see a client changes, writes
that reach every page at once (nothing is cached), and bad input on the dashboard pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from assessments.instruments import get_instrument
from assessments.models import Mode
from assessments.services import administration_create
from clinic import services as clinic_services
from clinic.models import Programme
from dashboard import selectors, services
from tests.dashboard.helpers import at_noon, give_scs, log_entry
from tests.factories import make_client
from tracking.models import ClientDay

pytestmark = pytest.mark.django_db
HOME = reverse("dashboard:home")


def codes_on(http) -> str:
    return http.get(HOME).content.decode()


def row_of(world, client):
    return selectors.client_row(
        client, selectors.clinic_context(world.clinic.pk), world.clinic.today()
    )


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
    assert row_of(world, client).next_due_on == new_intake + dt.timedelta(weeks=4)


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
    due = row_of(world, client).next_due_on
    assert due == today - dt.timedelta(days=60) + dt.timedelta(weeks=4)


def test_the_thirtieth_baseline_gives_every_client_of_the_clinic_a_verdict_at_once(world):
    for n in range(28):
        client = make_client(world.clinic, world.clinician, code=f"B-{n:02d}")
        give_scs(client, dt.date(2026, 2, 1), 2 + n % 3, 3)
    give_scs(world.client_record, dt.date(2026, 2, 1), 3, 2)  # 29 baselines
    give_scs(world.client_record, dt.date(2026, 6, 1), 5, 1)
    assert row_of(world, world.client_record).verdict == "not enough data"
    give_scs(world.other_client_record, dt.date(2026, 2, 1), 4, 2)  # the 30th
    assert row_of(world, world.client_record).verdict == "improved"


def test_a_new_clinic_time_zone_moves_every_day_of_the_rollups_at_once(world):
    client = world.client_record
    # 23:30 in London on 1 March is 10:30 on 2 March in Auckland.
    log_entry(client, dt.date(2026, 3, 1))
    entry = client.critic_entries.get()
    late = at_noon(world.clinic, dt.date(2026, 3, 1)).replace(hour=23, minute=30)
    from tracking.services import entry_update

    entry_update(actor=world.clinician, entry=entry, data={"occurred_at": late})
    assert list(ClientDay.objects.values_list("day", flat=True)) == [dt.date(2026, 3, 1)]
    services.organisation_time_zone_set(organisation=world.clinic, time_zone="Pacific/Auckland")
    assert list(ClientDay.objects.values_list("day", flat=True)) == [dt.date(2026, 3, 2)]


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
