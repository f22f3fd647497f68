"""A client's record from request to erasure: the subject-access export holds every row of the
client (compared with the database) and nothing of anyone else; erasure leaves no row that
refers to the client (every model with a foreign key to Client is walked), keeps that it
happened, and waits while a deterioration flag is open."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest
from django.core.management import call_command
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from assessments.instruments import get_instrument
from assessments.models import AssessmentSettings
from assessments.services import (
    assessment_schedule_set,
    correction_create,
    invitation_send,
    one_time_link_create,
)
from clinic.models import (
    AuditEvent,
    CareTeamMember,
    Client,
    ClientStatus,
    EmailKind,
    RecordErasure,
    SecurityEvent,
    SignalAction,
    SignalKind,
    SignalSource,
    User,
)
from clinic.outbox import email_enqueue
from clinic.records import client_relations, client_rows, months_before, records_past_retention
from clinic.safety import safety_signal_acknowledge, safety_signal_raise
from dashboard.services import flag_acknowledge
from tests.dashboard.helpers import configure_sd, give_scs, log_entry, practise
from tracking.services import current_week, journal_save, reminders_save

PRIVATE_WORDS = "words only the client may read"


def fill_record(world, client: Client, *, private: str = PRIVATE_WORDS) -> dict:
    """A row for the client in every model that refers to clients (and their assessments'
    scores and corrections), written through the services."""
    clinician = client.primary_clinician
    today = client.organisation.today()
    baseline = give_scs(client, today - dt.timedelta(days=60), 4, 2, actor=clinician)
    worse = give_scs(client, today - dt.timedelta(days=10), 2, 4, actor=clinician)
    correction_create(administration=worse, new_answers={1: 3}, reason="typo", user=clinician)
    log_entry(client, today - dt.timedelta(days=3), critic_text=private, is_private=True)
    practise(client, today - dt.timedelta(days=2))
    journal_save(
        actor=clinician,
        client=client,
        week_start=current_week(client),
        data={"difficulty": "a hard week"},
    )
    one_time_link_create(client=client, instrument=get_instrument("scs"), created_by=clinician)
    assessment_schedule_set(actor=clinician, client=client, every_weeks=2)
    client.email = f"{client.code.lower()}@example.org"
    client.save(update_fields=["email"])
    invitation_send(
        client=client,
        due_on=today,
        settings=AssessmentSettings.for_organisation(client.organisation_id),
        now=timezone.now(),
    )
    CareTeamMember.objects.create(client=client, clinician=world.colleague)
    signal = safety_signal_raise(
        client=client,
        kind=SignalKind.SAFETY,
        source=SignalSource.PRACTICE,
        source_id=1,
        actor=client.user or clinician,
    )
    safety_signal_acknowledge(
        actor=clinician, signal=signal, action=SignalAction.CONTACTED, note="Called, safe."
    )
    reminders_save(
        client=client,
        choices={"practice": {"weekdays": [0, 3], "local_time": dt.time(8), "paused": False}},
    )
    email_enqueue(
        key=f"reminder:test:{client.pk}",
        kind=EmailKind.REMINDER,
        to=f"{client.code.lower()}@example.org",
        template="reminder",
        context={"link": "https://selfkind.example.org/tracking/me/"},
        organisation=client.organisation,
        client=client,
    )
    return {"baseline": baseline, "worse": worse, "today": today}


@pytest.fixture
def full_record(world):
    configure_sd(world.clinic)
    made = fill_record(world, world.client_record)
    flag_acknowledge(
        actor=world.clinician,
        client=world.client_record,
        kind="deterioration",
        episode=str(made["worse"].pk),
        note="Talked it through in session.",
        today=made["today"],
    )
    HttpClient().post(
        reverse("login"), {"username": "sam", "password": "correct horse battery staple"}
    )
    # Another client of the same clinic with data of its own, which must stay out and stay.
    fill_record(world, world.other_client_record, private="the other client's own words")
    return made


def export_of(world) -> zipfile.ZipFile:
    response = world.browser("clinic_admin").post(
        reverse("clinic:client_export", args=[world.client_record.pk])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_the_fixture_has_a_row_in_every_model_that_refers_to_a_client(world, full_record):
    """So that the export and erasure tests below cover every such model: a new model with a
    foreign key to Client fails here until the fixture fills it."""
    empty = [
        field.model._meta.label
        for field in client_relations()
        if not field.model._default_manager.filter(**{field.name: world.client_record.pk}).exists()
    ]
    assert empty == []


def test_the_export_holds_every_row_of_the_client_and_nothing_of_anyone_else(world, full_record):
    expected = client_rows(world.client_record)  # before the export adds its audit event
    archive = export_of(world)
    names = set(archive.namelist())
    assert {"README.md", "client.json"} <= names
    labels_seen = set()
    for model, queryset in expected.items():
        label = model._meta.label
        folder = "derived" if f"derived/{label}.json" in names else "data"
        rows = json.loads(archive.read(f"{folder}/{label}.json"))
        assert sorted(row["id" if "id" in row else model._meta.pk.attname] for row in rows) == (
            sorted(queryset.values_list("pk", flat=True))
        ), label
        assert f"{folder}/{label}.csv" in names
        labels_seen.add(label)
    # Every model that refers to a client, plus what refers to their rows.
    assert {field.model._meta.label for field in client_relations()} <= labels_seen
    assert {"assessments.Score", "assessments.AnswerCorrection"} <= labels_seen
    assert {"assessments.ScoreSummary", "tracking.ClientDay"} <= {
        name.split("/")[1].rsplit(".", 1)[0] for name in names if name.startswith("derived/")
    }

    everything = b"".join(archive.read(name) for name in names).decode()
    assert PRIVATE_WORDS in everything  # the client's own private words are theirs to have
    assert "the other client's own words" not in everything
    assert world.other_client_record.code not in everything
    record = json.loads(archive.read("client.json"))
    assert record["code"] == "RC-001" and record["portal_login"]["username"] == "sam"
    assert world.client.password not in everything  # never the password hash
    assert record["portal_sign_ins"]
    assert "token_hash" not in everything and "token_salt" not in everything
    assert "Talked it through in session." in everything
    assert json.loads(archive.read("flags_today.json"))  # computed today, with acknowledgement


def test_making_the_export_is_audited_and_for_clinic_admins_only(world, full_record):
    export_of(world)
    assert AuditEvent.objects.filter(
        client=world.client_record, action="export", subject="subject_access"
    ).exists()
    url = reverse("clinic:client_export", args=[world.client_record.pk])
    assert world.browser("clinician").post(url).status_code == 403


def discharge(client: Client, months_ago: int) -> None:
    today = client.organisation.today()
    Client.objects.filter(pk=client.pk).update(
        status=ClientStatus.DISCHARGED,
        discharge_date=months_before(today, months_ago),
        intake_date=months_before(today, months_ago + 12),
    )
    client.refresh_from_db()


def erase(world, code: str):
    return world.browser("clinic_admin").post(
        reverse("clinic:client_erase", args=[world.client_record.pk]), {"confirm_code": code}
    )


def test_erasure_leaves_no_row_that_refers_to_the_client(world, full_record):
    client = world.client_record
    discharge(client, 30)
    former_id, login_id = client.pk, client.user_id
    other_rows = {
        model: queryset.count()
        for model, queryset in client_rows(world.other_client_record).items()
    }

    assert erase(world, "rc-001").status_code == 302

    for field in client_relations():
        manager = field.model._default_manager
        assert not manager.filter(**{field.attname: former_id}).exists(), field.model._meta.label
    assert not Client.objects.filter(pk=former_id).exists()
    assert not User.objects.filter(pk=login_id).exists()
    assert not SecurityEvent.objects.filter(user_id=login_id).exists()
    # The other client's data is whole.
    assert {
        model: queryset.count()
        for model, queryset in client_rows(world.other_client_record).items()
    } == other_rows
    # What is kept: that a record was erased, when and by whom; no word of it.
    erasure = RecordErasure.objects.get()
    assert (erasure.former_id, erasure.erased_by) == (former_id, world.clinic_admin)
    assert erasure.rows["tracking.InnerCriticEntry"] == 1
    assert PRIVATE_WORDS not in json.dumps(erasure.rows)


def test_erasure_waits_while_a_deterioration_is_flagged_and_not_acknowledged(world):
    configure_sd(world.clinic)
    fill_record(world, world.client_record)
    discharge(world.client_record, 30)
    response = erase(world, "RC-001")
    assert response.status_code == 200
    assert "deterioration" in response.content.decode()
    assert Client.objects.filter(pk=world.client_record.pk).exists()


def test_an_open_record_or_a_mistyped_code_erases_nothing(world):
    assert "discharged" in erase(world, "RC-001").content.decode()
    discharge(world.client_record, 30)
    response = erase(world, "RC-002")
    assert response.context["form"].errors["confirm_code"]
    assert Client.objects.filter(pk=world.client_record.pk).exists()


def test_records_past_retention_are_listed_only_once_the_clinic_chose_a_period(world):
    discharge(world.client_record, 13)
    discharge(world.other_client_record, 11)
    assert records_past_retention(world.clinic) == []
    world.clinic.retention_months = 12
    world.clinic.save()
    due = records_past_retention(world.clinic)
    assert [item.client for item in due] == [world.client_record]
    assert due[0].due_on == months_before(world.client_record.discharge_date, -12)


def test_the_daily_listing_names_codes_only(world, capsys):
    discharge(world.client_record, 13)
    world.clinic.retention_months = 12
    world.clinic.save()
    call_command("records_past_retention")
    out = capsys.readouterr().out
    assert "RC-001" in out and "Sam" not in out
    assert "no retention period chosen" in out  # the other clinic


def test_the_daily_task_tells_each_admin_a_number_and_a_link_once_a_day(world):
    from clinic.models import EmailKind, OutboxEmail
    from clinic.tasks import records_past_retention_daily

    world.clinic_admin.email = "casey@example.org"
    world.clinic_admin.save()
    discharge(world.client_record, 13)
    world.clinic.retention_months = 12
    world.clinic.save()
    records_past_retention_daily.call_local()
    records_past_retention_daily.call_local()  # the same day: no second email
    [notice] = OutboxEmail.objects.filter(kind=EmailKind.RECORDS_DUE)
    assert notice.to == "casey@example.org"
    assert "RC-001" not in notice.subject + notice.body


def test_the_retention_page_runs_a_fixed_number_of_queries(world, django_assert_num_queries):
    world.clinic.retention_months = 12
    world.clinic.save()
    http = world.browser("clinic_admin")
    http.get(reverse("clinic:retention"))
    with django_assert_num_queries(8):
        assert http.get(reverse("clinic:retention")).status_code == 200
    discharge(world.client_record, 13)
    discharge(world.other_client_record, 14)
    with django_assert_num_queries(8):
        assert b"RC-002" in http.get(reverse("clinic:retention")).content


def test_months_before_keeps_the_day_or_the_months_last():
    assert months_before(dt.date(2026, 3, 31), 1) == dt.date(2026, 2, 28)
    assert months_before(dt.date(2026, 1, 15), 13) == dt.date(2024, 12, 15)
    assert months_before(dt.date(2024, 2, 29), -12) == dt.date(2025, 2, 28)


def test_erasure_waits_while_a_safety_flag_is_open(world):
    discharge(world.client_record, 1)
    safety_signal_raise(
        client=world.client_record,
        kind=SignalKind.SAFETY,
        source=SignalSource.JOURNAL,
        source_id=1,
        actor=world.client,
    )
    response = erase(world, "RC-001")
    assert "A safety flag of this client is open" in response.content.decode()
    assert Client.objects.filter(pk=world.client_record.pk).exists()
