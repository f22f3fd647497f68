"""The data migrations that bring rows stored before clinic.validation into its rules: what
they fix, what they record, and that they stop rather than merge two clients."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest

from clinic.repairs import RepairConflict, normalise_column, repaired_identifier
from tests.schema_steps import latest, migrate, schema_at

BEFORE = [
    ("clinic", "0003_user_session"),
    ("assessments", "0003_schedules_from_dashboard"),
    ("tracking", "0004_day_rollups"),
]
NFC = unicodedata.normalize("NFC", "ZOË-01")
NFD = unicodedata.normalize("NFD", "ZOË-01")
CREATED = dt.datetime(2026, 3, 4, 23, 30, tzinfo=dt.UTC)  # 5 March in Auckland


@pytest.fixture
def old_schema(django_db_blocker):
    """The schema as it was before the repairs."""
    with schema_at(BEFORE) as apps:
        yield apps


def a_clinic(apps, code_a=NFD, code_b="\u202e\u200fABC\u202c"):
    Organisation = apps.get_model("clinic", "Organisation")
    User = apps.get_model("clinic", "User")
    Client = apps.get_model("clinic", "Client")
    clinic = Organisation.objects.create(
        name="Kauri Counselling", slug="kauri", time_zone="Pacific/Auckland"
    )
    clinician = User.objects.create(
        username=unicodedata.normalize("NFD", "zoë"), organisation=clinic, role="clinician"
    )
    first = Client.objects.create(
        organisation=clinic,
        primary_clinician=clinician,
        code=code_a,
        display_name="A",
        intake_date=dt.date(1, 1, 1),
        date_of_birth=dt.date(1850, 5, 1),
        created_at=CREATED,
        updated_at=CREATED,
    )
    second = Client.objects.create(
        organisation=clinic,
        primary_clinician=clinician,
        code=code_b,
        display_name="B",
        intake_date=dt.date(2026, 1, 5),
        created_at=CREATED,
        updated_at=CREATED,
    )
    return clinic, clinician, first, second


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migrations_fix_implausible_dates_and_normalise_identifiers(old_schema):
    apps = old_schema
    clinic, clinician, first, second = a_clinic(apps)
    apps.get_model("clinic", "Tag").objects.create(organisation=clinic, name=" Sha\u200bme ")
    apps.get_model("clinic", "Programme").objects.create(
        organisation=clinic, name="MSC", starts_on=dt.date(1, 1, 1), ends_on=dt.date(2026, 3, 1)
    )
    administration = apps.get_model("assessments", "Administration").objects.create(
        organisation=clinic,
        client=first,
        instrument_code="scs",
        instrument_version="2003",
        administered_on=dt.date(1, 1, 1),
        mode="paper",
        created_at=CREATED,
    )
    entry = apps.get_model("tracking", "InnerCriticEntry").objects.create(
        client=first,
        occurred_at=dt.datetime(1, 1, 1, tzinfo=dt.UTC),
        intensity=5,
        critic_text="x",
        created_at=CREATED,
    )
    session = apps.get_model("tracking", "PracticeSession").objects.create(
        client=first,
        practised_on=dt.date(9999, 12, 31),
        practice_type="other",
        minutes=5,
        created_at=CREATED,
    )
    apps.get_model("tracking", "TriggerCategory").objects.create(
        organisation=clinic, name="Work\u2060 "
    )

    apps = migrate(latest())

    Client = apps.get_model("clinic", "Client")
    first, second = Client.objects.get(pk=first.pk), Client.objects.get(pk=second.pk)
    assert (first.code, second.code) == (NFC, "ABC")
    assert first.intake_date == dt.date(2026, 3, 5)  # created that day, clinic time
    assert first.date_of_birth is None
    assert apps.get_model("clinic", "User").objects.get(pk=clinician.pk).username == "zoë"
    assert apps.get_model("clinic", "Tag").objects.get(organisation_id=clinic.pk).name == "Shame"
    programme = apps.get_model("clinic", "Programme").objects.get(organisation_id=clinic.pk)
    assert (programme.starts_on, programme.ends_on) == (None, dt.date(2026, 3, 1))
    Administration = apps.get_model("assessments", "Administration")
    assert Administration.objects.get(pk=administration.pk).administered_on == dt.date(2026, 3, 5)
    InnerCriticEntry = apps.get_model("tracking", "InnerCriticEntry")
    assert InnerCriticEntry.objects.get(pk=entry.pk).occurred_at == CREATED
    PracticeSession = apps.get_model("tracking", "PracticeSession")
    assert PracticeSession.objects.get(pk=session.pk).practised_on == dt.date(2026, 3, 5)
    trigger = apps.get_model("tracking", "TriggerCategory").objects.get(organisation_id=clinic.pk)
    assert trigger.name == "Work"
    events = apps.get_model("clinic", "AuditEvent").objects.filter(client_id=first.pk)
    assert sorted((e.subject, tuple(e.fields), e.actor_id) for e in events) == [
        ("assessment", ("administered_on",), None),
        ("client", ("code",), None),
        ("client", ("date_of_birth", "intake_date"), None),
    ]
    # The projections were built from the repaired rows, as the services would keep them.
    from dashboard.consistency import differences

    assert apps.get_model("tracking", "ClientActivity").objects.get(client_id=first.pk).entries == 1
    assert differences([first.pk, second.pk]) == []
    # Every row now satisfies the current models' validators and constraints.
    from clinic.models import Client as CurrentClient
    from tracking.models import TriggerCategory

    for row in (*CurrentClient.objects.all(), *TriggerCategory.objects.all()):
        row.full_clean(validate_unique=False)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_codes_that_would_become_one_stop_the_migration_and_change_nothing(old_schema):
    apps = old_schema
    _, _, first, second = a_clinic(apps, code_a=NFC, code_b=NFD)
    with pytest.raises(RepairConflict) as stopped:
        migrate(latest())
    message = str(stopped.value)
    assert f"(id {first.pk})" in message and f"(id {second.pk})" in message
    assert "would all become" in message and "Nothing was changed" in message
    Client = apps.get_model("clinic", "Client")
    assert sorted(Client.objects.values_list("code", flat=True)) == sorted([NFC, NFD])
    Client.objects.filter(pk=second.pk).update(code="ZOË-02")  # what the message asks for


def test_repairing_removes_refused_characters_and_keeps_letters():
    assert repaired_identifier(f" {NFD}\u200b ") == NFC
    assert repaired_identifier("\u202e\u200fABC\u202c") == "ABC"
    assert repaired_identifier("Body \u00a0 image", collapse=True) == "Body image"
    assert repaired_identifier("ﬁona", form="NFKC") == "fiona"


def test_a_value_that_would_become_empty_stops_the_repair(db):
    from clinic.models import Tag

    Tag.objects.create(name="\u200b")
    with pytest.raises(RepairConflict, match="would become empty"):
        normalise_column(Tag, "name", scope="organisation_id", label="tag name")
