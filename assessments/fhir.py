"""FHIR R4 JSON for one administration: a collection Bundle holding a QuestionnaireResponse and
one Observation per subscale score and total (plus composites), coded in a local code system.
Where the instrument file gives LOINC codes (PHQ-9, GAD-7), the questionnaire is the LOINC panel
and the total Observation carries the LOINC total code beside the local one; the PHQ-9 risk
item, when answered, is an Observation of its own with its LOINC item code.

Validated in tests with fhir.resources.R4B (the installed fhir.resources 8 defaults to R5;
R4B's QuestionnaireResponse and Observation match R4 for every element used here).
"""

from __future__ import annotations

from assessments.instruments import get_instrument
from assessments.models import Administration

CODE_SYSTEM = "https://selfkind.example/fhir/CodeSystem/assessment-scales"
QUESTIONNAIRE = "https://selfkind.example/fhir/Questionnaire/{code}|{version}"
CLIENT_IDENTIFIER_SYSTEM = "https://selfkind.example/fhir/client-code"
LOINC = "http://loinc.org"
LOINC_QUESTIONNAIRE = "http://loinc.org/q/{panel}"


def _subject(administration: Administration) -> dict:
    return {
        "identifier": {"system": CLIENT_IDENTIFIER_SYSTEM, "value": administration.client.code},
        "display": administration.client.code,
    }


def questionnaire_response(
    administration: Administration, answers: dict[int, int | None], *, amended: bool = False
):
    instrument = get_instrument(administration.instrument_code)
    items = []
    for item in instrument.items:
        entry = {"linkId": str(item.number), "text": item.display_label}
        value = answers.get(item.number)
        if value is not None:
            entry["answer"] = [{"valueInteger": value}]
        items.append(entry)
    return {
        "resourceType": "QuestionnaireResponse",
        "id": f"qr-{administration.pk}",
        "questionnaire": LOINC_QUESTIONNAIRE.format(panel=instrument.loinc.panel)
        if instrument.loinc
        else QUESTIONNAIRE.format(code=instrument.code, version=administration.instrument_version),
        "status": _status(administration, amended, "completed", "in-progress"),
        "subject": _subject(administration),
        "authored": (administration.finalised_at or administration.created_at).isoformat(),
        "item": items,
    }


def _status(administration: Administration, amended: bool, final: str, draft: str) -> str:
    if not administration.is_final:
        return draft
    return "amended" if amended else final


def _category() -> list[dict]:
    return [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                    "code": "survey",
                }
            ]
        }
    ]


def risk_item_observation(
    administration: Administration, answers: dict[int, int | None], *, amended: bool = False
) -> dict | None:
    """The risk item's answer (PHQ-9 item 9) as an Observation with its LOINC item code, when
    the instrument has one and the item was answered."""
    instrument = get_instrument(administration.instrument_code)
    risk = instrument.risk_item
    if risk is None or answers.get(risk.item) is None:
        return None
    number = risk.item
    code = instrument.loinc.item(number) if instrument.loinc else None
    name = f"{instrument.short_name} item {number} (risk item)"
    coding = [{"system": CODE_SYSTEM, "code": f"{instrument.code}.item_{number}", "display": name}]
    if code:
        coding.insert(0, {"system": LOINC, "code": code, "display": name})
    alert = "above" if risk.alerts(answers[number]) else "not above"
    return {
        "resourceType": "Observation",
        "id": f"obs-{administration.pk}-item-{number}",
        "status": _status(administration, amended, "final", "preliminary"),
        "category": _category(),
        "code": {"coding": coding, "text": name},
        "subject": _subject(administration),
        "effectiveDateTime": administration.administered_on.isoformat(),
        "derivedFrom": [{"reference": f"QuestionnaireResponse/qr-{administration.pk}"}],
        "valueInteger": answers[number],
        "note": [{"text": f"answer {alert} {risk.alert_above}: a risk flag is raised above it"}],
    }


def observations(administration: Administration, *, amended: bool = False) -> list[dict]:
    instrument = get_instrument(administration.instrument_code)
    score = administration.score
    blanks = set(score.missing_items)
    # (code, name, direction, prorated, extra notes) per scale; prorated is per scale, not per
    # administration: a blank item in one subscale says nothing about the others.
    scales = [
        (
            s.code,
            s.name,
            s.direction_label,
            bool((score.subscales.get(s.code) or {}).get("prorated")),
            [] if s.interpretable else ["not interpretable alone (Raes et al. 2011)"],
        )
        for s in instrument.subscales
    ]
    if instrument.has_total:
        scales.append(
            (
                "total",
                "Total",
                instrument.direction_label("total"),
                score.prorated,
                [f"total method: {score.total_method}"],
            )
        )
    scales += [
        (c.code, c.name, c.direction_label, bool(blanks & set(c.items)), [])
        for c in instrument.composites
    ]
    rule = f"missing-item rule: {instrument.missing_rule_text}"
    blank_note = (
        f"blank items: {', '.join(map(str, sorted(blanks)))}" if blanks else "no blank items"
    )
    result = []
    for code, name, direction, prorated, extra in scales:
        value = score.scale_value(code)
        note = [direction, *extra]
        if prorated:
            note.append("prorated under the missing-item rule")
        note += [blank_note, rule]
        # The total's code carries its method: two methods give different numbers and must
        # never be trended as one (shared/instruments.md).
        coded = f"total.{score.total_method}" if code == "total" else code
        observation = {
            "resourceType": "Observation",
            "id": f"obs-{administration.pk}-{code.replace('_', '-')}",
            "status": _status(administration, amended, "final", "preliminary"),
            "category": _category(),
            "code": {
                "coding": [
                    {
                        "system": CODE_SYSTEM,
                        "code": f"{instrument.code}.{coded}",
                        "display": f"{instrument.short_name} {name}",
                    }
                ],
                "text": f"{instrument.short_name} {name}",
            },
            "subject": _subject(administration),
            "effectiveDateTime": administration.administered_on.isoformat(),
            "derivedFrom": [{"reference": f"QuestionnaireResponse/qr-{administration.pk}"}],
            "note": [{"text": "; ".join(note)}],
        }
        if code == "total" and instrument.loinc:
            observation["code"]["coding"].insert(
                0,
                {
                    "system": LOINC,
                    "code": instrument.loinc.total,
                    "display": f"{instrument.short_name} total score",
                },
            )
        if value is None:
            observation["dataAbsentReason"] = {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                        "code": "unknown",
                    }
                ],
                "text": "not scored: too many blank items under the missing-item rule",
            }
        else:
            observation["valueQuantity"] = {"value": round(value, 4), "unit": "score"}
        result.append(observation)
    return result


def administration_bundle(administration: Administration) -> dict:
    corrections = list(administration.corrections.all())
    answers = administration.answers_with(corrections)
    amended = bool(corrections)  # answers corrected after finalising: FHIR "amended"
    resources = [
        questionnaire_response(administration, answers, amended=amended),
        *observations(administration, amended=amended),
    ]
    risk = risk_item_observation(administration, answers, amended=amended)
    if risk is not None:
        resources.append(risk)
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"urn:selfkind:{r['resourceType']}/{r['id']}", "resource": r}
            for r in resources
        ],
    }
