"""Access rules for the assessments app's URL patterns (see tests/access_rules/base.py)."""

from __future__ import annotations

import datetime as dt

from tests.access_rules.base import (
    CLIENT_PAGE,
    CLINIC_ADMIN_PAGE,
    PUBLIC_PAGE,
    STAFF_CLIENT_PAGE,
    STAFF_PAGE,
    Rule,
    expect,
    the_clients_record,
    with_success,
)

# A plausible SCS response (26 items, 1..5).
SCS_ANSWERS = dict(
    enumerate(
        [2, 4, 3, 4, 3, 4, 3, 2, 3, 3, 4, 3, 4, 3, 3, 4, 3, 4, 3, 4, 2, 3, 3, 4, 4, 3], start=1
    )
)


def administration_of(
    client, answers=None, *, on=dt.date(2026, 2, 1), instrument="scs", entered_by=None
):
    """A final, scored administration of the client (through the real service)."""
    from assessments.instruments import get_instrument
    from assessments.services import administration_create

    return administration_create(
        client=client,
        instrument=get_instrument(instrument),
        answers=SCS_ANSWERS if answers is None else answers,
        administered_on=on,
        mode="paper",
        entered_by=entered_by,
    )


def the_clients_administration(world) -> dict:
    return {"pk": administration_of(world.client_record).pk}


def a_valid_link(world) -> dict:
    from assessments.instruments import get_instrument
    from assessments.services import one_time_link_create

    _, token = one_time_link_create(
        client=world.client_record, instrument=get_instrument("scs"), created_by=world.clinician
    )
    return {"token": token}


def the_clients_link(world) -> dict:
    from assessments.instruments import get_instrument
    from assessments.services import one_time_link_create

    link, _ = one_time_link_create(
        client=world.client_record, instrument=get_instrument("scs"), created_by=world.clinician
    )
    return {"pk": link.pk}


RULES = {
    "assessments:client_assessments": Rule(STAFF_CLIENT_PAGE, kwargs=the_clients_record),
    "assessments:entry": Rule(
        STAFF_CLIENT_PAGE, kwargs=lambda world: {**the_clients_record(world), "instrument": "scs"}
    ),
    "assessments:link_create": Rule(
        with_success(STAFF_CLIENT_PAGE, 200),
        kwargs=the_clients_record,
        method="POST",
        data=lambda world: {"instrument": "scs"},
    ),
    "assessments:link_revoke": Rule(
        with_success(STAFF_CLIENT_PAGE, 302), kwargs=the_clients_link, method="POST"
    ),
    "assessments:export_csv": Rule(STAFF_CLIENT_PAGE, kwargs=the_clients_record),
    "assessments:export_cohort_csv": Rule(STAFF_PAGE),
    "assessments:import_upload": Rule(CLINIC_ADMIN_PAGE),
    "assessments:rc_settings": Rule(CLINIC_ADMIN_PAGE),
    "assessments:delivery_settings": Rule(CLINIC_ADMIN_PAGE),
    "assessments:results": Rule(STAFF_CLIENT_PAGE, kwargs=the_clients_administration),
    "assessments:correct": Rule(STAFF_CLIENT_PAGE, kwargs=the_clients_administration),
    "assessments:fhir_export": Rule(STAFF_CLIENT_PAGE, kwargs=the_clients_administration),
    "assessments:portal_list": Rule(CLIENT_PAGE),
    "assessments:portal_complete": Rule(CLIENT_PAGE, kwargs=lambda world: {"instrument": "scs"}),
    "assessments:portal_results": Rule(
        expect(
            clinician=403,
            colleague=403,
            other_clinic_clinician=403,
            clinic_admin=403,
            client=200,
            other_client=404,
        ),
        kwargs=the_clients_administration,
    ),
    # Anyone holding a valid token may answer; expiry, reuse and tampering are checked in
    # tests/assessments/test_one_time_links.py.
    "assessment_link": Rule(
        PUBLIC_PAGE, kwargs=a_valid_link, note="see tests/assessments/test_one_time_links.py"
    ),
    # The clinic's crisis resources, for anyone holding a link's token (used or not).
    "assessment_link_help": Rule(
        PUBLIC_PAGE, kwargs=a_valid_link, note="see tests/assessments/test_risk_item.py"
    ),
}
