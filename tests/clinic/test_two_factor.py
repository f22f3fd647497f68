"""Two-factor sign-in: enrolment after the password, app codes (time frozen, the code made in
the test from the device's key), wrong codes, recovery codes used once, an admin's reset, and
clients opting in."""

from __future__ import annotations

import datetime as dt
from binascii import unhexlify

import pytest
import time_machine
from django.conf import settings
from django.test import Client as HttpClient
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.models import SecurityEvent, SecurityEventKind, UserSession
from clinic.security import SECOND_FACTOR_STEP
from clinic.two_factor import TOTP_SETUP_KEY

PASSWORD = "correct horse battery staple"
NOON = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
ENROL = reverse("account:two_factor_enrol")
VERIFY = reverse("account:two_factor_verify")
DASHBOARD = reverse("dashboard:home")


def code_for(key: str) -> str:
    """What an authenticator app holding `key` shows at the (frozen) time."""
    return f"{TOTP(unhexlify(key)).token():06d}"


def sign_in(username: str) -> HttpClient:
    http = HttpClient()
    response = http.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return http


def require_two_factor(world) -> None:
    world.clinic.two_factor_required = True
    world.clinic.save(update_fields=["two_factor_required"])


def events(user, kind) -> int:
    return SecurityEvent.objects.filter(user=user, kind=kind).count()


@pytest.fixture
def frozen():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def enrol_app(http: HttpClient) -> tuple[str, list[str]]:
    """Set up an authenticator app through the pages; returns its key and the recovery codes."""
    assert http.get(ENROL).status_code == 200
    key = http.session[TOTP_SETUP_KEY]
    response = http.post(ENROL, {"code": code_for(key)})
    assert response.status_code == 200
    return key, response.context["codes"]


def give_app(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def verified_browser(user) -> HttpClient:
    """A session of a user who has an app and passed it (as the verify page leaves it)."""
    device = give_app(user)
    http = HttpClient()
    http.force_login(user)
    session = http.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.pop(SECOND_FACTOR_STEP, None)
    session.save()
    return http


def test_staff_of_a_clinic_that_requires_it_enrol_after_the_password(world, frozen):
    require_two_factor(world)
    http = sign_in("alex")
    response = http.get(DASHBOARD)
    assert response.status_code == 302 and response["Location"].startswith(ENROL)

    page = http.get(ENROL)
    assert b"<svg" in page.content and b"<script>" not in page.content
    assert b" style=" not in page.content  # the QR code respects the CSP too
    _, codes = enrol_app(http)

    assert len(codes) == 10 and len(set(codes)) == 10
    assert TOTPDevice.objects.get(user=world.clinician).confirmed
    assert http.get(DASHBOARD).status_code == 200
    assert events(world.clinician, SecurityEventKind.ENROLLED) == 1
    # The codes are shown once: nothing shows them again.
    assert codes[0].encode() not in http.get(reverse("account:security")).content


def test_a_code_that_does_not_match_enrols_nothing(world, frozen):
    require_two_factor(world)
    http = sign_in("alex")
    http.get(ENROL)
    key = http.session[TOTP_SETUP_KEY]
    wrong = f"{(int(code_for(key)) + 1) % 1_000_000:06d}"
    response = http.post(ENROL, {"code": wrong})
    assert response.status_code == 200
    assert "does not match" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=world.clinician).exists()
    assert http.post(ENROL, {"code": "12ab"}).context["form"].errors["code"]
    assert http.get(DASHBOARD)["Location"].startswith(ENROL)


def test_a_code_from_the_app_passes_the_second_step_under_a_new_session_key(world, frozen):
    device = give_app(world.clinician)
    http = sign_in("alex")
    assert http.get(DASHBOARD)["Location"].startswith(VERIFY)
    before = http.cookies[settings.SESSION_COOKIE_NAME].value

    response = http.post(VERIFY, {"method": "totp", "code": code_for(device.key)})

    assert response.status_code == 302
    assert http.cookies[settings.SESSION_COOKIE_NAME].value != before
    assert not UserSession.objects.filter(session_key=before).exists()
    assert http.get(DASHBOARD).status_code == 200
    assert events(world.clinician, SecurityEventKind.SECOND_FACTOR) == 1


def test_a_wrong_code_is_refused_logged_and_slows_the_next_try(world, frozen):
    device = give_app(world.clinician)
    http = sign_in("alex")
    right = code_for(device.key)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    response = http.post(VERIFY, {"method": "totp", "code": wrong})
    assert "not right" in response.content.decode()
    assert http.get(DASHBOARD)["Location"].startswith(VERIFY)
    assert events(world.clinician, SecurityEventKind.SECOND_FACTOR_FAILED) == 1
    # django-otp makes the user wait after a failure: even the right code, at once, waits.
    assert "wait" in http.post(VERIFY, {"method": "totp", "code": right}).content.decode()

    frozen.shift(dt.timedelta(seconds=2))
    assert http.post(VERIFY, {"method": "totp", "code": right}).status_code == 302
    # No code, right or wrong, ever reaches the log.
    logged = SecurityEvent.objects.values_list("method", "browser", "network")
    assert all(right not in " ".join(row) and wrong not in " ".join(row) for row in logged)


