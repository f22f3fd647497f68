"""ClientSummary stays honest: every change marks it stale, a read rebuilds it, and a change
that lands while a rebuild reads is never lost."""

from __future__ import annotations

import datetime as dt

import pytest

from clinic.signals import client_data_changed
from dashboard import services
from dashboard.models import ClientSummary
from dashboard.services import summaries_refresh
from tests.dashboard.helpers import give_scs, log_entry, practise

pytestmark = pytest.mark.django_db


def summary(client) -> ClientSummary:
    return ClientSummary.objects.get(client=client)


def test_a_new_client_gets_a_stale_summary_at_once(world):
    assert summary(world.client_record).stale


@pytest.mark.parametrize(
    "change",
    [
        lambda c: log_entry(c, dt.date(2026, 11, 1)),
        lambda c: practise(c, dt.date(2026, 11, 1)),
        lambda c: give_scs(c, dt.date(2026, 11, 1), 3, 3),
        lambda c: log_entry(c, dt.date(2026, 11, 1)).delete(),
        lambda c: c.save(),
    ],
    ids=["entry", "practice", "assessment", "deleted entry", "client record"],
)
def test_every_kind_of_change_marks_the_summary_stale(world, change):
    client = world.client_record
    summaries_refresh([client.pk])
    assert not summary(client).stale
    change(client)
    assert summary(client).stale


def test_a_bulk_write_that_sends_no_model_signals_can_still_mark_summaries(world):
    summaries_refresh()
    client_data_changed.send(sender=None, client_ids=[world.client_record.pk])
    assert summary(world.client_record).stale
    assert not summary(world.other_client_record).stale


def test_a_change_during_a_rebuild_leaves_the_summary_stale(world, monkeypatch):
    client = world.client_record
    real = services._summaries_for

    def slow_read(*args, **kwargs):
        rows = real(*args, **kwargs)
        log_entry(client, dt.date(2026, 11, 20))  # lands after the rebuild read its data
        return rows

    monkeypatch.setattr(services, "_summaries_for", slow_read)
    summaries_refresh([client.pk])
    assert summary(client).stale  # the next read rebuilds it again
    monkeypatch.setattr(services, "_summaries_for", real)
    summaries_refresh([client.pk])
    fresh = summary(client)
    assert not fresh.stale and fresh.activity_count == 1


def test_a_rebuild_of_many_clients_runs_in_batches(world, monkeypatch):
    monkeypatch.setattr(services, "BATCH", 2)
    summaries_refresh()
    assert not ClientSummary.objects.filter(stale=True).exists()
    assert ClientSummary.objects.count() == 3
