"""The load balancer's probes: /healthz (the process is up) and /readyz (the database and Redis
answer, every migration is applied). Open without login, no session, nothing revealed."""

from __future__ import annotations

import socket

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder

from config import health


@pytest.fixture(autouse=True)
def fresh_readiness():
    """Each test finds out readiness afresh (the process remembers "fully migrated")."""
    health._migrated.clear()
    health._redis.cache_clear()
    yield
    health._migrated.clear()
    health._redis.cache_clear()


def redis_is_running() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


def test_healthz_says_ok_to_anyone_without_touching_the_database_or_setting_a_cookie(client):
    # No django_db mark: any query, e.g. to load a session, would fail this test.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert not response.cookies
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_says_ok_when_migrated_then_costs_one_query(client, django_assert_num_queries):
    assert client.get("/readyz").content == b"ok\n"
    with django_assert_num_queries(1):
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert not response.cookies


@pytest.mark.django_db
def test_readyz_says_not_ready_and_nothing_more_while_a_migration_is_unapplied(client):
    latest = MigrationRecorder.Migration.objects.filter(app="clinic").order_by("-id").first()
    latest.delete()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.content == b"not ready\n"
    MigrationRecorder(connection).record_applied(latest.app, latest.name)
    assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_readyz_says_not_ready_when_redis_does_not_answer(client, settings):
    with socket.socket() as probe:  # a port on this machine where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/5"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.content == b"not ready\n"


@pytest.mark.django_db
@pytest.mark.skipif(not redis_is_running(), reason="no Redis server at 127.0.0.1:6379")
def test_readyz_pings_a_real_redis(client, settings, django_assert_num_queries):
    settings.REDIS_URL = "redis://127.0.0.1:6379/5"
    assert client.get("/readyz").status_code == 200
    with django_assert_num_queries(1):
        assert client.get("/readyz").content == b"ok\n"


@pytest.mark.django_db
def test_the_probes_are_not_redirected_to_https_behind_a_balancer(client, settings):
    """The balancer checks each app server over plain HTTP; every other page is redirected."""
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/floor/").status_code == 301


@pytest.mark.django_db
def test_the_probes_answer_a_signed_in_user_exactly_as_the_balancer(world):
    http = world.browser("clinician")
    for path in ("/healthz", "/readyz"):
        response = http.get(path)
        assert response.content == b"ok\n"
        assert "no-store" in response["Cache-Control"]


def test_only_get_and_head(client):
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200
