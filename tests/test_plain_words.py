"""Pages a clinician reads at a glance: words instead of codes, and every blank explained."""

from __future__ import annotations

import datetime as dt
import re

from django.urls import reverse

from assessments.instruments import get_instrument
from assessments.services import administration_create
from tests.dashboard.helpers import give_scs, log_entry
from tests.factories import make_client


def test_a_new_clients_dashboard_row_says_baseline_due_not_a_date_weeks_away(world):
    today = world.clinic.today()
    make_client(world.clinic, world.clinician, code="RC-050", intake_date=today)
    page = world.browser("clinician").get(reverse("dashboard:home")).content.decode()
    row = page[page.index("RC-050") :].split("</tr>")[0]
    assert "baseline due" in row
    assert "next " not in row
    assert f"intake {today.day} {today:%b %Y}" in row


def test_not_enough_data_says_why_on_the_dashboard_and_links_to_the_sd_setting(world):
    today = world.clinic.today()
    give_scs(world.client_record, today - dt.timedelta(days=40), 3, 3)
    give_scs(world.client_record, today - dt.timedelta(days=2), 4, 2)
    admin_page = world.browser("clinic_admin").get(reverse("dashboard:home")).content.decode()
    assert "Why change says “not enough data”" in admin_page
    assert "needs 30 clients with a baseline (1 so far)" in admin_page
    assert reverse("assessments:rc_settings") in admin_page
    assert 'href="#sk-no-verdict">not enough data: why?</a>' in admin_page
    clinician_page = world.browser("clinician").get(reverse("dashboard:home")).content.decode()
    assert "A clinic admin can set a reference SD" in clinician_page
    assert reverse("assessments:rc_settings") not in clinician_page


def test_with_a_reference_sd_there_is_nothing_to_explain(world):
    from tests.dashboard.helpers import configure_sd

    configure_sd(world.clinic)
    give_scs(world.client_record, world.clinic.today() - dt.timedelta(days=9), 3, 3)
    page = world.browser("clinic_admin").get(reverse("dashboard:home")).content.decode()
    assert "sk-no-verdict" not in page


def test_the_assessments_list_shows_fscrs_sums_words_and_a_programme_control(world):
    fscrs = get_instrument("fscrs")
    answers = dict.fromkeys(range(1, 23), 2)
    administration_create(
        client=world.client_record,
        instrument=fscrs,
        answers=answers,
        administered_on=dt.date(2026, 3, 2),
        mode="paper",
        entered_by=world.clinician,
    )
    give_scs(world.client_record, dt.date(2026, 3, 2), 3, 3)
    url = reverse("assessments:client_assessments", kwargs={"client_id": world.client_record.pk})
    page = world.browser("clinician").get(url).content.decode()
    # 9, 5 and 8 items answered 2: sums 18, 10 and 16
    assert "Inadequate Self 18<br>Hated Self 10<br>Reassured Self 16" in page
    assert "subscale_mean" not in page and "mean of the subscale means" in page
    assert "programme=ID" not in page
    assert '<select class="form-select form-select-sm mb-2" name="programme"' in page


def test_the_results_page_names_the_total_method_in_words(world):
    administration = give_scs(world.client_record, dt.date(2026, 3, 2), 3, 3)
    url = reverse("assessments:results", kwargs={"pk": administration.pk})
    page = world.browser("clinician").get(url).content.decode()
    assert "Computed as the mean of the subscale means" in page
    assert "subscale_mean" not in page


def test_the_audit_trail_reads_as_words(world):
    log_entry(world.client_record, world.clinic.today())
    world.browser("clinician").get(
        reverse("tracking:client_log", kwargs={"client_id": world.client_record.pk})
    )
    url = reverse("clinic:client_audit", kwargs={"client_id": world.client_record.pk})
    page = world.browser("clinic_admin").get(url).content.decode()
    assert "<td>Viewed</td><td>Inner-critic log</td><td>entries, journal, practice</td>" in page
    assert "inner_critic_log" not in page and "<td>view</td>" not in page


def test_the_timeline_never_stamps_a_day_with_a_made_up_time(world):
    today = world.clinic.today()
    give_scs(world.client_record, today - dt.timedelta(days=3), 3, 3)
    log_entry(world.client_record, today)
    url = reverse("clinic:client_detail", kwargs={"client_id": world.client_record.pk})
    page = world.browser("clinician").get(url).content.decode()
    timeline = page[page.index('class="sk-timeline"') :]
    stamps = re.findall(r'<div class="small text-muted">([^<]*)·', timeline)
    assert stamps and not any(":" in stamp for stamp in stamps), stamps
    assert "inner-critic entry in the week of" in timeline
    assert "(mean of the subscale means)" in timeline
