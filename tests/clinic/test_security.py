import datetime as dt
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from clinic.models import UserSession
from config.env import ImproperlyConfiguredEnv, env_bool, env_int, env_secret
from config.logging import RedactSecretPathsFilter

PASSWORD = "correct horse battery staple"


def log_in(http, username, password):
    return http.post(reverse("login"), {"username": username, "password": password})


def test_a_staff_member_logs_in_and_lands_on_the_dashboard(world):
    http = HttpClient()
    response = log_in(http, "alex", PASSWORD)
    assert response.status_code == 302
    assert http.get(reverse("home"))["Location"] == reverse("dashboard:home")


def test_a_client_lands_on_their_portal(world):
    http = HttpClient()
    log_in(http, "sam", PASSWORD)
    assert http.get(reverse("home"))["Location"] == reverse("clinic:portal_home")


def test_repeated_failures_lock_the_username_from_that_address(world, settings):
    http = HttpClient()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(http, "alex", "wrong password").status_code == 200
    assert log_in(http, "alex", "wrong password").status_code == 429
    locked = log_in(http, "alex", PASSWORD)  # even the right password, for now
    assert locked.status_code == 429
    assert b"Too many failed log-in attempts" in locked.content
    # Another user from the same address is not locked out by alex's failures.
    assert log_in(HttpClient(), "blair", PASSWORD).status_code == 302


def test_the_session_ends_after_30_minutes_idle(world, settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST
    http = HttpClient()
    log_in(http, "alex", PASSWORD)
    assert http.get(reverse("clinic:caseload")).status_code == 200

    session = UserSession.objects.get()
    assert session.expire_date <= timezone.now() + dt.timedelta(minutes=30, seconds=5)
    UserSession.objects.update(expire_date=timezone.now() - dt.timedelta(seconds=1))

    response = http.get(reverse("clinic:caseload"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_every_page_carries_a_strict_content_security_policy(world):
    response = world.browser("clinician").get(reverse("clinic:caseload"))
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("style-src")[0]
    assert "frame-ancestors 'none'" in policy
    assert b"<script>" not in response.content  # no inline scripts
    assert b" style=" not in response.content  # no inline styles either


def test_logout_is_a_post_and_ends_the_session(world):
    http = world.browser("clinician")
    assert http.post(reverse("logout")).status_code == 302
    assert http.get(reverse("clinic:caseload")).status_code == 302


def no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def test_every_page_of_a_logged_in_user_is_never_kept_by_a_cache(world):
    http = HttpClient()
    assert no_store(log_in(http, "alex", PASSWORD))
    assert http.get(reverse("clinic:caseload"))["Cache-Control"] == "no-store"
    outside = http.get(reverse("clinic:client_detail", args=[world.other_clinic_record.pk]))
    assert outside.status_code == 404 and no_store(outside)  # error pages too
    assert no_store(http.post(reverse("logout")))


def test_a_views_stricter_cache_header_is_kept(world):
    """The one-time link page says never_cache itself: no-store and more, kept as it is."""
    from tests.access_rules.assessments import a_valid_link

    response = HttpClient().get(reverse("assessment_link", kwargs=a_valid_link(world)))
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "no-cache", "must-revalidate", "private"} <= directives


def test_static_files_stay_cacheable_for_a_logged_in_user(world):
    response = world.browser("clinician").get("/static/css/selfkind.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_one_time_link_paths_are_redacted_from_logs():
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        "",
        0,
        '"GET %s HTTP/1.1" 200',
        ("/t/invite/MQ/abc-123/",),
        None,
    )
    RedactSecretPathsFilter().filter(record)
    assert record.getMessage() == '"GET /t/[redacted] HTTP/1.1" 200'


def test_settings_helpers_fail_loudly_on_malformed_values(monkeypatch, tmp_path):
    monkeypatch.setenv("SK_FLAG", "perhaps")
    with pytest.raises(ImproperlyConfiguredEnv, match="SK_FLAG must be true or false"):
        env_bool("SK_FLAG", False)
    monkeypatch.setenv("SK_COUNT", "ten")
    with pytest.raises(ImproperlyConfiguredEnv, match="SK_COUNT must be a whole number"):
        env_int("SK_COUNT", 1)
    with pytest.raises(ImproperlyConfiguredEnv, match="SK_SECRET must be set"):
        env_secret("SK_SECRET")
    secret_file = tmp_path / "secret"
    secret_file.write_text("s3cret\n")
    monkeypatch.setenv("SK_SECRET_FILE", str(secret_file))
    assert env_secret("SK_SECRET") == "s3cret"


def production_check(**env) -> subprocess.CompletedProcess:
    """`manage.py check` under production settings with these variables (a fresh process)."""
    base = {
        "SELFKIND_ENV": "production",
        "DJANGO_ALLOWED_HOSTS": "selfkind.example.org",
        "DJANGO_SECRET_KEY": "x" * 10 + "".join(chr(97 + n % 26) for n in range(60)),
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "EMAIL_HOST": "smtp.example.org",
        "DEFAULT_FROM_EMAIL": "selfkind@example.org",
    }
    environment = {**os.environ, **base, **env}
    environment = {key: value for key, value in environment.items() if value is not None}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        env=environment,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
    )


def test_production_refuses_to_start_without_a_shared_cache():
    refused = production_check(REDIS_URL=None)
    assert refused.returncode != 0
    assert "REDIS_URL must be set when SELFKIND_ENV=production" in refused.stderr
    assert production_check().returncode == 0
