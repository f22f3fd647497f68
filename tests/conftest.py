"""Personas shared by every test.

- clinician: primary clinician of `client_record` (whose portal login is `client`)
- colleague: clinician in the same clinic, not on that care team
- other_clinic_clinician: clinician of another clinic
- clinic_admin: admin of the first clinic (sees every client of it)
- client: the portal login of `client_record`
- other_client: the portal login of another client of the same clinic
- anonymous: not logged in
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from django.test import Client as HttpClient

from clinic.models import Client, Organisation, Role, User
from tests.factories import make_client, make_organisation, make_user

PERSONAS = (
    "clinician",
    "colleague",
    "other_clinic_clinician",
    "clinic_admin",
    "client",
    "other_client",
    "anonymous",
)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """An SQLite test database lives in a file (not in memory), so that a real task consumer
    started by a test (tests/delivery) sees it. PostgreSQL needs nothing: it is a server."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(
            settings.BASE_DIR / "var" / f"test-{os.getpid()}.sqlite3"
        )


@pytest.fixture(autouse=True, scope="session")
def tasks_run_immediately():
    """Background tasks run at once, in the test's own process; tests/delivery starts a real
    consumer where that is the point."""
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    yield
    HUEY.immediate = True


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Real hashing is deliberately slow; tests do not need it (login tests still hash)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def empty_cache():
    """No page depends on a cache, but rate limits keep their counts there: every test starts
    and ends with an empty cache."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@dataclass
class World:
    clinic: Organisation
    other_clinic: Organisation
    clinician: User
    colleague: User
    other_clinic_clinician: User
    clinic_admin: User
    client: User
    other_client: User
    client_record: Client
    other_client_record: Client
    other_clinic_record: Client

    def user(self, persona: str) -> User | None:
        return None if persona == "anonymous" else getattr(self, persona)

    def browser(self, persona: str) -> HttpClient:
        """A test client logged in as the persona (anonymous: not logged in)."""
        http = HttpClient()
        user = self.user(persona)
        if user is not None:
            http.force_login(user)
        return http


@pytest.fixture
def world(db) -> World:
    clinic = make_organisation("Riverside Counseling", time_zone="Europe/London")
    other_clinic = make_organisation("Harbor Psychology", time_zone="America/New_York")
    clinician = make_user(clinic, Role.CLINICIAN, username="alex", first_name="Alex")
    colleague = make_user(clinic, Role.CLINICIAN, username="blair", first_name="Blair")
    other_clinic_clinician = make_user(other_clinic, Role.CLINICIAN, username="drew")
    clinic_admin = make_user(clinic, Role.CLINIC_ADMIN, username="casey", first_name="Casey")
    client = make_user(clinic, Role.CLIENT, username="sam", first_name="Sam")
    other_client = make_user(clinic, Role.CLIENT, username="pat", first_name="Pat")
    client_record = make_client(
        clinic, clinician, user=client, code="RC-001", display_name="Sam R."
    )
    other_client_record = make_client(
        clinic, colleague, user=other_client, code="RC-002", display_name="Pat K."
    )
    other_clinic_record = make_client(
        other_clinic, other_clinic_clinician, code="HP-001", display_name="Hale T."
    )
    return World(
        clinic=clinic,
        other_clinic=other_clinic,
        clinician=clinician,
        colleague=colleague,
        other_clinic_clinician=other_clinic_clinician,
        clinic_admin=clinic_admin,
        client=client,
        other_client=other_client,
        client_record=client_record,
        other_client_record=other_client_record,
        other_clinic_record=other_clinic_record,
    )


@pytest.fixture
def as_clinician(world) -> HttpClient:
    return world.browser("clinician")


@pytest.fixture
def as_clinic_admin(world) -> HttpClient:
    return world.browser("clinic_admin")


@pytest.fixture
def as_client(world) -> HttpClient:
    return world.browser("client")


# --- Transactional tests keep the serialized rows --------------------------------------------


def pytest_collection_modifyitems(items):
    """Every transactional test restores the serialized database (the data migrations' tags and
    triggers) instead of a plain flush. A plain flush re-creates the content types under new ids
    on PostgreSQL, and the next test that restores the serialized rows then fails on a duplicate
    key: the suite passed on SQLite and failed on PostgreSQL that way once."""
    from pytest_django.fixtures import validate_django_db

    plain = []
    for item in items:
        marker = item.get_closest_marker("django_db")
        transaction, reset_sequences, _, serialized, _ = (
            validate_django_db(marker) if marker else (False, False, None, False, None)
        )
        fixtures = set(getattr(item, "fixturenames", ()))
        transactional = (
            transaction or reset_sequences or bool(fixtures & {"transactional_db", "live_server"})
        )
        if transactional and not serialized:
            plain.append(item.nodeid)
    if plain:
        raise pytest.UsageError(
            "transactional tests must use django_db(transaction=True, serialized_rollback=True): "
            + ", ".join(plain)
        )


# --- Access-matrix reporting -----------------------------------------------------------------

ACCESS_MATRIX_REPORT: dict[str, int] = {}


def pytest_terminal_summary(terminalreporter):
    if ACCESS_MATRIX_REPORT:
        terminalreporter.write_sep("-", "access matrix")
        terminalreporter.write_line(
            f"access matrix: {ACCESS_MATRIX_REPORT.get('cases', 0)} URL x persona cases checked "
            f"over {ACCESS_MATRIX_REPORT.get('urls', 0)} URL patterns, "
            f"{ACCESS_MATRIX_REPORT.get('unexpected', 0)} unexpected responses"
        )
        if "second_factor_cases" in ACCESS_MATRIX_REPORT:
            terminalreporter.write_line(
                f"access matrix, staff owing a second factor: "
                f"{ACCESS_MATRIX_REPORT['second_factor_cases']} cases"
            )
