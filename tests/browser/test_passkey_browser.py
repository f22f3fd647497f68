"""Headless Chromium with a virtual authenticator (the DevTools protocol's WebAuthn domain): a
clinician of a clinic that requires two-factor sign-in registers a passkey after their
password, keeps their recovery codes, and on the next sign-in passes the second step with the
passkey. django-otp-webauthn's own script does the ceremonies, under the site's CSP."""

from __future__ import annotations

from django_otp_webauthn.models import WebAuthnCredential

from clinic.models import SecurityEvent, SecurityEventKind
from tests.browser.harness import (
    ARTIFACTS,
    BROWSER_TEST,
    DESKTOP,
    chromium_page,
    csp_violations,
    login,
)

pytestmark = BROWSER_TEST

AUTHENTICATOR = {
    "protocol": "ctap2",
    "transport": "internal",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


def test_a_clinician_registers_a_passkey_and_signs_in_with_it(world, live_server, settings):
    assert live_server.url.startswith("http://localhost:")  # passkeys need localhost or HTTPS
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    world.clinic.two_factor_required = True
    world.clinic.save(update_fields=["two_factor_required"])

    with chromium_page(DESKTOP) as page:
        devtools = page.context.new_cdp_session(page)
        devtools.send("WebAuthn.enable")
        devtools.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})

        login(page, live_server, "alex")
        assert "/account/two-factor/enrol/" in page.url  # nothing else until enrolled
        page.screenshot(path=ARTIFACTS / "passkey-enrol.png", full_page=True)
        page.click("#passkey-register-button")
        page.wait_for_selector("text=Your recovery codes")
        assert page.locator(".sk-codes li").count() == 10
        page.screenshot(path=ARTIFACTS / "passkey-recovery-codes.png", full_page=True)
        assert WebAuthnCredential.objects.filter(user=world.clinician, confirmed=True).exists()
        page.click("text=I have kept them: continue")
        page.wait_for_load_state("networkidle")
        assert page.url.endswith("/dashboard/")

        page.click("nav button:has-text('Log out')")
        page.wait_for_load_state("networkidle")
        login(page, live_server, "alex")
        assert "/account/two-factor/verify/" in page.url
        page.click("#passkey-verification-button")
        page.wait_for_url("**/dashboard/")
        page.screenshot(path=ARTIFACTS / "passkey-signed-in.png", full_page=True)

        assert csp_violations(page) == []
        assert page.problems == []
    assert SecurityEvent.objects.filter(
        user=world.clinician, kind=SecurityEventKind.SECOND_FACTOR, method="passkey"
    ).exists()
