"""FHIR R4 export of an administration, validated with fhir.resources (R4B models, which match
R4 for QuestionnaireResponse and Observation)."""

import json

from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from clinic.models import AuditEvent
from tests.access_rules.assessments import administration_of


def test_the_export_is_a_valid_bundle_of_a_response_and_one_observation_per_score(world):
    answers = dict.fromkeys(range(1, 27), 3)
    answers[4] = None  # one blank item
    administration = administration_of(world.client_record, answers)

    response = world.browser("clinician").get(
        reverse("assessments:fhir_export", args=[administration.pk])
    )

    assert response["Content-Type"] == "application/fhir+json"
    data = json.loads(response.content)
    Bundle.model_validate(data)
    resources = [entry["resource"] for entry in data["entry"]]
    qr = QuestionnaireResponse.model_validate(resources[0])
    assert qr.status == "completed" and len(qr.item) == 26
    assert qr.item[3].answer is None and qr.item[0].answer[0].valueInteger == 3
    observations = [Observation.model_validate(r) for r in resources[1:]]
    codes = [o.code.coding[0].code for o in observations]
    assert codes == [
        "scs.self_kindness",
        "scs.self_judgment",
        "scs.common_humanity",
        "scs.isolation",
        "scs.mindfulness",
        "scs.over_identification",
        "scs.total.subscale_mean",
        "scs.compassionate_responding",
        "scs.uncompassionate_responding",
    ]
    total = observations[6]
    assert float(total.valueQuantity.value) == 3.0
    assert "total method: subscale_mean" in total.note[0].text
    assert "higher = more self-criticism" in observations[1].note[0].text
    assert "RC-001" in json.dumps(data) and "Sam" not in json.dumps(data)  # code, not the name
    assert AuditEvent.objects.filter(action="export", subject="assessment").count() == 1


def test_a_corrected_administration_is_exported_as_amended_with_the_corrected_answers(world):
    from assessments.services import correction_create

    administration = administration_of(world.client_record, dict.fromkeys(range(1, 27), 3))
    correction_create(
        administration=administration, new_answers={5: 5}, reason="misread", user=world.clinician
    )
    response = world.browser("clinician").get(
        reverse("assessments:fhir_export", args=[administration.pk])
    )
    resources = [entry["resource"] for entry in json.loads(response.content)["entry"]]
    qr = QuestionnaireResponse.model_validate(resources[0])
    assert qr.status == "amended" and qr.item[4].answer[0].valueInteger == 5
    assert {Observation.model_validate(r).status for r in resources[1:]} == {"amended"}


def observation_notes(world, answers, instrument="scs") -> dict[str, str]:
    administration = administration_of(world.client_record, answers, instrument=instrument)
    data = json.loads(
        world.browser("clinician")
        .get(reverse("assessments:fhir_export", args=[administration.pk]))
        .content
    )
    return {
        entry["resource"]["code"]["coding"][0]["code"]: entry["resource"]["note"][0]["text"]
        for entry in data["entry"][1:]
    }


PRORATED = "prorated under the missing-item rule"


def test_only_the_scales_touched_by_a_blank_item_are_marked_prorated(world):
    """Found in audit: one blank item marked every observation as prorated."""
    answers = dict.fromkeys(range(1, 27), 3)
    answers[5] = None  # self-kindness, and the compassionate-responding composite
    notes = observation_notes(world, answers)
    assert PRORATED in notes["scs.self_kindness"]
    assert PRORATED in notes["scs.total.subscale_mean"]
    assert PRORATED in notes["scs.compassionate_responding"]
    assert PRORATED not in notes["scs.self_judgment"]
    assert PRORATED not in notes["scs.uncompassionate_responding"]
    assert all("blank items: 5" in note and "missing-item rule" in note for note in notes.values())


def test_short_form_subscales_are_exported_as_not_interpretable_alone(world):
    notes = observation_notes(world, dict.fromkeys(range(1, 13), 3), instrument="scs-sf")
    assert "not interpretable alone" in notes["scs-sf.self_kindness"]
    assert "not interpretable alone" not in notes["scs-sf.total.item_mean"]


def test_a_phq_9_carries_the_loinc_panel_total_and_risk_item_codes(world):
    answers = {n: 1 for n in range(1, 10)}
    answers[9] = 2
    administration = administration_of(world.client_record, answers, instrument="phq-9")
    response = world.browser("clinician").get(
        reverse("assessments:fhir_export", args=[administration.pk])
    )
    data = json.loads(response.content)
    Bundle.model_validate(data)
    resources = [entry["resource"] for entry in data["entry"]]
    qr = QuestionnaireResponse.model_validate(resources[0])
    assert qr.questionnaire == "http://loinc.org/q/44249-1"
    total, item_9 = (Observation.model_validate(r) for r in resources[1:])
    assert (total.code.coding[0].system, total.code.coding[0].code) == (
        "http://loinc.org",
        "44261-6",
    )
    assert total.code.coding[1].code == "phq-9.total.item_sum"
    assert float(total.valueQuantity.value) == 10.0
    assert (item_9.code.coding[0].code, item_9.valueInteger) == ("44260-8", 2)


def test_a_gad_7_carries_the_loinc_total_code_and_no_risk_item(world):
    administration = administration_of(
        world.client_record, dict.fromkeys(range(1, 8), 1), instrument="gad-7"
    )
    data = json.loads(
        world.browser("clinician")
        .get(reverse("assessments:fhir_export", args=[administration.pk]))
        .content
    )
    resources = [entry["resource"] for entry in data["entry"]]
    assert resources[0]["questionnaire"] == "http://loinc.org/q/69737-5"
    [total] = resources[1:]
    assert total["code"]["coding"][0]["code"] == "70274-6"
