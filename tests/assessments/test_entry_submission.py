"""A questionnaire saves one administration however many times its page is posted: a double
click on Save (a paper form's entry) or a double tap on Finish (the client's own, in the
portal) must not add a second score to the client's history nor raise a second risk flag."""

from __future__ import annotations

import uuid

from django.urls import reverse

from assessments.models import Administration
from clinic.models import AuditAction, AuditEvent, SafetySignal
from tests.assessments.test_entry import entry_url, form_data
from tests.assessments.test_risk_item import as_post, phq
from tests.tracking.test_submission_keys import drawn_key


def test_a_paper_form_entered_twice_saves_one_administration_and_both_land_on_its_results(
    world,
):
    http = world.browser("clinician")
    data = form_data([3] * 26, submission=drawn_key(http, entry_url(world)))
    first, second = http.post(entry_url(world), data), http.post(entry_url(world), data)
    administration = Administration.objects.get()
    results = reverse("assessments:results", kwargs={"pk": administration.pk})
    assert first["Location"] == second["Location"] == results
    assert administration.submission == uuid.UUID(data["submission"])


def test_a_phq_9_entered_twice_raises_its_risk_flag_once(world):
    http = world.browser("clinician")
    url = entry_url(world, "phq-9")
    data = as_post(
        phq(item_9=2),
        administered_on=world.clinic.today().isoformat(),
        mode="paper",
        submission=drawn_key(http, url),
    )
    http.post(url, data)
    http.post(url, data)
    assert Administration.objects.count() == 1
    assert SafetySignal.objects.filter(client=world.client_record).count() == 1


def test_a_second_paper_form_of_the_same_answers_is_a_second_administration(world):
    """Two forms filled in the same way on one day are the counselor's to enter: only the
    same drawing of the page posted again is a repeat."""
    http = world.browser("clinician")
    for _ in range(2):
        key = drawn_key(http, entry_url(world))
        http.post(entry_url(world), form_data([3] * 26, submission=key))
    assert Administration.objects.count() == 2


def test_a_form_sent_back_for_a_wrong_answer_keeps_its_key(world):
    http = world.browser("clinician")
    key = drawn_key(http, entry_url(world))
    refused = http.post(entry_url(world), form_data([3] * 25 + [9], submission=key))
    assert refused.status_code == 400
    assert f'name="submission" value="{key}"' in refused.content.decode()
    assert not Administration.objects.exists()
    http.post(entry_url(world), form_data([3] * 26, submission=key))
    http.post(entry_url(world), form_data([3] * 26, submission=key))
    assert Administration.objects.count() == 1


def test_a_paper_form_entered_twice_is_audited_once(world):
    http = world.browser("clinician")
    data = form_data([3] * 26, submission=drawn_key(http, entry_url(world)))
    http.post(entry_url(world), data)
    http.post(entry_url(world), data)
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, subject="assessment").count() == 1


def test_a_paper_form_sent_again_with_other_answers_saves_them_too(world):
    """Back, a corrected answer and Save send the old key with new answers: they are saved,
    as an administration of their own, never dropped for the key's sake."""
    http = world.browser("clinician")
    key = drawn_key(http, entry_url(world))
    http.post(entry_url(world), form_data([3] * 26, submission=key))
    http.post(entry_url(world), form_data([4] * 26, submission=key))
    assert sorted(a.answers["1"] for a in Administration.objects.all()) == [3, 4]


# --- The client's own questionnaire in the portal --------------------------------------------


def portal_url(instrument="phq-9"):
    return reverse("assessments:portal_complete", args=[instrument])


def test_a_phq_9_finished_twice_in_the_portal_is_saved_scored_and_flagged_once(world):
    http = world.browser("client")
    data = as_post(phq(item_9=2), finish="1", submission=drawn_key(http, portal_url()))
    first, second = http.post(portal_url(), data), http.post(portal_url(), data)
    assert first["Location"] == second["Location"] == reverse("clinic:portal_help")
    administration = Administration.objects.get()
    assert administration.is_final and administration.score is not None
    assert SafetySignal.objects.filter(client=world.client_record).count() == 1


def test_a_draft_finished_twice_in_the_portal_is_one_administration(world):
    """The second post finds no draft left (the first finished it): the page's key, which the
    administration took when it was finished, finds it instead."""
    http = world.browser("client")
    http.post(portal_url(), as_post(phq(blank=(1, 2)), save="1"))
    data = as_post(phq(), finish="1", submission=drawn_key(http, portal_url()))
    http.post(portal_url(), data)
    assert http.post(portal_url(), data).status_code == 302
    assert Administration.objects.get().is_final


def test_two_questionnaires_finished_from_two_pages_are_both_kept(world):
    http = world.browser("client")
    for _ in range(2):
        key = drawn_key(http, portal_url())
        http.post(portal_url(), as_post(phq(), finish="1", submission=key))
    assert Administration.objects.filter(status="final").count() == 2
