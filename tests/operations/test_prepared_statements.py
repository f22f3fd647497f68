"""PostgreSQL plans a query a connection repeats once: parameters travel apart from the SQL text
(server-side binding) and psycopg prepares a statement after its fifth use
(config.settings, DATABASE_PREPARED_STATEMENTS)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import F

from clinic.models import Client
from tests.factories import make_client

ROOT = Path(__file__).resolve().parents[2]


def with_settings(code: str, **env) -> subprocess.CompletedProcess:
    """Run `code` after loading the settings in a fresh process with these variables, the
    switch itself removed from this process's own (its default is under test)."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    environment.pop("DATABASE_PREPARED_STATEMENTS", None)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env={**environment, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def database_options(**env) -> str:
    """The settings' database OPTIONS with these variables."""
    done = with_settings(
        "from django.conf import settings; print(settings.DATABASES['default'].get('OPTIONS'))",
        **env,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_postgresql_binds_parameters_on_the_server_and_prepares_repeated_statements():
    url = "postgres://selfkind@db.internal:5432/selfkind"

    assert database_options(DATABASE_URL=url) == (
        "{'server_side_binding': True, 'prepare_threshold': 5}"
    )
    assert database_options(DATABASE_URL=url, DATABASE_PREPARED_STATEMENTS="false") == "{}"


def test_the_switch_keeps_the_options_the_database_url_sets():
    url = "postgres://selfkind@db.internal:5432/selfkind?sslmode=require"

    assert database_options(DATABASE_URL=url) == (
        "{'sslmode': 'require', 'server_side_binding': True, 'prepare_threshold': 5}"
    )


def test_a_malformed_switch_stops_the_settings_with_its_name():
    done = with_settings(
        "pass",
        DATABASE_URL="postgres://selfkind@db.internal:5432/selfkind",
        DATABASE_PREPARED_STATEMENTS="sometimes",
    )

    assert done.returncode != 0
    assert "DATABASE_PREPARED_STATEMENTS must be true or false" in done.stderr


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="prepared statements are PostgreSQL's",
)
@pytest.mark.django_db
def test_a_query_repeated_with_other_values_is_prepared_once(world):
    other = make_client(world.clinic, world.clinician, code="RC-077")
    # An alias no other query uses, so the count sees this statement alone (the test
    # connection keeps every statement earlier tests prepared).
    codes = [
        Client.objects.filter(pk=pk).values(prepared_probe=F("code")).get()["prepared_probe"]
        for pk in [world.client_record.pk, other.pk] * 3
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ['%AS "prepared_probe" FROM "clinic_client" WHERE "clinic_client"."id" = $1%'],
        )
        (prepared,) = cursor.fetchone()

    assert codes == ["RC-001", "RC-077"] * 3
    assert prepared == 1
