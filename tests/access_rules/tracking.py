"""Access rules for the tracking app's URL patterns (see tests/access_rules/base.py)."""

from tests.access_rules.base import (
    CLIENT_PAGE,
    CLINIC_ADMIN_PAGE,
    STAFF_CLIENT_PAGE,
    Rule,
    expect,
    the_clients_record,
)


def the_clients_entry(world) -> dict:
    """An entry of `client` (sam): only sam may open it; other_client gets 404."""
    from tracking.models import InnerCriticEntry

    entry, _ = InnerCriticEntry.objects.get_or_create(
        client=world.client_record,
        critic_text="You always get this wrong.",
        defaults={"intensity": 6},
    )
    return {"entry_id": entry.pk}


def the_clients_practice(world) -> dict:
    """A practice of `client` (sam) that raised distress: only sam may open its note."""
    from tracking.models import PracticeSession

    session, _ = PracticeSession.objects.get_or_create(
        client=world.client_record,
        practice_type="loving_kindness",
        defaults={"minutes": 10, "distress_before": 3, "distress_after": 7},
    )
    return {"practice_id": session.pk}


def the_clients_entry_as_difficult(world) -> dict:
    """sam says their entry brought up something difficult; pat's is not theirs (404)."""
    return {"source": "entry", "record": the_clients_entry(world)["entry_id"], "contact": "yes"}


OWN_ENTRY_PAGE = expect(
    clinician=403,
    colleague=403,
    other_clinic_clinician=403,
    clinic_admin=403,
    client=200,
    other_client=404,
)

RULES = {
    "tracking:my_log": Rule(CLIENT_PAGE),
    "tracking:my_entry": Rule(OWN_ENTRY_PAGE, kwargs=the_clients_entry),
    # An empty reframe is answered with the form and its errors (200), never saved.
    "tracking:my_reframe": Rule(OWN_ENTRY_PAGE, kwargs=the_clients_entry, method="POST"),
    # Deleting answers 302 for the owner; the matrix runs it last for this entry's persona.
    "tracking:my_entry_delete": Rule(
        {**OWN_ENTRY_PAGE, "client": 302}, kwargs=the_clients_entry, method="POST"
    ),
    "tracking:my_practice": Rule(CLIENT_PAGE),
    "tracking:my_practice_note": Rule(OWN_ENTRY_PAGE, kwargs=the_clients_practice),
    # Raising a safety flag answers 302 (to the "something is hard" screen) for the owner.
    "tracking:my_difficult": Rule(
        {**OWN_ENTRY_PAGE, "client": 302}, method="POST", data=the_clients_entry_as_difficult
    ),
    "tracking:my_something_hard": Rule(CLIENT_PAGE),
    "tracking:my_journal": Rule(CLIENT_PAGE),
    "tracking:my_charts": Rule(CLIENT_PAGE),
    "tracking:my_export_csv": Rule(CLIENT_PAGE),
    "tracking:my_export_json": Rule(CLIENT_PAGE),
    "tracking:trigger_settings": Rule(CLINIC_ADMIN_PAGE),
    "tracking:client_log": Rule(STAFF_CLIENT_PAGE, kwargs=the_clients_record),
    "tracking:client_charts": Rule(STAFF_CLIENT_PAGE, kwargs=the_clients_record),
    "tracking:client_entry_create": Rule(STAFF_CLIENT_PAGE, kwargs=the_clients_record),
}
