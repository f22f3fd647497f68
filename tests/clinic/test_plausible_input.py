"""Client records, staff, tags and programmes: only plausible dates are stored, and two
identifiers that look the same on screen cannot both exist."""

from __future__ import annotations

import unicodedata

import pytest
from django.urls import reverse

from clinic.models import Client, Programme, Tag, User
from tests.clinic.test_client_records import form_data, new_client_data
from tests.factories import make_client

NFC = unicodedata.normalize("NFC", "ZOË-01")
NFD = unicodedata.normalize("NFD", "ZOË-01")


def create(world, **changes):
    return world.browser("clinician").post(
        reverse("clinic:client_create"), new_client_data(world, **changes)
    )


def field_errors(response, name: str) -> list[str]:
    return response.context["form"].errors.get(name, [])


# --- Dates ----------------------------------------------------------------------------------


def test_an_intake_thousands_of_years_ahead_is_refused_and_nothing_is_saved(world):
    response = create(world, intake_date="9999-12-31")
    assert response.status_code == 200
    assert field_errors(response, "intake_date")[0].startswith(
        "Intake date cannot be more than a year ahead (after "
    )
    assert not Client.objects.filter(code="RC-100").exists()
    assert 'value="9999-12-31"' in response.content.decode()  # what was typed is kept


def test_an_intake_or_birth_before_1900_is_refused_naming_the_field(world):
    response = create(world, intake_date="0001-01-01", date_of_birth="1899-12-31")
    assert field_errors(response, "intake_date") == ["Intake date cannot be before 1 January 1900."]
    assert field_errors(response, "date_of_birth") == [
        "Date of birth cannot be before 1 January 1900."
    ]
    assert not Client.objects.filter(code="RC-100").exists()


def test_an_intake_booked_within_the_year_is_accepted(world):
    today = world.clinic.today()
    response = create(
        world, intake_date=today.replace(day=1).isoformat(), date_of_birth="1990-01-01"
    )
    assert response.status_code == 302


def test_a_discharge_in_year_one_is_refused(world):
    client = world.client_record
    response = world.browser("clinician").post(
        reverse("clinic:client_discharge", args=[client.pk]),
        {"discharge_date": "0001-01-01", "version": client.version},
    )
    assert "Discharge date cannot be before 1 January 1900." in response.content.decode()
    client.refresh_from_db()
    assert client.discharge_date is None


def test_a_programme_dated_in_year_one_is_refused(world):
    response = world.browser("clinic_admin").post(
        reverse("clinic:settings"), {"prog-name": "MSC", "prog-starts_on": "0001-01-01"}
    )
    assert "Starts on cannot be before 1 January 1900." in response.content.decode()
    assert not Programme.objects.filter(name="MSC").exists()


# --- Client codes ---------------------------------------------------------------------------


def test_an_nfd_spelling_of_an_existing_nfc_code_is_the_same_code(world):
    assert create(world, code=NFC).status_code == 302
    response = create(world, code=NFD)
    assert field_errors(response, "code") == [
        f"Another client of this clinic already has code {NFC}."
    ]
    assert list(Client.objects.filter(code__in=[NFC, NFD]).values_list("code", flat=True)) == [NFC]


def test_a_code_written_in_nfd_is_stored_in_nfc(world):
    assert create(world, code=f"  {NFD.lower()} ").status_code == 302
    assert Client.objects.filter(code=NFC).exists()


def test_a_zero_width_space_in_a_code_is_refused_by_name(world):
    response = create(world, code="ZOE\u200b-01")
    assert field_errors(response, "code") == [
        "Client code contains U+200B ZERO WIDTH SPACE: invisible, control and text-direction "
        "characters are not allowed, as they make different names look the same."
    ]
    assert not Client.objects.filter(code__startswith="ZOE").exists()


def test_a_right_to_left_override_cannot_make_a_code_display_as_another(world):
    response = create(world, code="\u202e\u200fABC\u202c")
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in field_errors(response, "code")[0]
    assert "U+200F RIGHT-TO-LEFT MARK" in field_errors(response, "code")[0]
    assert Client.objects.count() == 3  # the world's three, nothing new


def test_editing_a_record_cannot_introduce_an_invisible_character(world):
    client = world.client_record
    response = world.browser("clinician").post(
        reverse("clinic:client_edit", args=[client.pk]), form_data(client, code="RC\u2060-001")
    )
    assert "U+2060 WORD JOINER" in field_errors(response, "code")[0]
    client.refresh_from_db()
    assert client.code == "RC-001"


