import datetime as dt
import re

from django.urls import reverse

from clinic.models import AuditEvent, CareTeamMember, Client, ClientStatus
from tests.clinic.test_caseload import count_queries
from tests.factories import builtin_tag, make_client, make_user


def without_csrf(content: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", content)


def form_data(client: Client, **changes) -> dict:
    data = {
        "code": client.code,
        "display_name": client.display_name,
        "pronouns": client.pronouns,
        "date_of_birth": client.date_of_birth or "",
        "email": client.email,
        "status": client.status,
        "intake_date": client.intake_date.isoformat(),
        "primary_clinician": client.primary_clinician_id,
        "tags": [tag.pk for tag in client.tags.all()],
        "programmes": [],
        "notes": client.notes,
        "version": client.version,
    }
    data.update(changes)
    return data


def new_client_data(world, **changes) -> dict:
    data = {
        "code": "rc-100",
        "display_name": "  Robin   L. ",
        "intake_date": "2026-10-01",
        "status": "active",
        "primary_clinician": world.clinician.pk,
        "tags": [builtin_tag("Perfectionism").pk],
    }
    data.update(changes)
    return data


def test_a_clinician_creates_a_client_with_normalised_code_and_name(world):
    response = world.browser("clinician").post(
        reverse("clinic:client_create"), new_client_data(world)
    )
    client = Client.objects.get(code="RC-100")
    assert response.status_code == 302
    assert response["Location"] == reverse("clinic:client_detail", args=[client.pk])
    assert client.display_name == "Robin L."
    assert client.organisation == world.clinic
    assert list(client.tags.all()) == [builtin_tag("Perfectionism")]
    assert AuditEvent.objects.filter(client=client, action="create", actor=world.clinician).exists()


def test_a_duplicate_client_code_is_refused_with_a_field_error_and_nothing_saved(world):
    before = Client.objects.count()
    response = world.browser("clinician").post(
        reverse("clinic:client_create"), new_client_data(world, code="rc-001")
    )
    assert response.status_code == 200
    assert "already has code RC-001" in response.context["form"].errors["code"][0]
    assert Client.objects.count() == before
    assert b'value="Robin L."' in response.content or b"Robin" in response.content


def test_the_same_code_may_exist_in_another_clinic(world):
    response = world.browser("clinician").post(
        reverse("clinic:client_create"), new_client_data(world, code="HP-001")
    )
    assert response.status_code == 302


def test_over_long_fields_are_refused_with_field_errors(world):
    response = world.browser("clinician").post(
        reverse("clinic:client_create"),
        new_client_data(world, display_name="x" * 121, code="C" * 33, pronouns="p" * 41),
    )
    errors = response.context["form"].errors
    assert {"display_name", "code", "pronouns"} <= errors.keys()
    assert "at most 120 characters" in errors["display_name"][0]
    assert not Client.objects.filter(display_name__startswith="xxx").exists()


def test_a_primary_clinician_from_another_clinic_is_refused(world):
    response = world.browser("clinic_admin").post(
        reverse("clinic:client_create"),
        new_client_data(world, primary_clinician=world.other_clinic_clinician.pk),
    )
    assert "primary_clinician" in response.context["form"].errors


def test_a_tag_of_another_clinic_is_refused(world):
    from clinic.models import Tag

    foreign = Tag.objects.create(organisation=world.other_clinic, name="Harbor only")
    response = world.browser("clinician").post(
        reverse("clinic:client_create"), new_client_data(world, tags=[foreign.pk])
    )
    assert "tags" in response.context["form"].errors


def test_editing_saves_changes_and_audits_field_names_only(world):
    client = world.client_record
    response = world.browser("clinician").post(
        reverse("clinic:client_edit", args=[client.pk]),
        form_data(client, notes="Very private words", pronouns="they/them"),
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.notes == "Very private words"
    assert client.version == 2
    event = AuditEvent.objects.get(client=client, action="update")
    assert event.fields == ["notes", "pronouns"]
    assert "Very private" not in str(
        AuditEvent.objects.filter(client=client).values_list("fields", flat=True)
    )


def test_the_second_of_two_concurrent_edits_is_refused_and_keeps_the_users_input(world):
    client = world.client_record
    alex, casey = world.browser("clinician"), world.browser("clinic_admin")
    url = reverse("clinic:client_edit", args=[client.pk])
    opened_by_alex = form_data(client)
    opened_by_casey = form_data(client)

    first = casey.post(url, {**opened_by_casey, "pronouns": "she/her"})
    second = alex.post(url, {**opened_by_alex, "notes": "Alex's careful note"})

    assert first.status_code == 302
    assert second.status_code == 200
    assert "Someone else saved this client record" in str(second.context["form"].non_field_errors())
    assert "Alex&#x27;s careful note" in second.content.decode()
    assert ("Pronouns", "she/her") in second.context["conflict"]["differences"]
    client.refresh_from_db()
    assert client.pronouns == "she/her"
    assert client.notes == ""  # nothing overwritten

    # Having seen the conflict, Alex saves deliberately over the newer version.
    resubmitted = second.context["form"].data.copy()
    third = alex.post(url, resubmitted)
    assert third.status_code == 302
    client.refresh_from_db()
    assert client.notes == "Alex's careful note"
    assert client.version == 3


def test_a_stale_discharge_is_refused(world):
    client = world.client_record
    url = reverse("clinic:client_discharge", args=[client.pk])
    Client.objects.filter(pk=client.pk).update(version=5)
    response = world.browser("clinician").post(url, {"discharge_date": "2026-10-01", "version": 1})
    assert response.status_code == 200
    client.refresh_from_db()
    assert client.status == ClientStatus.ACTIVE


def test_discharge_before_intake_is_refused_with_a_field_error(world):
    client = world.client_record
    response = world.browser("clinician").post(
        reverse("clinic:client_discharge", args=[client.pk]),
        {"discharge_date": "2025-12-31", "version": client.version},
    )
    assert "before the intake date" in response.context["form"].errors["discharge_date"][0]
    client.refresh_from_db()
    assert client.status == ClientStatus.ACTIVE and client.discharge_date is None


def test_discharge_keeps_the_record_and_reactivation_reopens_it(world):
    client = world.client_record
    http = world.browser("clinician")
    http.post(
        reverse("clinic:client_discharge", args=[client.pk]),
        {"discharge_date": "2026-06-30", "version": client.version},
    )
    client.refresh_from_db()
    assert client.status == ClientStatus.DISCHARGED
    assert client.discharge_date == dt.date(2026, 6, 30)
    assert http.get(reverse("clinic:client_detail", args=[client.pk])).status_code == 200

    http.post(reverse("clinic:client_reactivate", args=[client.pk]), {"version": client.version})
    client.refresh_from_db()
    assert client.status == ClientStatus.ACTIVE and client.discharge_date is None
    actions = list(AuditEvent.objects.filter(client=client).values_list("action", flat=True))
    assert "discharge" in actions and "reactivate" in actions


def test_viewing_a_client_record_is_audited(world):
    world.browser("clinic_admin").get(
        reverse("clinic:client_detail", args=[world.client_record.pk])
    )
    event = AuditEvent.objects.get(client=world.client_record)
    assert (event.actor, event.action, event.fields) == (world.clinic_admin, "view", [])


def test_an_outsiders_attempt_leaves_no_trace_of_the_record(world):
    response = world.browser("colleague").get(
        reverse("clinic:client_detail", args=[world.client_record.pk])
    )
    missing = world.browser("colleague").get(reverse("clinic:client_detail", args=[999_999]))
    assert response.status_code == missing.status_code == 404
    assert without_csrf(response.content) == without_csrf(missing.content)
    assert not AuditEvent.objects.exists()


def test_the_care_team_gives_a_colleague_access(world):
    client = world.client_record
    response = world.browser("clinician").post(
        reverse("clinic:client_care_team", args=[client.pk]),
        {"primary": world.clinician.pk, "others": [world.colleague.pk], "version": client.version},
    )
    assert response.status_code == 302
    assert CareTeamMember.objects.filter(client=client, clinician=world.colleague).exists()
    assert (
        world.browser("colleague")
        .get(reverse("clinic:client_detail", args=[client.pk]))
        .status_code
        == 200
    )


def test_the_care_team_cannot_include_another_clinics_clinician(world):
    client = world.client_record
    response = world.browser("clinician").post(
        reverse("clinic:client_care_team", args=[client.pk]),
        {"primary": world.clinician.pk, "others": [world.other_clinic_clinician.pk], "version": 1},
    )
    assert "others" in response.context["form"].errors


def test_client_detail_query_count_does_not_grow_with_the_record(world):
    client = world.client_record
    http = world.browser("clinician")
    url = reverse("clinic:client_detail", args=[client.pk])
    few = count_queries(http, url)
    client.tags.add(*[builtin_tag(name) for name in ("Shame", "Burnout", "Anxiety")])
    for _ in range(10):
        CareTeamMember.objects.create(client=client, clinician=make_user(world.clinic))
    assert count_queries(http, url) == few


def test_edit_and_care_team_pages_have_a_bounded_query_count(world):
    http = world.browser("clinician")
    client = world.client_record
    for name in ("clinic:client_edit", "clinic:client_care_team", "clinic:client_discharge"):
        url = reverse(name, args=[client.pk])
        few = count_queries(http, url)
        for _ in range(5):
            make_client(world.clinic, world.clinician)
            CareTeamMember.objects.create(client=client, clinician=make_user(world.clinic))
        assert count_queries(http, url) == few, name


def test_a_stale_care_team_save_keeps_the_choices_and_saves_on_a_deliberate_retry(world):
    """Found in review: the form came back with the old version, so no retry could succeed."""
    client = world.client_record
    url = reverse("clinic:client_care_team", args=[client.pk])
    Client.objects.filter(pk=client.pk).update(version=2)  # someone else saved meanwhile
    http = world.browser("clinician")
    choices = {"primary": world.clinician.pk, "others": [world.colleague.pk], "version": 1}

    stale = http.post(url, choices)
    assert stale.status_code == 200
    assert "Your choices are kept below" in str(stale.context["form"].non_field_errors())
    assert stale.context["form"].data.getlist("others") == [str(world.colleague.pk)]
    assert not CareTeamMember.objects.exists()

    retry = http.post(url, stale.context["form"].data)
    assert retry.status_code == 302
    assert CareTeamMember.objects.filter(client=client, clinician=world.colleague).exists()


def test_reactivation_with_a_malformed_version_is_refused_politely(world):
    client = world.client_record
    Client.objects.filter(pk=client.pk).update(status=ClientStatus.DISCHARGED)
    response = world.browser("clinician").post(
        reverse("clinic:client_reactivate", args=[client.pk]), {"version": "abc"}
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.status == ClientStatus.DISCHARGED
