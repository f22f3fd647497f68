from tests.access_rules.base import (
    CLIENT_PAGE,
    CLINIC_ADMIN_PAGE,
    PUBLIC_PAGE,
    SIGNED_IN_PAGE,
    STAFF_CLIENT_PAGE,
    STAFF_PAGE,
    Rule,
    expect,
    the_clients_record,
    with_success,
)


def the_clinics_crisis_contact(world) -> dict:
    from clinic.models import CrisisContact

    contact, _ = CrisisContact.objects.get_or_create(
        organisation=world.clinic, name="Samaritans", defaults={"phone": "116 123"}
    )
    return {"pk": contact.pk}


def the_clients_safety_signal(world) -> dict:
    """An open safety signal of `client_record` (sam), whose primary clinician is alex."""
    from clinic.models import SignalKind, SignalSource
    from clinic.safety import safety_signal_raise

    signal = safety_signal_raise(
        client=world.client_record,
        kind=SignalKind.SAFETY,
        source=SignalSource.PRACTICE,
        source_id=1,
        actor=world.client,
        asked_for_contact=True,
    )
    return {"pk": signal.pk}


RULES = {
    "home": Rule(with_success(SIGNED_IN_PAGE, 302)),
    "floor": Rule(SIGNED_IN_PAGE),
    # The load balancer's probes: open to anyone, they say "ok" or "not ready" and nothing else.
    "healthz": Rule(PUBLIC_PAGE),
    "readyz": Rule(PUBLIC_PAGE),
    "login": Rule(
        # Logged-in users are sent on to their start page.
        expect(
            clinician=302,
            colleague=302,
            other_clinic_clinician=302,
            clinic_admin=302,
            client=302,
            other_client=302,
            anonymous=200,
        )
    ),
    "logout": Rule(
        expect(
            clinician=302,
            colleague=302,
            other_clinic_clinician=302,
            clinic_admin=302,
            client=302,
            other_client=302,
            anonymous=302,
        ),
        method="POST",
        open_before_second_factor=True,
    ),
    "password_change": Rule(SIGNED_IN_PAGE),
    "password_change_done": Rule(SIGNED_IN_PAGE),
    "invite_accept": Rule(
        # A forged link shows "this link cannot be used" to everyone; see test_invitations.
        expect(
            clinician=200,
            colleague=200,
            other_clinic_clinician=200,
            clinic_admin=200,
            client=200,
            other_client=200,
            anonymous=200,
        ),
        kwargs=lambda world: {"uidb64": "MQ", "token": "forged-token"},
    ),
    "clinic:caseload": Rule(STAFF_PAGE),
    "clinic:client_create": Rule(STAFF_PAGE),
    "clinic:client_detail": Rule(STAFF_CLIENT_PAGE, kwargs=the_clients_record),
    "clinic:client_edit": Rule(STAFF_CLIENT_PAGE, kwargs=the_clients_record),
    "clinic:client_discharge": Rule(STAFF_CLIENT_PAGE, kwargs=the_clients_record),
    "clinic:client_reactivate": Rule(
        with_success(STAFF_CLIENT_PAGE, 302), kwargs=the_clients_record, method="POST"
    ),
    "clinic:client_care_team": Rule(STAFF_CLIENT_PAGE, kwargs=the_clients_record),
    "clinic:client_portal_invite": Rule(STAFF_CLIENT_PAGE, kwargs=the_clients_record),
    "clinic:client_audit": Rule(CLINIC_ADMIN_PAGE, kwargs=the_clients_record),
    "clinic:staff_list": Rule(CLINIC_ADMIN_PAGE),
    "clinic:staff_invite": Rule(CLINIC_ADMIN_PAGE),
    "clinic:staff_edit": Rule(
        CLINIC_ADMIN_PAGE, kwargs=lambda world: {"user_id": world.colleague.pk}
    ),
    "clinic:settings": Rule(CLINIC_ADMIN_PAGE),
    "clinic:portal_home": Rule(CLIENT_PAGE),
    "clinic:portal_help": Rule(CLIENT_PAGE),
    "clinic:crisis_contacts": Rule(CLINIC_ADMIN_PAGE),
    "clinic:crisis_contact_edit": Rule(CLINIC_ADMIN_PAGE, kwargs=the_clinics_crisis_contact),
    # Removing answers 302 for the clinic admin; the matrix runs it last for this contact.
    "clinic:crisis_contact_delete": Rule(
        with_success(CLINIC_ADMIN_PAGE, 302), kwargs=the_clinics_crisis_contact, method="POST"
    ),
    # The client's primary clinician and the clinic admin; a colleague who is not one of the
    # clinic's safety contacts gets 404 (see tests/clinic/test_safety_pathway.py).
    "clinic:safety_signal": Rule(STAFF_CLIENT_PAGE, kwargs=the_clients_safety_signal),
    # The Django admin is for superusers only: every persona is sent to the admin's own login.
    "admin:index": Rule(
        expect(
            clinician=302,
            colleague=302,
            other_clinic_clinician=302,
            clinic_admin=302,
            client=302,
            other_client=302,
            anonymous=302,
        )
    ),
}
