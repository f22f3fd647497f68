"""Corrections never lose data: the answers as entered stay, each change is recorded with old
and new value, who, when and why, and the administration is re-scored."""

from django.urls import reverse

from assessments.models import AnswerCorrection
from clinic.models import AuditEvent
from tests.access_rules.assessments import administration_of


def correction_form(administration, **changes):
    """What the correction page posts when loaded now, with `changes` typed in."""
    earlier = list(administration.corrections.all())
    current = administration.answers_with(earlier)
    data = {f"item_{n}": "" if v is None else str(v) for n, v in current.items()}
    data.update({f"item_{n}": str(v) for n, v in changes.items()})
    data["corrections_seen"] = str(len(earlier))
    return data


def test_a_correction_records_old_and_new_who_when_why_and_rescores(world):
    administration = administration_of(world.client_record, dict.fromkeys(range(1, 27), 3))
    http = world.browser("clinician")
    url = reverse("assessments:correct", args=[administration.pk])

    data = correction_form(administration, **{"5": 5, "12": 5})
    data["reason"] = "items 5 and 12 misread from the paper form"
    response = http.post(url, {k.replace("item_", "item_"): v for k, v in data.items()})

    assert response.status_code == 302
    administration.refresh_from_db()
    assert administration.answers["5"] == 3  # the answers as entered are untouched
    corrections = list(AnswerCorrection.objects.order_by("item"))
    assert [(c.item, c.old_value, c.new_value) for c in corrections] == [(5, 3, 5), (12, 3, 5)]
    assert corrections[0].corrected_by == world.clinician
    assert corrections[0].reason.startswith("items 5 and 12")
    assert administration.score.subscale_score("self_kindness") == (5 + 5 + 3 + 3 + 3) / 5
    event = AuditEvent.objects.get(action="update", subject="assessment")
    assert event.fields == ["item_12", "item_5"]  # names only, never values or the reason

    page = http.get(reverse("assessments:results", args=[administration.pk])).content.decode()
    assert "items 5 and 12 misread" in page and "Corrections" in page


def test_a_second_correction_starts_from_the_corrected_answers(world):
    administration = administration_of(world.client_record, dict.fromkeys(range(1, 27), 3))
    http = world.browser("clinician")
    url = reverse("assessments:correct", args=[administration.pk])
    http.post(url, {**correction_form(administration, **{"1": 4}), "reason": "first"})
    http.post(url, {**correction_form(administration, **{"1": 5}), "reason": "second"})
    assert [(c.old_value, c.new_value) for c in AnswerCorrection.objects.all()] == [(3, 4), (4, 5)]


def test_a_correction_needs_a_reason_and_valid_values_and_saves_nothing_otherwise(world):
    administration = administration_of(world.client_record, dict.fromkeys(range(1, 27), 3))
    http = world.browser("clinician")
    url = reverse("assessments:correct", args=[administration.pk])
    response = http.post(url, correction_form(administration, **{"1": 4}))
    assert response.status_code == 400 and b"reason" in response.content.lower()
    response = http.post(url, {**correction_form(administration, **{"1": 8}), "reason": "x"})
    assert response.status_code == 400 and b"Item 1" in response.content
    assert not AnswerCorrection.objects.exists()


def test_no_change_records_nothing(world):
    administration = administration_of(world.client_record, dict.fromkeys(range(1, 27), 3))
    http = world.browser("clinician")
    url = reverse("assessments:correct", args=[administration.pk])
    http.post(url, {**correction_form(administration), "reason": "checked"})
    assert not AnswerCorrection.objects.exists()


def test_a_correction_from_an_outdated_page_is_refused_and_keeps_the_input(world):
    """Found in review: a form loaded before someone else's correction silently undid it."""
    administration = administration_of(world.client_record, dict.fromkeys(range(1, 27), 3))
    url = reverse("assessments:correct", args=[administration.pk])
    alex, casey = world.browser("clinician"), world.browser("clinic_admin")
    opened_by_alex = correction_form(administration, **{"2": 4})

    casey.post(url, {**correction_form(administration, **{"1": 5}), "reason": "item 1 misread"})
    stale = alex.post(url, {**opened_by_alex, "reason": "item 2 misread"})

    assert stale.status_code == 400
    page = stale.content.decode()
    assert "Someone else corrected these answers" in page and "item 1 is 5" in page
    assert "item 2 misread" in page  # the reason typed is kept
    assert [(c.item, c.new_value) for c in AnswerCorrection.objects.all()] == [(1, 5)]

    # A deliberate second save applies Alex's answers over the newer ones.
    again = alex.post(url, stale.context["form"].data)
    assert again.status_code == 302
    final = administration.answers_with(administration.corrections.all())
    assert (final[1], final[2]) == (3, 4)