def test_a_stolen_password_alone_cannot_add_an_app_or_make_codes(world, frozen):
    """Someone with the password but not the phone: every way to a new second factor sends
    them to the second step first."""
    device = give_app(world.clinician)
    http = sign_in("alex")
    assert http.get(ENROL)["Location"].startswith(VERIFY)
    response = http.post(ENROL, {"code": "123456"})
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert http.post(reverse("account:recovery_codes"))["Location"].startswith(VERIFY)
    begin = http.post(reverse("otp_webauthn:credential-registration-begin"))
    assert begin.status_code == 403
    assert list(TOTPDevice.objects.filter(user=world.clinician)) == [device]
    assert not StaticDevice.objects.filter(user=world.clinician).exists()


def test_a_recovery_code_works_once(world, frozen):
    require_two_factor(world)
    http = sign_in("alex")
    _, codes = enrol_app(http)

    second = sign_in("alex")
    assert (
        second.post(VERIFY, {"method": "recovery_code", "code": codes[0].upper()}).status_code
        == 302
    )
    assert second.get(DASHBOARD).status_code == 200
    assert StaticToken.objects.filter(device__user=world.clinician).count() == 9

    third = sign_in("alex")
    frozen.shift(dt.timedelta(seconds=5))
    response = third.post(VERIFY, {"method": "recovery_code", "code": codes[0]})
    assert response.status_code == 200 and "not right" in response.content.decode()
    assert third.get(DASHBOARD)["Location"].startswith(VERIFY)


def test_new_recovery_codes_replace_the_old_ones(world, frozen):
    http = sign_in("alex")
    _, old = enrol_app(http)
    new = http.post(reverse("account:recovery_codes")).context["codes"]
    assert set(old).isdisjoint(new)
    assert StaticDevice.objects.filter(user=world.clinician).count() == 1
    assert set(
        StaticToken.objects.filter(device__user=world.clinician).values_list("token", flat=True)
    ) == set(new)


def test_a_clinic_admin_resets_a_colleagues_second_factor(world, frozen):
    require_two_factor(world)
    give_app(world.colleague)
    colleague = sign_in("blair")
    admin = verified_browser(world.clinic_admin)

    response = admin.post(reverse("clinic:staff_second_factor_reset", args=[world.colleague.pk]))

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=world.colleague).exists()
    assert not UserSession.objects.filter(user_id=world.colleague.pk).exists()
    assert colleague.get(DASHBOARD)["Location"].startswith(reverse("login"))
    event = SecurityEvent.objects.get(kind=SecurityEventKind.SECOND_FACTOR_RESET)
    assert (event.user, event.actor) == (world.colleague, world.clinic_admin)
    # At the next sign-in the colleague enrols again.
    assert sign_in("blair").get(DASHBOARD)["Location"].startswith(ENROL)


def test_the_owner_is_told_by_email_when_a_second_factor_is_added_or_reset(world, frozen):
    from clinic.models import EmailKind, OutboxEmail

    world.colleague.email = "blair@example.org"
    world.colleague.save()
    require_two_factor(world)
    enrol_app(sign_in("blair"))
    verified_browser(world.clinic_admin).post(
        reverse("clinic:staff_second_factor_reset", args=[world.colleague.pk])
    )
    notices = OutboxEmail.objects.filter(kind=EmailKind.SECURITY, to="blair@example.org")
    assert notices.count() == 2  # the app added, then the admin's reset
    for notice in notices:
        assert notice.subject == "A message from Riverside Counseling"


def test_only_a_clinic_admin_of_the_same_clinic_resets_a_second_factor(world):
    give_app(world.colleague)
    url = reverse("clinic:staff_second_factor_reset", args=[world.colleague.pk])
    assert world.browser("clinician").post(url).status_code == 403
    assert TOTPDevice.objects.filter(user=world.colleague).exists()
    other_admin = HttpClient()
    from tests.factories import make_user

    other_admin.force_login(make_user(world.other_clinic, "clinic_admin"))
    assert other_admin.post(url).status_code == 404
    assert TOTPDevice.objects.filter(user=world.colleague).exists()


def test_clients_may_opt_in_and_out_but_are_never_required(world, frozen):
    require_two_factor(world)
    http = sign_in("sam")
    assert http.get(reverse("clinic:portal_home")).status_code == 200  # not required of clients

    key, _ = enrol_app(http)
    again = sign_in("sam")
    assert again.get(reverse("clinic:portal_home"))["Location"].startswith(VERIFY)
    frozen.shift(dt.timedelta(seconds=30))
    assert again.post(VERIFY, {"method": "totp", "code": code_for(key)}).status_code == 302
    assert again.post(reverse("account:two_factor_remove")).status_code == 302
    assert not TOTPDevice.objects.filter(user=world.client).exists()
    assert sign_in("sam").get(reverse("clinic:portal_home")).status_code == 200


def test_staff_cannot_turn_off_a_second_factor_their_clinic_requires(world, frozen):
    require_two_factor(world)
    http = sign_in("alex")
    enrol_app(http)
    http.post(reverse("account:two_factor_remove"))
    assert TOTPDevice.objects.filter(user=world.clinician).exists()


def test_turning_the_requirement_on_ends_sessions_of_staff_without_a_second_factor(world):
    clinician = sign_in("alex")
    colleague = verified_browser(world.colleague)
    admin = world.browser("clinic_admin")
    response = admin.post(
        reverse("clinic:security_settings"), {"two_factor_required": "on", "retention_months": ""}
    )
    assert response.status_code == 302
    assert clinician.get(DASHBOARD)["Location"].startswith(reverse("login"))
    assert colleague.get(DASHBOARD).status_code == 200  # has a second factor: kept
    assert admin.get(DASHBOARD)["Location"].startswith(ENROL)  # the admin enrols too
    assert sign_in("alex").get(DASHBOARD)["Location"].startswith(ENROL)
