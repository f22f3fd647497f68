"""Sign-ins beyond one username: spray lockouts, sessions that end, the security log."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from clinic.models import SecurityEvent, SecurityEventKind, UserSession
from clinic.security import browser_family, coarse_network
from tests.factories import make_user

PASSWORD = "correct horse battery staple"
CHROME_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def log_in(http, username, password, address="203.0.113.7"):
    return http.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        HTTP_USER_AGENT=CHROME_ON_WINDOWS,
    )


def colleagues(world, count: int) -> list[str]:
    return [make_user(world.clinic, username=f"staff{n:02d}").username for n in range(count)]


def test_a_password_spray_from_one_address_ends_in_a_lockout(world, settings):
    """N wrong passwords spread over N usernames, one each, from one address."""
    limit = settings.SELFKIND_ADDRESS_FAILURE_LIMIT
    assert limit > settings.AXES_FAILURE_LIMIT
    usernames = colleagues(world, limit)
    statuses = [log_in(HttpClient(), name, "Spring2026!").status_code for name in usernames]
    assert statuses[:-1] == [200] * (limit - 1)
    assert statuses[-1] == 429
    # The address is locked for everyone now, even with a right password...
    assert log_in(HttpClient(), "alex", PASSWORD).status_code == 429
    # ...but not another address.
    assert log_in(HttpClient(), "alex", PASSWORD, address="198.51.100.9").status_code == 302


def test_the_issues_spray_four_wrong_passwords_on_each_of_four_accounts_locks(world):
    usernames = ["alex", "blair", "casey", "sam"]
    statuses = [
        log_in(HttpClient(), name, f"guess number {attempt}").status_code
        for attempt in range(4)
        for name in usernames
    ]
    assert 429 in statuses


def test_signing_in_to_ones_own_account_does_not_wipe_the_addresss_count(world, settings):
    limit = settings.SELFKIND_ADDRESS_FAILURE_LIMIT
    usernames = colleagues(world, limit - 1)
    for name in usernames:
        log_in(HttpClient(), name, "wrong password")
    assert log_in(HttpClient(), "alex", PASSWORD).status_code == 302  # an attacker's own login
    assert log_in(HttpClient(), "blair", "wrong password").status_code == 429


def test_the_lockout_page_never_says_whether_the_username_exists(world, settings):
    def locked_page(username: str, address: str) -> bytes:
        http = HttpClient()
        for _ in range(settings.AXES_FAILURE_LIMIT):
            response = log_in(http, username, "wrong password", address=address)
        assert response.status_code == 429
        return response.content

    known = locked_page("alex", "192.0.2.1")
    unknown = locked_page("nobody-by-this-name", "192.0.2.2")
    assert known == unknown
    assert b"alex" not in known


def test_sign_ins_failures_and_lockouts_are_logged_without_secrets(world, settings):
    log_in(HttpClient(), "alex", PASSWORD)
    log_in(HttpClient(), "alex", "my wrong password")
    log_in(HttpClient(), "my-password-typed-as-a-name", "x")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(HttpClient(), "blair", "wrong password", address="192.0.2.44")

    signed_in = SecurityEvent.objects.get(kind=SecurityEventKind.SIGN_IN)
    assert signed_in.user == world.clinician and signed_in.organisation == world.clinic
    assert (signed_in.browser, signed_in.network) == ("Chrome on Windows", "203.0.113.0/24")
    failed = SecurityEvent.objects.filter(kind=SecurityEventKind.SIGN_IN_FAILED)
    assert {event.user_id for event in failed} == {world.clinician.pk, None, world.colleague.pk}
    assert SecurityEvent.objects.filter(
        kind=SecurityEventKind.LOCKED_OUT, user=world.colleague
    ).exists()
    stored = " ".join(
        " ".join(str(value) for value in row)
        for row in SecurityEvent.objects.values_list("kind", "method", "browser", "network")
    )
    for secret in ("wrong password", "my-password-typed-as-a-name", "Mozilla", "203.0.113.7"):
        assert secret not in stored


def test_browser_family_and_network_are_coarse():
    assert browser_family(CHROME_ON_WINDOWS) == "Chrome on Windows"
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
    )
    assert browser_family(iphone) == "Safari on iOS"
    edge = CHROME_ON_WINDOWS + " Edg/131.0.0.0"
    assert browser_family(edge) == "Edge on Windows"
    assert browser_family("") == "Unknown browser"
    assert coarse_network("203.0.113.77") == "203.0.113.0/24"
    assert coarse_network("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
    assert coarse_network("not an address") == ""


def test_a_session_ends_twelve_hours_after_sign_in_however_active(world, settings):
    assert settings.SELFKIND_SESSION_MAX_HOURS == 12
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        http = HttpClient()
        log_in(http, "alex", PASSWORD)
        for _ in range(24):  # a request every 29 minutes keeps it from idling out: 11 h 36
            traveller.shift(dt.timedelta(minutes=29))
            assert http.get(reverse("clinic:caseload")).status_code == 200
        traveller.shift(dt.timedelta(minutes=29))  # 12 h 05 after sign-in
        response = http.get(reverse("clinic:caseload"))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_session_key_rotates_at_sign_in(world, settings):
    http = HttpClient()
    http.get(reverse("login"))
    http.session.save()
    before = http.session.session_key
    log_in(http, "alex", PASSWORD)
    assert http.session.session_key != before


def test_deactivating_a_staff_member_ends_their_sessions_at_once(world):
    colleague = world.browser("colleague")
    assert colleague.get(reverse("clinic:caseload")).status_code == 200
    world.browser("clinic_admin").post(
        reverse("clinic:staff_edit", args=[world.colleague.pk]), {"role": "clinician"}
    )
    assert not UserSession.objects.filter(user_id=world.colleague.pk).exists()
    assert colleague.get(reverse("clinic:caseload"))["Location"].startswith(reverse("login"))
    event = SecurityEvent.objects.get(kind=SecurityEventKind.SESSIONS_ENDED)
    assert (event.user, event.actor) == (world.colleague, world.clinic_admin)


def test_a_stored_session_decodes_through_the_configured_engine(world):
    """UserSession names no store of its own: settings.SESSION_ENGINE does (clinic.sessions),
    which also writes the user's id beside the data."""
    world.browser("clinician")
    session = UserSession.objects.get(user_id=world.clinician.pk)
    assert session.get_decoded()["_auth_user_id"] == str(world.clinician.pk)


