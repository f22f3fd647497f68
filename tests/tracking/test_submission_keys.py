"""A capture or practice form saves one record however many times it is posted: a double tap on
Save, or a phone re-sending the post on a weak connection, must not log the same moment twice
(it would count twice in the day's totals, the intensity trend, the practice dose and the
flags). clinic.forms.SubmissionKeyField, clinic.models.saved_once."""

from __future__ import annotations

import re
import threading
import time
import uuid

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditAction, AuditEvent, saved_once
from tests.tracking.test_views_tracking import capture, local_input
from tracking import services
from tracking.models import ClientActivity, ClientDay, InnerCriticEntry, PracticeSession

ENTRY = {"critic_text": "Too slow again.", "intensity": 6}


def drawn_key(http, url: str) -> str:
    """The key the form was drawn with, read off the page as a browser would post it."""
    page = http.get(url).content.decode()
    return re.search(r'name="submission" value="([^"]+)"', page).group(1)


def test_each_drawing_of_the_capture_form_carries_a_new_key(world):
    http = world.browser("client")
    url = reverse("tracking:my_log")
    first, second = drawn_key(http, url), drawn_key(http, url)
    assert first != second
    assert uuid.UUID(first) and uuid.UUID(second)


def test_a_capture_form_posted_twice_saves_one_entry_and_both_posts_land_on_it(world):
    http = world.browser("client")
    key = drawn_key(http, reverse("tracking:my_log"))
    first, second = capture(http, submission=key), capture(http, submission=key)

    entry = InnerCriticEntry.objects.get()
    assert first["Location"] == second["Location"] == reverse("tracking:my_entry", args=[entry.pk])
    assert entry.submission == uuid.UUID(key)
    assert ClientActivity.objects.get(client=world.client_record).entries == 1


def test_the_same_words_from_two_drawings_of_the_form_are_two_moments(world):
    http = world.browser("client")
    url = reverse("tracking:my_log")
    capture(http, submission=drawn_key(http, url))
    capture(http, submission=drawn_key(http, url))
    assert InnerCriticEntry.objects.count() == 2


@pytest.mark.parametrize("key", ["", "not-a-key", "x" * 5000])
def test_a_missing_or_damaged_key_still_saves_the_entry_without_the_guard(world, key):
    """The key is ours, not the client's input: the moment they logged is never refused
    because of it."""
    http = world.browser("client")
    assert capture(http, submission=key).status_code == 302
    assert capture(http, submission=key).status_code == 302
    assert list(InnerCriticEntry.objects.values_list("submission", flat=True)) == [None, None]


def test_one_clients_key_never_finds_another_clients_entry(world):
    """The guard is per client: one client's key never finds another client's entry."""
    key = str(uuid.uuid4())
    capture(world.browser("client"), submission=key)
    assert capture(world.browser("other_client"), submission=key).status_code == 302
    assert InnerCriticEntry.objects.filter(submission=key).count() == 2


def test_a_form_refused_for_bad_input_keeps_its_key_and_saves_once_corrected(world):
    http = world.browser("client")
    key = drawn_key(http, reverse("tracking:my_log"))
    refused = capture(http, submission=key, intensity="11")
    assert refused.status_code == 200
    assert f'name="submission" value="{key}"' in refused.content.decode()
    assert not InnerCriticEntry.objects.exists()

    assert capture(http, submission=key).status_code == 302
    assert capture(http, submission=key).status_code == 302
    assert InnerCriticEntry.objects.count() == 1


def test_editing_an_entry_keeps_its_key(world):
    http = world.browser("client")
    key = drawn_key(http, reverse("tracking:my_log"))
    capture(http, submission=key)
    entry = InnerCriticEntry.objects.get()
    url = reverse("tracking:my_entry", args=[entry.pk])
    assert 'name="submission"' not in http.get(url).content.decode()
    http.post(
        url,
        {
            "critic_text": "Edited words.",
            "intensity": "4",
            "occurred_at": local_input(entry.occurred_at),
            "submission": str(uuid.uuid4()),
        },
    )
    entry.refresh_from_db()
    assert (entry.critic_text, entry.submission) == ("Edited words.", uuid.UUID(key))


def test_a_keyed_post_costs_only_a_savepoint(world):
    """The unique index decides (clinic.models.saved_once): no look-up before the write."""
    http = world.browser("client")
    capture(http)  # today's day row exists from here on
    with CaptureQueriesContext(connection) as plain:
        assert capture(http).status_code == 302
    with CaptureQueriesContext(connection) as keyed:
        assert capture(http, submission=str(uuid.uuid4())).status_code == 302
    assert len(keyed) == len(plain) + 2
    assert savepoints(keyed) == savepoints(plain) + 2


def savepoints(queries) -> int:
    return sum("SAVEPOINT" in query["sql"] for query in queries)


