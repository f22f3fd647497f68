"""One-time links: random token, stored only as a hash, single use, expires, opens only that one
assessment for that one client, grants no login; a half-finished answer set can be resumed."""

import datetime as dt
import logging
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments.instruments import get_instrument
from assessments.models import Administration, OneTimeLink, hash_token
from assessments.services import LinkClosed, one_time_link_create, self_completion_save


def new_link(world, client=None, instrument="scs"):
    return one_time_link_create(
        client=client or world.client_record,
        instrument=get_instrument(instrument),
        created_by=world.clinician,
    )


def link_url(token: str) -> str:
    return reverse("assessment_link", kwargs={"token": token})


def answers(value=3, count=26, **extra):
    data = {f"item_{n}": str(value) for n in range(1, count + 1)}
    data.update(extra)
    return data


def test_a_clinician_creates_a_link_shown_once_and_stored_only_as_a_hash(world):
    response = world.browser("clinician").post(
        reverse("assessments:link_create", args=[world.client_record.pk]), {"instrument": "scs"}
    )
    link = OneTimeLink.objects.get()
    url = response.context["url"]
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert "/t/a/" in url
    assert len(token) >= 40
    assert link.token_hash == hash_token(token) and token not in link.token_hash
    assert response["Cache-Control"] == "no-store"
    assert link.expires_at - link.created_at >= dt.timedelta(days=6, hours=23)
    assert link.client == world.client_record and link.instrument_code == "scs"


def test_a_client_completes_the_assessment_by_link_without_being_logged_in(client, world):
    _, token = new_link(world)
    page = client.get(link_url(token))
    assert page.status_code == 200
    assert page["Referrer-Policy"] == "same-origin"  # the token never leaves the site
    assert b"read each question from the paper copy" in page.content
    # Subscale names would tell the client what each item measures: only "Item N" is shown.
    assert b"Item 8" in page.content
    assert b"self-judgment" not in page.content and b"reverse-keyed" not in page.content

    done = client.post(link_url(token), answers(finish="1"))

    assert done.status_code == 200 and b"Thank you" in done.content
    administration = Administration.objects.get()
    assert administration.client == world.client_record
    assert administration.mode == "one_time_link" and administration.status == "final"
    assert administration.score.total == 3.0
    assert "_auth_user_id" not in client.session  # no login granted
    assert client.get(reverse("clinic:caseload")).status_code == 302


def test_a_used_link_cannot_be_used_again(client, world):
    _, token = new_link(world)
    client.post(link_url(token), answers(finish="1"))
    assert client.get(link_url(token)).status_code == 404
    assert client.post(link_url(token), answers(finish="1")).status_code == 404
    assert Administration.objects.count() == 1


def test_an_expired_link_answers_not_found(client, world):
    link, token = new_link(world)
    link.expires_at = timezone.now() - dt.timedelta(seconds=1)
    link.save()
    assert client.get(link_url(token)).status_code == 404


def test_a_tampered_or_unknown_token_answers_not_found(client, world):
    _, token = new_link(world)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(link_url(tampered)).status_code == 404
    assert client.get(link_url("x" * 300)).status_code == 404


def test_a_link_opens_only_its_own_client_and_instrument(client, world):
    _, token = new_link(world, client=world.other_client_record, instrument="scs-sf")
    client.post(link_url(token), answers(count=12, finish="1"))
    administration = Administration.objects.get()
    assert administration.client == world.other_client_record
    assert administration.instrument_code == "scs-sf"
    assert not world.client_record.administrations.exists()


def test_half_finished_answers_are_kept_and_resumed(client, world):
    link, token = new_link(world)
    client.post(link_url(token), {"item_1": "4", "item_2": "2", "save": "1"})
    draft = Administration.objects.get()
    assert draft.status == "draft" and draft.answers["1"] == 4
    assert not hasattr(draft, "score") or draft.score is None

    resumed = client.get(link_url(token))
    html = resumed.content.decode()
    assert "Welcome back" in html and 'id="id_item_1_4" value="4" checked' in html

    client.post(link_url(token), answers(item_1="4", finish="1"))
    assert Administration.objects.get().status == "final"
    link.refresh_from_db()
    assert link.used_at is not None


class Capture(logging.Handler):
    def __init__(self, filters):
        super().__init__()
        self.filters = list(filters)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def test_the_token_never_reaches_the_request_log(client, world):
    _, token = new_link(world)
    request_logger = logging.getLogger("django.request")
    # The same filters as the configured console handler. 404s are not logged by default
    # (level ERROR); an operator who lowers the level to WARNING must still see no token.
    capture = Capture(request_logger.handlers[0].filters)
    request_logger.addHandler(capture)
    level = request_logger.level
    request_logger.setLevel(logging.WARNING)
    try:
        client.get(link_url(token))
        client.get(link_url(token + "tampered"))  # a 404 is logged
    finally:
        request_logger.setLevel(level)
        request_logger.removeHandler(capture)
    assert capture.lines, "the 404 should have been logged"
    assert all(token not in line for line in capture.lines)
    assert any("/t/[redacted]" in line for line in capture.lines)


