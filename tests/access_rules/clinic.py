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
