"""Structured request logs: one JSON object per request, with no query string, no free text
and no token (paths under /t/ redacted, paths matching no URL not logged)."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from django.test import Client as HttpClient

from config.logging import JsonFormatter


@pytest.fixture
def request_log(settings, caplog):
    """The request log switched on (as in production), its records captured."""
    settings.SELFKIND_REQUEST_LOG = True
    caplog.set_level(logging.DEBUG, logger="selfkind.request")
    return caplog


def logged(caplog) -> list[dict]:
    """Each request record as the production formatter writes it, read back as JSON."""
    formatter = JsonFormatter()
    return [
        json.loads(formatter.format(record))
        for record in caplog.records
        if record.name == "selfkind.request"
    ]


@pytest.mark.django_db
def test_a_request_is_logged_as_json_without_its_query_string(world, request_log):
    http = world.browser("clinician")  # made after the setting: the middleware is in use
    url = f"/tracking/clients/{world.client_record.pk}/?q=ashamed+of+myself&from=2026-01-01"
    assert http.get(url, HTTP_X_REQUEST_ID="4f1c-9a").status_code == 200
    (entry,) = logged(request_log)
    assert entry["message"] == "request"
    assert entry["level"] == "INFO"
    assert entry["method"] == "GET"
    assert entry["path"] == f"/tracking/clients/{world.client_record.pk}/"
    assert entry["route"] == "tracking:client_log"
    assert entry["status"] == 200
    assert entry["request_id"] == "4f1c-9a"
    assert entry["duration_ms"] >= 0
    assert "ashamed" not in json.dumps(entry)
    assert "alex" not in json.dumps(entry)  # no user name


@pytest.mark.django_db
def test_one_time_link_tokens_and_typed_paths_never_reach_the_log(request_log):
    http = HttpClient()
    http.get("/t/a/secret-token-123/?x=1")
    http.get("/search/my client's name/")
    http.get("/healthz", HTTP_X_REQUEST_ID="not a request id; DROP TABLE")
    link, typed, probe = logged(request_log)
    assert link["path"] == "/t/[redacted]"
    assert typed["path"] == "[unmatched]"
    assert typed["route"] is None
    text = json.dumps([link, typed, probe])
    assert "secret-token" not in text
    assert "client's name" not in text
    assert "request_id" not in probe
    # The balancer's probe every few seconds is there only at DEBUG.
    assert probe["level"] == "DEBUG"
    assert probe["route"] == "healthz"


@pytest.mark.django_db
def test_a_post_logs_its_status_and_never_its_form_fields(world, request_log):
    http = world.browser("client")
    http.post("/tracking/me/", {"critic_text": "I always fail", "intensity": "7"})
    (entry,) = logged(request_log)
    assert entry["method"] == "POST"
    assert entry["route"] == "tracking:my_log"
    assert "always fail" not in json.dumps(entry)


@pytest.mark.django_db
def test_the_request_log_is_off_unless_asked_for(settings, caplog):
    settings.SELFKIND_REQUEST_LOG = False
    caplog.set_level(logging.DEBUG, logger="selfkind.request")
    HttpClient().get("/healthz")
    assert not [r for r in caplog.records if r.name == "selfkind.request"]


def test_the_json_formatter_keeps_a_traceback_with_one_time_links_redacted():
    try:
        raise ValueError("while opening /t/invite/MQ/abc-token/")
    except ValueError:
        record = logging.LogRecord(
            "django.request", logging.ERROR, __file__, 1, "Server error", (), sys.exc_info()
        )
    entry = json.loads(JsonFormatter().format(record))
    assert (entry["level"], entry["logger"], entry["message"]) == (
        "ERROR",
        "django.request",
        "Server error",
    )
    assert "ValueError" in entry["exception"]
    assert "abc-token" not in entry["exception"]


def test_the_json_formatter_keeps_the_row_a_database_refused_out_of_the_traceback():
    """PostgreSQL names the refused row's values in a DETAIL line (an entry's words, a client's
    code): the traceback keeps the error and drops the values."""
    try:
        raise ValueError(
            'new row for relation "tracking_innercriticentry" violates check constraint\n'
            "DETAIL:  Failing row contains (7, I am worthless, RC-001)."
        )
    except ValueError:
        record = logging.LogRecord(
            "django.request", logging.ERROR, __file__, 1, "Server error", (), sys.exc_info()
        )
    entry = json.loads(JsonFormatter().format(record))
    assert "violates check constraint" in entry["exception"]
    assert "worthless" not in entry["exception"] and "RC-001" not in entry["exception"]
    assert "DETAIL: [row values redacted]" in entry["exception"]
