"""A form the missing-item rule cannot score is never saved by accident, and never counts as a
score: not the latest, not the baseline, not for the schedule, not for a flag."""

import datetime as dt
import io

from django.urls import reverse

from assessments.instruments import get_instrument
from assessments.models import Administration, BaselineMoments, Mode, ScoreSummary, Status
from assessments.selectors import results_for
from assessments.services import administration_create
from dashboard import flags, selectors
from tests.dashboard.helpers import give_scs

SCS = get_instrument("scs")


def entry_url(world):
    return reverse(
        "assessments:entry", kwargs={"client_id": world.client_record.pk, "instrument": "scs"}
    )


def two_of_26(**extra):
    data = {"administered_on": "2026-03-02", "mode": "paper", "item_1": "3", "item_2": "4"}
    data.update({f"item_{n}": "" for n in range(3, 27)})
    data.update(extra)
    return data


def test_pressing_enter_after_two_items_saves_nothing_and_asks_for_a_decision(world):
    response = world.browser("clinician").post(entry_url(world), two_of_26())

    html = response.content.decode()
    assert response.status_code == 400
    assert "Not saved: this SCS cannot be scored" in html
    assert "24 of 26 items are blank" in html
    assert 'name="save_unscored"' in html  # the explicit choice is offered only now
    assert 'name="item_1" value="3"' in html and 'name="item_2" value="4"' in html
    assert not Administration.objects.exists()


def test_the_unscored_choice_is_not_offered_before_it_is_needed(world):
    html = world.browser("clinician").get(entry_url(world)).content.decode()
    assert 'name="save_unscored"' not in html


def test_saving_it_unscored_on_purpose_keeps_the_answers_and_says_it_is_not_a_score(world):
    http = world.browser("clinician")
    response = http.post(entry_url(world), two_of_26(save_unscored="on"), follow=True)

    administration = Administration.objects.get()
    assert administration.status == Status.FINAL
    assert administration.score.status == "incomplete"
    assert administration.answers["1"] == 3 and administration.answers["3"] is None
    assert "saved unscored" in response.content.decode()
    assert not Administration.objects.scored().exists()


def test_a_scorable_form_with_the_box_ticked_is_simply_scored(world):
    data = {"administered_on": "2026-03-02", "mode": "paper"}
    data.update({f"item_{n}": "3" for n in range(1, 27)})
    response = world.browser("clinician").post(entry_url(world), {**data, "save_unscored": "on"})
    assert response.status_code == 302
    assert Administration.objects.get().score.status == "scored"


def test_an_unscored_form_does_not_replace_the_latest_score_the_due_date_or_the_flag(world):
    client = world.client_record
    scored = give_scs(client, dt.date(2026, 1, 5), 4, 2)
    administration_create(
        client=client,
        instrument=SCS,
        answers={1: 3, 2: 4},
        administered_on=dt.date(2026, 3, 2),
        mode=Mode.PAPER,
        entered_by=world.clinician,
    )
    context = selectors.clinic_context(world.clinic.pk)
    row = selectors.client_row(client, context, dt.date(2026, 3, 10))

    assert row.summary.latest_id == scored.pk
    assert row.summary.latest_total == 4.0
    assert row.summary.latest_on == dt.date(2026, 1, 5)
    assert row.next_due_on == dt.date(2026, 2, 2)  # four weeks after the scored one
    assert [flag.kind for flag in row.flags] == [flags.OVERDUE]


def test_change_on_a_results_page_is_measured_from_scored_forms_only(world):
    client = world.client_record
    administration_create(
        client=client,
        instrument=SCS,
        answers={1: 3},
        administered_on=dt.date(2026, 1, 1),
        mode=Mode.PAPER,
        entered_by=None,
    )
    first_scored = give_scs(client, dt.date(2026, 2, 1), 3, 3)
    latest = give_scs(client, dt.date(2026, 3, 1), 4, 2)

    rows = {row.code: row for row in results_for(latest)["rows"]}
    assert rows["self_kindness"].baseline == first_scored.score.subscale_score("self_kindness")


def test_the_clinic_baseline_is_each_clients_first_scored_form(world):
    client = world.client_record
    administration_create(
        client=client,
        instrument=SCS,
        answers={1: 3},
        administered_on=dt.date(2026, 1, 1),
        mode=Mode.PAPER,
        entered_by=None,
    )
    scored = give_scs(client, dt.date(2026, 2, 1), 4, 2)

    assert ScoreSummary.objects.get(client=client).baseline_id == scored.pk
    total = BaselineMoments.objects.get(organisation=world.clinic, scale="total")
    assert (total.n, total.total) == (1, 4.0)


def test_a_client_finishing_with_most_questions_unanswered_is_asked_first(world):
    http = world.browser("client")
    url = reverse("assessments:portal_complete", kwargs={"instrument": "scs"})
    answers = {"item_1": "3", "item_2": "4", "finish": "1"}

    response = http.post(url, answers)

    assert response.status_code == 400
    html = response.content.decode()
    assert "Not sent yet" in html and 'name="finish_unscored"' in html
    assert 'id="id_item_1_3" value="3" checked' in html  # the answers are kept
    assert not Administration.objects.filter(status=Status.FINAL).exists()

    response = http.post(url, {"item_1": "3", "item_2": "4", "finish_unscored": "1"})
    assert response.status_code == 302
    administration = Administration.objects.get()
    assert administration.status == Status.FINAL
    assert administration.score.status == "incomplete"


def test_an_import_says_how_many_rows_cannot_be_scored(world, tmp_path):
    from django.core.management import call_command

    header = "client_code,instrument,administered_on," + ",".join(f"item_{n}" for n in range(1, 27))
    full = ",".join("3" for _ in range(26))
    two = "3,4" + "," * 24
    path = tmp_path / "forms.csv"
    path.write_text(f"{header}\nRC-001,scs,2026-01-20,{full}\nRC-001,scs,2026-02-20,{two}\n")
    out = io.StringIO()
    call_command("import_assessments", world.clinic.slug, str(path), stdout=out)
    assert "imported 2 administrations" in out.getvalue()
    assert "1 cannot be scored (too many blank items)" in out.getvalue()
    assert Administration.objects.scored().count() == 1
