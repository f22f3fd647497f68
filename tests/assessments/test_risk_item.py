"""A PHQ-9 answer above 0 on item 9 raises a risk flag at once, however the form arrives (paper
entry, portal, one-time link, import), even on an incomplete form or a draft; the client sees the
crisis resources right after submitting. PHQ-9 and GAD-7 forms show no subscale names and follow
the clinic's proration choice."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assessments.importing import import_valid, validate
from assessments.instruments import get_instrument
from assessments.models import Administration, AssessmentSettings
from assessments.services import administration_create, correction_create, one_time_link_create
from clinic.models import CrisisContact, SafetySignal, SignalKind

pytestmark = pytest.mark.django_db
PHQ_9 = get_instrument("phq-9")


def phq(item_9=0, rest=1, blank=()):
    return {n: (None if n in blank else (item_9 if n == 9 else rest)) for n in range(1, 10)}


def as_post(answers, **extra):
    return {
        **{f"item_{n}": "" if v is None else str(v) for n, v in answers.items()},
        **extra,
    }


def link_token(world, instrument=PHQ_9) -> str:
    _, token = one_time_link_create(
        client=world.client_record, instrument=instrument, created_by=world.clinician
    )
    return token


def risk_signals(world):
    return list(SafetySignal.objects.filter(client=world.client_record, kind=SignalKind.RISK_ITEM))


def enter_phq(world, answers):
    return administration_create(
        client=world.client_record,
        instrument=PHQ_9,
        answers=answers,
        administered_on=world.clinic.today(),
        mode="paper",
        entered_by=world.clinician,
    )


def test_a_paper_phq_9_with_item_9_above_0_raises_a_risk_flag_shown_on_its_results(world):
    response = world.browser("clinician").post(
        reverse("assessments:entry", args=[world.client_record.pk, "phq-9"]),
        as_post(phq(item_9=2), administered_on=world.clinic.today().isoformat(), mode="paper"),
    )
    assert response.status_code == 302
    [signal] = risk_signals(world)
    administration = Administration.objects.get()
    assert (signal.source, signal.source_id) == ("questionnaire", administration.pk)
    assert signal.label == "PHQ-9 item 9 answered 2 (0-3)"
    assert signal.raised_by == world.clinician and signal.is_open
    page = world.browser("clinician").get(response["Location"]).content.decode()
    assert 'id="sk-risk-alert"' in page
    assert reverse("clinic:safety_signal", kwargs={"pk": signal.pk}) in page


def test_item_9_at_0_raises_nothing_whatever_the_total(world):
    enter_phq(world, phq(item_9=0, rest=3))  # 24: severe, but no risk answer
    assert risk_signals(world) == []


def test_an_incomplete_form_with_only_item_9_answered_still_raises_it(world):
    administration = enter_phq(world, phq(item_9=1, blank=range(1, 9)))
    assert administration.score.status == "incomplete"
    assert len(risk_signals(world)) == 1


def test_a_correction_raises_it_once_and_never_twice_for_one_questionnaire(world):
    administration = enter_phq(world, phq(item_9=0))
    correction_create(
        administration=administration, new_answers={9: 1}, reason="misread", user=world.clinician
    )
    correction_create(
        administration=administration, new_answers={9: 3}, reason="misread", user=world.clinician
    )
    [signal] = risk_signals(world)
    assert signal.label == "PHQ-9 item 9 answered 1 (0-3)"


def test_a_client_completing_it_in_the_portal_sees_the_crisis_resources_right_after(world):
    CrisisContact.objects.create(organisation=world.clinic, name="Samaritans", phone="116 123")
    http = world.browser("client")
    url = reverse("assessments:portal_complete", args=["phq-9"])
    response = http.post(url, as_post(phq(item_9=1), finish="1"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("clinic:portal_help")
    page = response.content.decode()
    assert "things may be very hard for you right now" in page and "Samaritans" in page
    [signal] = risk_signals(world)
    assert signal.raised_by == world.client


def test_a_draft_with_item_9_above_0_raises_it_at_once(world):
    http = world.browser("client")
    url = reverse("assessments:portal_complete", args=["phq-9"])
    http.post(url, as_post(phq(item_9=2, blank=(1, 2, 3)), save="1"))
    assert Administration.objects.get().status == "draft"
    assert len(risk_signals(world)) == 1


def test_by_one_time_link_the_thank_you_page_shows_the_crisis_resources(world):
    CrisisContact.objects.create(organisation=world.clinic, name="Shout", text_line="Text SHOUT")
    token = link_token(world)
    anonymous = world.browser("anonymous")
    response = anonymous.post(
        reverse("assessment_link", args=[token]), as_post(phq(item_9=3), finish="1")
    )
    page = response.content.decode()
    assert "Thank you" in page and "Text SHOUT" in page
    assert "Selfkind is not monitored around the clock" in page
    assert reverse("assessment_link_help", args=[token]) in page  # the bar's crisis link
    [signal] = risk_signals(world)
    assert signal.raised_by is None


def test_an_import_raises_it_for_each_row_that_trips_the_risk_item(world):
    header = "client_code,instrument,administered_on," + ",".join(f"item_{n}" for n in range(1, 10))
    on = world.clinic.today().isoformat()
    rows = [
        f"RC-001,phq-9,{on}," + ",".join(["1"] * 8 + ["1"]),
        f"RC-001,phq-9,{on}," + ",".join(["2"] * 8 + ["0"]),
    ]
    report = validate(world.clinic, "\n".join([header, *rows, ""]).encode())
    assert import_valid(report, actor=world.clinic_admin) == 2
    assert len(risk_signals(world)) == 1


def test_the_link_help_page_shows_the_clinics_contacts_and_nothing_about_the_client(world):
    CrisisContact.objects.create(organisation=world.clinic, name="Samaritans", phone="116 123")
    token = link_token(world)
    anonymous = world.browser("anonymous")
    help_url = reverse("assessment_link_help", args=[token])
    page = anonymous.get(help_url).content.decode()
    assert "Samaritans" in page and "not monitored around the clock" in page
    assert "RC-001" not in page and "Sam" not in page.replace("Samaritans", "")
    # Still there once the questionnaire is sent; an unknown token is not found.
    anonymous.post(reverse("assessment_link", args=[token]), as_post(phq(), finish="1"))
    assert anonymous.get(help_url).status_code == 200
    assert anonymous.get(reverse("assessment_link_help", args=["x" * 43])).status_code == 404


def test_every_page_of_a_one_time_link_links_to_its_crisis_page(world):
    token = link_token(world, get_instrument("scs"))
    page = world.browser("anonymous").get(reverse("assessment_link", args=[token]))
    assert f'href="{reverse("assessment_link_help", args=[token])}"' in page.content.decode()


@pytest.mark.parametrize("code", ["scs", "scs-sf", "fscrs", "phq-9", "gad-7"])
def test_client_forms_without_wording_show_item_numbers_never_what_an_item_measures(world, code):
    instrument = get_instrument(code)
    page = (
        world.browser("client")
        .get(reverse("assessments:portal_complete", args=[code]))
        .content.decode()
    )
    assert "Item 1" in page and f"Item {instrument.item_count}" in page
    for name in {s.name.lower() for s in instrument.subscales} | {
        i.label for i in instrument.items
    }:
        assert name not in page.lower(), name


def test_the_clinics_proration_choice_scores_a_phq_9_with_one_blank_item(world):
    answers = phq(item_9=0, rest=2, blank=(4,))
    assert enter_phq(world, answers).score.status == "incomplete"
    world.browser("clinic_admin").post(
        reverse("assessments:rc_settings"), {"proration": "1", "prorate_sum_totals": "on"}
    )
    assert AssessmentSettings.objects.get(organisation=world.clinic).prorate_sum_totals
    score = enter_phq(world, answers).score
    # Seven 2s and item 9 at 0: 14 over eight answered items, x 9 = 15.75.
    assert (score.status, score.total, score.prorated) == ("scored", 15.75, True)
    assert score.missing_rule == "selfkind-sum-prorate-1"


def test_the_link_help_page_reads_in_a_fixed_number_of_queries(world, django_assert_num_queries):
    CrisisContact.objects.create(organisation=world.clinic, name="Samaritans", phone="116 123")
    token = link_token(world)
    anonymous = world.browser("anonymous")
    # the link with its client, the clinic's contacts
    with django_assert_num_queries(2):
        assert anonymous.get(reverse("assessment_link_help", args=[token])).status_code == 200


def test_the_score_export_of_a_phq_9_lists_its_total_band_and_blank_items(world):
    enter_phq(world, phq(item_9=0, rest=2))
    response = world.browser("clinician").get(
        reverse("assessments:export_csv", args=[world.client_record.pk]), {"instrument": "phq-9"}
    )
    header, row = response.content.decode().splitlines()
    assert header.endswith(
        "total (higher = more severe depression),total_method,band,missing_items,prorated,status"
    )
    assert row.endswith(",16.0000,item_sum,moderately_severe,,no,scored")


def test_the_portal_results_of_a_phq_9_show_its_total_and_band(world):
    administration = enter_phq(world, phq(item_9=0, rest=1))
    page = (
        world.browser("client")
        .get(reverse("assessments:portal_results", args=[administration.pk]))
        .content.decode()
    )
    assert "Overall: 8 (mild)" in page