def test_changing_the_password_ends_every_other_session(world):
    phone, laptop = world.browser("clinician"), world.browser("clinician")
    new = "a brand new passphrase 2026"
    response = laptop.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert laptop.get(reverse("clinic:caseload")).status_code == 200
    assert phone.get(reverse("clinic:caseload"))["Location"].startswith(reverse("login"))
    assert UserSession.objects.filter(user_id=world.clinician.pk).count() == 1
    assert SecurityEvent.objects.filter(kind=SecurityEventKind.PASSWORD_CHANGED).exists()


def test_signing_out_everywhere_ends_every_session_this_one_too(world):
    phone, laptop = world.browser("client"), world.browser("client")
    assert laptop.post(reverse("account:sign_out_everywhere")).status_code == 302
    for http in (phone, laptop):
        assert http.get(reverse("clinic:portal_home"))["Location"].startswith(reverse("login"))
    assert not UserSession.objects.filter(user_id=world.client.pk).exists()


def test_each_user_sees_their_own_recent_sign_ins(world, django_assert_num_queries):
    for address in ("203.0.113.7", "198.51.100.20"):
        log_in(HttpClient(), "sam", PASSWORD, address=address)
    log_in(HttpClient(), "alex", PASSWORD, address="192.0.2.99")
    http = world.browser("client")
    http.get(reverse("account:security"))
    with django_assert_num_queries(10):
        page = http.get(reverse("account:security")).content.decode()
    assert "203.0.113.0/24" in page and "198.51.100.0/24" in page
    assert "192.0.2.0/24" not in page  # alex's
    assert "Chrome on Windows" in page


def test_the_security_log_shows_a_clinic_admin_their_own_clinic_only(
    world, django_assert_num_queries
):
    log_in(HttpClient(), "alex", PASSWORD, address="203.0.113.7")
    log_in(HttpClient(), "drew", PASSWORD, address="198.51.100.20")
    http = world.browser("clinic_admin")
    http.get(reverse("clinic:security_log"))
    # session, user, clinic, count, page, and the session's new expiry (3): whatever the size
    with django_assert_num_queries(8):
        page = http.get(reverse("clinic:security_log")).content.decode()
    assert "203.0.113.0/24" in page
    assert "198.51.100.0/24" not in page


@pytest.mark.parametrize(
    "value", ["0", "1201", "ten", "-3"], ids=["zero", "too long", "not a number", "negative"]
)
def test_a_retention_period_outside_its_range_is_refused_by_name(world, value):
    response = world.browser("clinic_admin").post(
        reverse("clinic:security_settings"), {"retention_months": value}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["retention_months"]
    world.clinic.refresh_from_db()
    assert world.clinic.retention_months is None
