"""Two writes for one client at the same moment on PostgreSQL (READ COMMITTED): each keeps
the client's projections from what it can see, so the second must wait for the first, or it
would store totals that miss the first one's day (SQLite's IMMEDIATE transactions already
write one at a time)."""

from __future__ import annotations

import datetime as dt
import threading
import time
import zoneinfo

import pytest
from django.conf import settings
from django.db import connection, transaction

from tests.factories import write_entry
from tests.tracking.test_rollups_match_pure import assert_activity_as_the_repair_computes_it
from tracking.models import ClientActivity

LONDON = zoneinfo.ZoneInfo("Europe/London")

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="row locks and READ COMMITTED: PostgreSQL",
    ),
]


def in_thread(work) -> threading.Thread:
    def run():
        try:
            work()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_an_entry_written_while_another_of_the_same_client_commits_keeps_both_counted(world):
    client = world.client_record
    write_entry(client, occurred_at=dt.datetime(2026, 11, 2, 12, tzinfo=LONDON))
    first_written, commit_first = threading.Event(), threading.Event()

    def slow():
        with transaction.atomic():
            write_entry(client, occurred_at=dt.datetime(2026, 11, 9, 12, tzinfo=LONDON))
            first_written.set()
            commit_first.wait(10)

    first = in_thread(slow)
    assert first_written.wait(10)
    second = in_thread(
        lambda: write_entry(client, occurred_at=dt.datetime(2026, 11, 16, 12, tzinfo=LONDON))
    )
    time.sleep(0.5)  # time enough for the second write to finish, if nothing holds it back
    commit_first.set()
    first.join(10)
    second.join(10)

    assert ClientActivity.objects.get(client=client).entries == 3
    assert_activity_as_the_repair_computes_it(client)


def test_a_questionnaire_entered_while_a_practice_of_the_same_client_commits_counts_its_minutes(
    world,
):
    """The questionnaire's write recomputes the intervals between questionnaires from the
    dose per day; a practice still being written adds its minutes to those intervals. The
    second to come must see the first, or the interval loses the practice's minutes."""
    from assessments.models import ScoreInterval
    from tests.dashboard.helpers import give_scs
    from tracking.services import practice_create

    client = world.client_record
    give_scs(client, dt.date(2026, 11, 2), 3, 3)
    first_written, commit_first = threading.Event(), threading.Event()

    def slow():
        with transaction.atomic():
            practice_create(
                actor=world.client,
                client=client,
                data={
                    "practised_on": dt.date(2026, 11, 5),
                    "practice_type": "hand_on_heart",
                    "minutes": 12,
                },
            )
            first_written.set()
            commit_first.wait(10)

    first = in_thread(slow)
    assert first_written.wait(10)
    second = in_thread(lambda: give_scs(client, dt.date(2026, 11, 9), 4, 2))
    time.sleep(0.5)  # time enough for the second write to finish, if nothing holds it back
    commit_first.set()
    first.join(10)
    second.join(10)

    (interval,) = ScoreInterval.objects.filter(client=client)
    assert interval.practice_minutes == 12


def test_a_risk_item_raised_while_an_entry_of_the_same_client_waits_deadlocks_neither(world):
    """A questionnaire holds the client's lock (its projections) and then raises a risk-item
    signal, which locks the client again; meanwhile an entry for the client has been inserted
    and waits for that lock. The questionnaire goes on and the entry follows: neither fails."""
    from clinic.models import SafetySignal, SignalKind, SignalSource, clients_lock
    from clinic.safety import safety_signal_raise

    client = world.client_record
    write_entry(client, occurred_at=dt.datetime(2026, 11, 2, 12, tzinfo=LONDON))
    locked, entry_waiting = threading.Event(), threading.Event()
    failures = []

    def questionnaire():
        try:
            with transaction.atomic():
                clients_lock([client.pk])  # as scores_refresh does
                locked.set()
                entry_waiting.wait(10)
                safety_signal_raise(
                    client=client,
                    kind=SignalKind.RISK_ITEM,
                    source=SignalSource.QUESTIONNAIRE,
                    source_id=1,
                    label="PHQ-9 item 9 answered 1 (0-3)",
                )
        except Exception as error:  # a deadlock ends one of the two with an error
            failures.append(error)

    def entry():
        try:
            write_entry(client, occurred_at=dt.datetime(2026, 11, 9, 12, tzinfo=LONDON))
        except Exception as error:
            failures.append(error)

    first = in_thread(questionnaire)
    assert locked.wait(10)
    second = in_thread(entry)
    time.sleep(0.5)  # the entry is inserted and waits for the client's lock
    entry_waiting.set()
    first.join(20)
    second.join(20)

    assert failures == []
    assert SafetySignal.objects.filter(client=client, kind=SignalKind.RISK_ITEM).count() == 1
    assert ClientActivity.objects.get(client=client).entries == 2
