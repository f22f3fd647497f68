"""Every clinic page runs the same number of queries whatever the amount of data."""

import itertools

import pytest
from django.urls import reverse

from clinic.audit import audit_record
from clinic.models import CareTeamMember, Programme, Role, Tag
from tests.clinic.test_caseload import count_queries
from tests.factories import make_client, make_user

PAGES = [
    ("clinician", "clinic:caseload", False),
    ("clinician", "clinic:client_create", False),
    ("clinician", "clinic:client_detail", True),
    ("clinician", "clinic:client_edit", True),
    ("clinician", "clinic:client_discharge", True),
    ("clinician", "clinic:client_care_team", True),
    ("clinician", "clinic:client_portal_invite", True),
    ("clinic_admin", "clinic:client_audit", True),
    ("clinic_admin", "clinic:staff_list", False),
    ("clinic_admin", "clinic:staff_invite", False),
    ("clinic_admin", "clinic:settings", False),
    ("client", "clinic:portal_home", False),
    ("client", "account:security", False),
    ("clinician", "account:two_factor_enrol", False),
    ("clinic_admin", "clinic:security_settings", False),
    ("clinic_admin", "clinic:security_log", False),
    ("clinic_admin", "clinic:retention", False),
    ("clinic_admin", "clinic:client_export", True),
    ("clinic_admin", "clinic:client_erase", True),
]


_names = itertools.count()


def grow(world, n: int) -> None:
    for _ in range(n):
        i = next(_names)
        staff = make_user(world.clinic, Role.CLINICIAN)
        client = make_client(world.clinic, world.clinician)
        CareTeamMember.objects.create(client=world.client_record, clinician=staff)
        client.tags.add(Tag.objects.create(organisation=world.clinic, name=f"Own concern {i}"))
        Programme.objects.create(organisation=world.clinic, name=f"Cohort {i}")
        audit_record(world.clinician, world.client_record, "view")


@pytest.mark.parametrize(("persona", "name", "about_client"), PAGES)
def test_page_query_count_does_not_grow_with_the_data(world, persona, name, about_client):
    http = world.browser(persona)
    kwargs = {"client_id": world.client_record.pk} if about_client else {}
    url = reverse(name, kwargs=kwargs)
    grow(world, 2)
    few = count_queries(http, url)
    grow(world, 20)
    assert count_queries(http, url) == few


def test_staff_edit_query_count_does_not_grow(world):
    http = world.browser("clinic_admin")
    url = reverse("clinic:staff_edit", args=[world.colleague.pk])
    few = count_queries(http, url)
    grow(world, 10)
    assert count_queries(http, url) == few


def test_the_second_step_query_count_does_not_grow(world):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from clinic.security import SECOND_FACTOR_STEP

    TOTPDevice.objects.create(user=world.clinician, name="Authenticator app", confirmed=True)
    http = world.browser("clinician")
    assert http.session[SECOND_FACTOR_STEP] == "verify"
    url = reverse("account:two_factor_verify")
    few = count_queries(http, url)
    grow(world, 10)
    assert count_queries(http, url) == few


def test_a_filter_select_reads_its_options_in_one_query_however_it_is_asked(
    world, django_assert_num_queries
):
    """A template's for loop asks a select's options for their length, then iterates; a widget
    iterates; a test asks for truth. OneQueryChoiceIterator answers all of them from one plain
    query (Django's own: a COUNT, then a server-side cursor on PostgreSQL)."""
    from clinic.forms import CaseloadFilterForm

    for n in range(3):
        Programme.objects.create(organisation=world.clinic, name=f"Course {n}")
    form = CaseloadFilterForm(organisation_id=world.clinic.pk)
    field = form.fields["programme"]
    with django_assert_num_queries(1):
        choices = field.choices
        assert len(choices) == 4 and choices
        assert [label for _, label in choices] == [
            "Any programme",
            "Course 0",
            "Course 1",
            "Course 2",
        ]
        assert "Course 2" in str(form["programme"])
    assert CaseloadFilterForm(
        {"programme": Programme.objects.get(name="Course 1").pk}, organisation_id=world.clinic.pk
    ).is_valid()


def test_the_staff_select_reads_only_the_labels_columns_once_and_still_validates(
    world, django_assert_num_queries
):
    from clinic.templatetags.markup import select_options
    from dashboard.forms import DashboardFilterForm

    form = DashboardFilterForm({"clinician": world.colleague.pk}, user=world.clinic_admin)
    field = form.fields["clinician"]
    with django_assert_num_queries(1) as captured:
        labels = [label for _, label in field.choices]
        assert len(field.choices) == len(labels)
        assert f'value="{world.colleague.pk}" selected' in select_options(form["clinician"])
    assert '"password"' not in captured.captured_queries[0]["sql"]
    assert {"Any clinician", world.clinician.label, world.colleague.label} <= set(labels)
    assert form.is_valid()
    assert form.cleaned_data["clinician"] == world.colleague