def test_the_caseload_search_finds_a_code_typed_in_another_normal_form(world):
    make_client(world.clinic, world.clinician, code=NFC, display_name="Zoë")
    http = world.browser("clinician")
    for query, found in ((NFD, [NFC]), (f" {NFD}\u200b ", [NFC]), ("ZOE\u200b", [])):
        response = http.get(reverse("clinic:caseload"), {"q": query})
        assert [client.code for client in response.context["page"]] == found


def test_the_dashboard_search_normalises_the_query_the_same_way(world):
    make_client(world.clinic, world.clinician, code=NFC, display_name="Zoë")
    response = world.browser("clinician").get(reverse("dashboard:home"), {"q": NFD})
    assert NFC in response.content.decode()
    assert "RC-001" not in response.content.decode()


# --- Login names, tags, programmes ----------------------------------------------------------


def test_a_staff_login_name_with_a_zero_width_joiner_is_refused(world):
    response = world.browser("clinic_admin").post(
        reverse("clinic:staff_invite"),
        {"username": "al\u200dex", "first_name": "Alex", "role": "clinician"},
    )
    assert "Login name contains U+200D ZERO WIDTH JOINER" in response.content.decode()
    assert not User.objects.filter(username__startswith="al\u200d").exists()


def test_a_login_name_in_nfd_is_stored_as_the_login_form_will_read_it(world):
    nfd = unicodedata.normalize("NFD", "zoë")
    response = world.browser("clinic_admin").post(
        reverse("clinic:staff_invite"), {"username": nfd, "first_name": "Zoë", "role": "clinician"}
    )
    assert response.status_code == 200
    assert User.objects.filter(username=unicodedata.normalize("NFKC", nfd)).exists()
    again = world.browser("clinic_admin").post(
        reverse("clinic:staff_invite"),
        {"username": unicodedata.normalize("NFC", "zoë"), "first_name": "Z", "role": "clinician"},
    )
    assert "That login name is taken" in again.content.decode()


def test_a_portal_login_name_is_held_to_the_same_rule(world):
    client = make_client(world.clinic, world.clinician, code="RC-777")
    response = world.browser("clinician").post(
        reverse("clinic:client_portal_invite", args=[client.pk]), {"username": "\u202esam2"}
    )
    assert "Login name contains U+202E RIGHT-TO-LEFT OVERRIDE" in response.content.decode()
    client.refresh_from_db()
    assert client.user_id is None


def test_tag_and_programme_names_that_look_alike_are_one_name(world):
    http = world.browser("clinic_admin")
    url = reverse("clinic:settings")
    assert http.post(url, {"tag-name": NFC}).status_code == 302
    assert "already exists" in http.post(url, {"tag-name": NFD}).content.decode()
    assert "U+200B" in http.post(url, {"tag-name": "Sha\u200bme"}).content.decode()
    assert http.post(url, {"prog-name": NFD}).status_code == 302
    assert Programme.objects.get(organisation=world.clinic).name == NFC
    assert "already exists" in http.post(url, {"prog-name": NFC}).content.decode()
    assert Tag.objects.filter(organisation=world.clinic).count() == 1


def test_a_lookup_by_code_finds_the_client_whatever_form_the_code_was_typed_in(world):
    from django.core.exceptions import ValidationError

    from clinic.selectors import clients_by_code
    from clinic.validation import client_code_key

    zoe = make_client(world.clinic, world.clinician, code=NFC)
    make_client(world.other_clinic, world.other_clinic_clinician, code=NFC)
    index = clients_by_code(world.clinic.pk)
    for typed in (NFC, NFD, f" {NFD.lower()} "):
        assert index[client_code_key(typed)] == zoe
    assert index[client_code_key("rc-001")] == world.client_record
    with pytest.raises(ValidationError, match="U\\+200B"):
        client_code_key("ZOE\u200b-01")


def test_a_choice_id_beyond_what_a_database_holds_is_an_invalid_choice_not_a_crash(world):
    """Found by tests/test_fuzz_input.py: a tag id of 23 digits answered 500."""
    client = world.client_record
    huge = "9" * 23
    http = world.browser("clinician")
    response = http.post(
        reverse("clinic:client_edit", args=[client.pk]),
        form_data(client, tags=[huge], programmes=[huge], primary_clinician=huge),
    )
    assert response.status_code == 200
    for name in ("tags", "programmes", "primary_clinician"):
        assert field_errors(response, name), name
    response = http.post(
        reverse("clinic:client_care_team", args=[client.pk]),
        {"primary": world.clinician.pk, "others": [huge], "version": client.version},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["others"]
    client.refresh_from_db()
    assert client.version == 1