def test_a_bad_answer_on_a_link_keeps_the_values_and_saves_nothing(client, world):
    _, token = new_link(world)
    response = client.post(link_url(token), answers(item_3="9", finish="1"))
    assert response.status_code == 400
    assert b"Item 3" in response.content
    assert not Administration.objects.exists()


def test_a_client_completes_and_resumes_from_the_portal(world):
    http = world.browser("client")
    url = reverse("assessments:portal_complete", kwargs={"instrument": "scs"})
    http.post(url, {"item_1": "2", "save": "1"})
    assert b"Continue the SCS" in http.get(reverse("assessments:portal_list")).content
    assert 'id="id_item_1_2" value="2" checked' in http.get(url).content.decode()

    response = http.post(url, answers(item_1="2", finish="1"))

    assert response.status_code == 302
    administration = Administration.objects.get()
    assert administration.mode == "client_portal" and administration.status == "final"
    results = http.get(reverse("assessments:portal_results", args=[administration.pk]))
    assert results.status_code == 200 and b"Self-Kindness" in results.content
    # Clients see their scores, not the clinician's reliable change. (A bare b"RC" also matched
    # the random CSRF token now and then.)
    page = results.content.decode()
    assert "reliable change" not in page.lower() and not re.search(r"\bRC\b", page)
    other = world.browser("other_client")
    assert (
        other.get(reverse("assessments:portal_results", args=[administration.pk])).status_code
        == 404
    )


def test_a_draft_is_not_visible_as_a_result(world):
    http = world.browser("client")
    http.post(reverse("assessments:portal_complete", args=["scs"]), {"item_1": "2", "save": "1"})
    draft = Administration.objects.get()
    assert http.get(reverse("assessments:portal_results", args=[draft.pk])).status_code == 404
    clinician = world.browser("clinician")
    assert clinician.get(reverse("assessments:results", args=[draft.pk])).status_code == 404


def test_a_second_submission_racing_on_the_same_link_creates_nothing(world):
    link, _ = new_link(world)
    stale = OneTimeLink.objects.get(pk=link.pk)  # as loaded by a second, concurrent request
    every_item = dict.fromkeys(range(1, 27), 3)
    for attempt in (link, stale):
        kwargs = dict(
            client=world.client_record,
            instrument=get_instrument("scs"),
            answers=every_item,
            mode="one_time_link",
            draft=None,
            finish=True,
            link=attempt,
        )
        if attempt is stale:
            with pytest.raises(LinkClosed):
                self_completion_save(**kwargs)
        else:
            self_completion_save(**kwargs)
    assert Administration.objects.count() == 1


def test_a_clinician_sees_recent_links_and_can_close_an_open_one(client, world):
    link, token = new_link(world)
    http = world.browser("clinician")
    page = http.get(reverse("assessments:client_assessments", args=[world.client_record.pk]))
    assert b"open until" in page.content
    assert token.encode() not in page.content

    http.post(reverse("assessments:link_revoke", args=[link.pk]))

    assert client.get(link_url(token)).status_code == 404
    page = http.get(reverse("assessments:client_assessments", args=[world.client_record.pk]))
    assert b"closed" in page.content
    colleague = world.browser("colleague")
    assert colleague.post(reverse("assessments:link_revoke", args=[link.pk])).status_code == 404


def test_finishing_in_the_portal_leaves_a_links_draft_alone(client, world):
    """Found in review: the portal resumed the link's draft, finished it, and the link then
    kept showing the final answers until it expired."""
    _, token = new_link(world)
    client.post(link_url(token), {"item_1": "4", "save": "1"})
    link_draft = Administration.objects.get()

    portal = world.browser("client")
    portal.post(reverse("assessments:portal_complete", args=["scs"]), answers(finish="1"))

    link_draft.refresh_from_db()
    assert link_draft.status == "draft"
    assert Administration.objects.filter(status="final").exclude(pk=link_draft.pk).count() == 1
    assert client.get(link_url(token)).status_code == 200  # still the link's own draft


def test_a_link_whose_questionnaire_is_final_is_closed(client, world):
    _, token = new_link(world)
    client.post(link_url(token), {"item_1": "4", "save": "1"})
    Administration.objects.update(status="final")
    assert client.get(link_url(token)).status_code == 404
