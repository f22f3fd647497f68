from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.models import CareTeamMember, ClientStatus
from tests.factories import builtin_tag, make_client, make_user


def caseload(http, **params):
    return http.get(reverse("clinic:caseload"), params)


def codes(response) -> list[str]:
    return [client.code for client in response.context["page"]]


def test_a_clinician_sees_only_clients_on_their_care_teams(world):
    shared = make_client(world.clinic, world.colleague, code="RC-050")
    CareTeamMember.objects.create(client=shared, clinician=world.clinician)

    response = caseload(world.browser("clinician"))

    assert codes(response) == ["RC-001", "RC-050"]
    assert b"RC-002" not in response.content
    assert b"HP-001" not in response.content


def test_a_clinic_admin_sees_the_whole_clinic_but_not_another_clinic(world):
    assert codes(caseload(world.browser("clinic_admin"))) == ["RC-001", "RC-002"]


def test_search_matches_code_or_name(world):
    http = world.browser("clinic_admin")
    assert codes(caseload(http, q="rc-002")) == ["RC-002"]
    assert codes(caseload(http, q="sam")) == ["RC-001"]


def test_filters_by_status_tag_programme_and_clinician(world):
    http = world.browser("clinic_admin")
    world.other_client_record.status = ClientStatus.DISCHARGED
    world.other_client_record.save()
    world.client_record.tags.add(builtin_tag("Perfectionism"))

    assert codes(caseload(http)) == ["RC-001"]  # open clients by default
    assert codes(caseload(http, status="discharged")) == ["RC-002"]
    assert codes(caseload(http, status="all")) == ["RC-001", "RC-002"]
    assert codes(caseload(http, status="all", tag=builtin_tag("Perfectionism").pk)) == ["RC-001"]
    assert codes(caseload(http, status="all", clinician=world.colleague.pk)) == ["RC-002"]


def test_sorting_and_pagination(world):
    for n in range(30):
        make_client(world.clinic, world.clinician, code=f"RC-{100 + n}")
    http = world.browser("clinician")

    first = caseload(http, sort="-code")
    assert codes(first)[0] == "RC-129"
    assert first.context["page"].paginator.num_pages == 2
    assert len(codes(caseload(http, sort="-code", page=2))) == 6


def test_markup_in_a_name_is_shown_escaped(world):
    world.client_record.display_name = "<script>alert(1)</script>"
    world.client_record.save()
    response = caseload(world.browser("clinician"))
    assert b"<script>alert(1)</script>" not in response.content
    assert b"&lt;script&gt;" in response.content


def add_clients(world, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        client = make_client(world.clinic, world.clinician, code=f"Q-{n:03d}")
        client.tags.add(builtin_tag("Shame"), builtin_tag("Burnout"))
        CareTeamMember.objects.create(client=client, clinician=make_user(world.clinic))


def count_queries(http, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert http.get(url).status_code == 200
    return len(queries)


def test_caseload_query_count_does_not_grow_with_the_caseload(world):
    http = world.browser("clinician")
    add_clients(world, 4)  # 5 with RC-001
    few = count_queries(http, reverse("clinic:caseload"))
    add_clients(world, 45, start=4)  # 50
    assert count_queries(http, reverse("clinic:caseload")) == few
    assert few <= 16
