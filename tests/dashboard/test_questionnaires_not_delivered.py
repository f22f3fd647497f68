"""A client whose scheduled questionnaire could not be emailed is listed on the dashboard as
"not delivered: <why>" (in their row, under a filter of its own, and in the CSV) for as long
as that questionnaire is the one due: never skipped in silence."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assessments.services import UNSUBSCRIBED, invitations_send_due
from clinic.models import EmailOptOut
from tests.dashboard.helpers import give_scs
from tests.dashboard.test_dashboard_pages import (
    EXPORT,
    HOME,
    count_queries,
    csv_rows,
    page_codes,
    rows_of,
)
from tests.factories import make_client
from tests.mailserver import smtp_server, use_smtp

pytestmark = pytest.mark.django_db
UNDELIVERED = {"flag": "undelivered"}


def reasons(response) -> dict[str, str]:
    return {row.client.code: row.not_delivered for row in rows_of(response)}


def test_a_due_client_without_an_address_is_listed_as_not_delivered(world):
    """The world's clients have no SCS yet: due four weeks after intake, and no address."""
    pat = world.other_client_record
    pat.email = "pat@example.org"
    pat.save()
    invitations_send_due()

    http = world.browser("clinic_admin")
    page = http.get(HOME)
    assert reasons(page) == {"RC-001": "no email address", "RC-002": ""}
    # A short "not delivered" in the row, the reason for screen readers and on the linked page.
    html = page.content.decode()
    assert 'not delivered<span class="visually-hidden">: no email address</span></a>' in html
    assert page_codes(http.get(HOME, UNDELIVERED)) == ["RC-001"]
    exported = {row["code"]: row["scs_not_delivered"] for row in csv_rows(http.get(EXPORT))}
    assert exported == {"RC-001": "no email address", "RC-002": ""}


def test_the_note_goes_once_the_questionnaire_is_done_another_way(world):
    invitations_send_due()
    give_scs(world.client_record, world.clinic.today(), 3, 3)  # a paper form in session
    http = world.browser("clinician")
    assert reasons(http.get(HOME)) == {"RC-001": ""}
    assert page_codes(http.get(HOME, UNDELIVERED)) == []


def test_an_unsubscribed_client_and_a_refused_address_are_listed_with_the_reason(
    world, settings, django_capture_on_commit_callbacks
):
    sam, pat = world.client_record, world.other_client_record
    sam.email, pat.email = "sam@example.org", "pat@example.org"
    sam.save()
    pat.save()
    EmailOptOut.objects.create(organisation=world.clinic, address="sam@example.org")
    with smtp_server() as (inbox, port):
        use_smtp(settings, port)
        inbox.refuse_recipients_with = "550 5.1.1 No such mailbox"
        with django_capture_on_commit_callbacks(execute=True):
            invitations_send_due()
    http = world.browser("clinic_admin")
    assert reasons(http.get(HOME)) == {
        "RC-001": UNSUBSCRIBED,
        "RC-002": "5.1.1 No such mailbox",
    }
    assert sorted(page_codes(http.get(HOME, UNDELIVERED))) == ["RC-001", "RC-002"]


def test_the_note_links_to_the_clients_scheduled_questionnaires(world):
    invitations_send_due()
    page = world.browser("clinician").get(HOME).content.decode()
    target = reverse("assessments:client_assessments", args=[world.client_record.pk])
    assert f'href="{target}#scheduled"' in page


@pytest.mark.parametrize("persona", ["clinician", "clinic_admin"])
def test_the_dashboard_queries_do_not_grow_with_what_was_not_delivered(world, persona):
    http = world.browser(persona)
    invitations_send_due()
    few = count_queries(http, HOME), count_queries(http, HOME, UNDELIVERED)
    for n in range(30):
        make_client(world.clinic, world.clinician, code=f"RC-2{n:02d}")
    invitations_send_due()
    assert (count_queries(http, HOME), count_queries(http, HOME, UNDELIVERED)) == few