def test_an_entry_written_in_session_and_posted_twice_is_saved_counted_and_audited_once(world):
    """Written by the clinician, so the first post is audited; the second records nothing."""
    http = world.browser("clinician")
    url = reverse("tracking:client_entry_create", args=[world.client_record.pk])
    data = {
        "critic_text": "Said in session: I ruin everything.",
        "intensity": "8",
        "occurred_at": local_input(timezone.now()),
        "submission": drawn_key(http, url),
    }
    http.post(url, data)
    days = list(ClientDay.objects.values())
    activity = ClientActivity.objects.values().get(client=world.client_record)
    audit = AuditEvent.objects.filter(action=AuditAction.CREATE).count()
    assert audit == 1
    assert http.post(url, data).status_code == 302
    assert list(ClientDay.objects.values()) == days
    assert ClientActivity.objects.values().get(client=world.client_record) == activity
    assert AuditEvent.objects.filter(action=AuditAction.CREATE).count() == audit
    assert InnerCriticEntry.objects.count() == 1


def test_the_form_sent_again_with_other_words_saves_them_as_an_entry_of_their_own(world):
    """Back, a change and Save again send the old key with new values: what the client wrote
    is never dropped for the key's sake."""
    http = world.browser("client")
    key = drawn_key(http, reverse("tracking:my_log"))
    capture(http, submission=key)
    second = capture(http, submission=key, critic_text="Not just that: everything.")
    first_entry, second_entry = InnerCriticEntry.objects.order_by("pk")
    assert second["Location"] == reverse("tracking:my_entry", args=[second_entry.pk])
    assert (first_entry.submission, second_entry.submission) == (uuid.UUID(key), None)
    assert second_entry.critic_text == "Not just that: everything."
    assert ClientActivity.objects.get(client=world.client_record).entries == 2


def test_an_integrity_error_other_than_the_keys_is_raised_as_it_came(world):
    """Under a used key, a row a check constraint refuses is refused, not taken for the
    record the key saved."""
    key = uuid.uuid4()
    client = world.client_record
    services.entry_create(actor=world.client, client=client, data={**ENTRY, "submission": key})
    refused = InnerCriticEntry(client=client, critic_text="", intensity=6, submission=key)
    with pytest.raises(IntegrityError), transaction.atomic():
        saved_once(refused, same=("critic_text",))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="row locks and READ COMMITTED: PostgreSQL (SQLite writes one at a time)",
)
def test_a_second_post_arriving_while_the_first_is_being_saved_gets_the_first_entry(world):
    """The second post's insert waits at the unique index until the first commits, fails on
    the key, and finds the first's entry: no second entry, and no 500 to the client."""
    client, key = world.client_record, uuid.uuid4()
    data = {**ENTRY, "submission": key}
    first_saved, commit_first = threading.Event(), threading.Event()
    entries, failures = [], []

    def post(hold: bool):
        try:
            with transaction.atomic():
                entries.append(services.entry_create(actor=world.client, client=client, data=data))
                if hold:
                    first_saved.set()
                    commit_first.wait(10)
        except Exception as error:  # reported by the assertion below
            failures.append(error)
        finally:
            connection.close()

    first = threading.Thread(target=post, args=(True,))
    first.start()
    assert first_saved.wait(10)
    second = threading.Thread(target=post, args=(False,))
    second.start()
    time.sleep(0.5)  # time enough for the second post to finish, if nothing holds it back
    assert len(entries) == 1
    commit_first.set()
    first.join(10)
    second.join(10)

    assert failures == []
    assert [entry.pk for entry in entries] == [InnerCriticEntry.objects.get().pk] * 2
    assert ClientActivity.objects.get(client=client).entries == 1


# --- Practice --------------------------------------------------------------------------------


def log_practice(http, **data):
    payload = {
        "practised_on": timezone.localdate().isoformat(),
        "practice_type": "hand_on_heart",
        "minutes": "10",
        **data,
    }
    return http.post(reverse("tracking:my_practice"), payload)


def test_a_practice_form_posted_twice_logs_one_practice(world):
    http = world.browser("client")
    key = drawn_key(http, reverse("tracking:my_practice"))
    assert log_practice(http, submission=key).status_code == 302
    assert log_practice(http, submission=key).status_code == 302
    practice = PracticeSession.objects.get()
    assert practice.submission == uuid.UUID(key)
    assert ClientActivity.objects.get(client=world.client_record).practice_sessions == 1


def test_a_practice_posted_twice_that_raised_distress_leads_both_posts_to_its_note(world):
    http = world.browser("client")
    key = drawn_key(http, reverse("tracking:my_practice"))
    data = {"submission": key, "distress_before": "3", "distress_after": "7"}
    first, second = log_practice(http, **data), log_practice(http, **data)
    practice = PracticeSession.objects.get()
    assert first["Location"] == second["Location"]
    assert first["Location"] == reverse("tracking:my_practice_note", args=[practice.pk])


def test_two_practices_from_two_drawings_of_the_form_are_both_logged(world):
    http = world.browser("client")
    url = reverse("tracking:my_practice")
    log_practice(http, submission=drawn_key(http, url))
    log_practice(http, submission=drawn_key(http, url))
    assert PracticeSession.objects.count() == 2
