"""Accounts (every signed-in user's own), passkey ceremonies and the clinic admin's security
and records pages."""

from tests.access_rules.base import (
    CLINIC_ADMIN_PAGE,
    SIGNED_IN_PAGE,
    Rule,
    the_clients_record,
    with_success,
)

SIGNED_IN_REDIRECT = with_success(SIGNED_IN_PAGE, 302)


def passkey(status: int) -> dict:
    return with_success(SIGNED_IN_PAGE, status)


RULES = {
    "account:security": Rule(SIGNED_IN_PAGE),
    "account:sign_out_everywhere": Rule(SIGNED_IN_REDIRECT, method="POST"),
    # Clients may opt in, so everyone signed in may set up a second factor.
    "account:two_factor_enrol": Rule(SIGNED_IN_PAGE, open_before_second_factor=True),
    # Without a second step owed, the verify page sends the user on.
    "account:two_factor_verify": Rule(SIGNED_IN_REDIRECT, open_before_second_factor=True),
    # Without a second factor there are no codes to make: back to the security page.
    "account:recovery_codes": Rule(SIGNED_IN_REDIRECT, method="POST"),
    "account:two_factor_remove": Rule(SIGNED_IN_REDIRECT, method="POST"),
    # django-otp-webauthn's JSON endpoints: the begin steps answer options; the complete
    # steps without a begun ceremony answer 400 ("invalid state").
    "otp_webauthn:credential-registration-begin": Rule(
        passkey(200), method="POST", open_before_second_factor=True
    ),
    "otp_webauthn:credential-registration-complete": Rule(
        passkey(400), method="POST", open_before_second_factor=True
    ),
    "otp_webauthn:credential-authentication-begin": Rule(
        passkey(200), method="POST", open_before_second_factor=True
    ),
    "otp_webauthn:credential-authentication-complete": Rule(
        passkey(400), method="POST", open_before_second_factor=True
    ),
    "otp_webauthn:js-i18n-catalog": Rule(SIGNED_IN_PAGE, open_before_second_factor=True),
    "clinic:security_settings": Rule(CLINIC_ADMIN_PAGE),
    "clinic:security_log": Rule(CLINIC_ADMIN_PAGE),
    "clinic:retention": Rule(CLINIC_ADMIN_PAGE),
    "clinic:client_export": Rule(CLINIC_ADMIN_PAGE, kwargs=the_clients_record),
    "clinic:client_erase": Rule(CLINIC_ADMIN_PAGE, kwargs=the_clients_record),
    "clinic:staff_second_factor_reset": Rule(
        with_success(CLINIC_ADMIN_PAGE, 302),
        kwargs=lambda world: {"user_id": world.colleague.pk},
        method="POST",
    ),
}
