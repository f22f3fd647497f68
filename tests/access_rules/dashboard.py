"""Access rules for the dashboard's URL patterns (see tests/access_rules/base.py)."""

from tests.access_rules.base import (
    CLINIC_ADMIN_PAGE,
    STAFF_CLIENT_PAGE,
    STAFF_PAGE,
    Rule,
    expect,
    the_clients_record,
)


def the_clinics_programme(world) -> dict:
    """A programme of the first clinic with `client_record` as a member."""
    from clinic.models import Programme

    programme, _ = Programme.objects.get_or_create(
        organisation=world.clinic, name="MSC 8-week course"
    )
    programme.clients.add(world.client_record)
    return {"programme_id": programme.pk}


# A programme of the clinic: every staff member of that clinic may open it (a clinician sees
# only the members on their caseload); another clinic's staff get 404, no hint it exists.
CLINIC_PROGRAMME_PAGE = expect(
    clinician=200,
    colleague=200,
    other_clinic_clinician=404,
    clinic_admin=200,
    client=403,
    other_client=403,
)

RULES = {
    "dashboard:home": Rule(STAFF_PAGE),
    "dashboard:export_csv": Rule(STAFF_PAGE),
    "dashboard:flag_settings": Rule(CLINIC_ADMIN_PAGE),
    "dashboard:client_flags": Rule(STAFF_CLIENT_PAGE, kwargs=the_clients_record),
    "dashboard:schedule": Rule(STAFF_CLIENT_PAGE, kwargs=the_clients_record),
    "dashboard:brief": Rule(STAFF_CLIENT_PAGE, kwargs=the_clients_record),
    "dashboard:programmes": Rule(STAFF_PAGE),
    "dashboard:cohort": Rule(CLINIC_PROGRAMME_PAGE, kwargs=the_clinics_programme),
    "dashboard:cohort_csv": Rule(CLINIC_PROGRAMME_PAGE, kwargs=the_clinics_programme),
    "dashboard:dose_response": Rule(STAFF_PAGE),
}
