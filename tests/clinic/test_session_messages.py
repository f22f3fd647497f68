"""Messages waiting in the session for the next page (clinic.sessions.RecentMessagesStorage)."""

from __future__ import annotations

from django.contrib.messages import constants
from django.http import HttpResponse

from clinic.sessions import MESSAGES_KEPT, RecentMessagesStorage


def waiting_after(request, queued: list[tuple[int, str]]) -> list[str]:
    storage = RecentMessagesStorage(request)
    for level, text in queued:
        storage.add(level, text)
    storage.update(HttpResponse())
    return [message.message for message in RecentMessagesStorage(request)]


def test_only_the_latest_routine_messages_wait_for_the_next_page(rf):
    request = rf.get("/")
    request.session = {}
    saved = [f"Saved {n}." for n in range(MESSAGES_KEPT + 3)]
    assert waiting_after(request, [(constants.SUCCESS, text) for text in saved]) == saved[3:]


def test_a_warning_waits_however_many_routine_messages_follow_it(rf):
    request = rf.get("/")
    request.session = {}
    queued = [(constants.WARNING, "Your answers suggest you may be at risk.")]
    queued += [(constants.SUCCESS, f"Saved {n}.") for n in range(MESSAGES_KEPT + 3)]
    assert waiting_after(request, queued) == [
        "Your answers suggest you may be at risk.",
        *(f"Saved {n}." for n in range(3, MESSAGES_KEPT + 3)),
    ]


def test_no_message_leaves_nothing_in_the_session(rf):
    request = rf.get("/")
    request.session = {}
    assert waiting_after(request, []) == []
    assert request.session == {}
