"""The bulk rebuilds run in a transaction of their own when called outside one (seeding, a
benchmark's top-up): the client lock needs one, and a rebuild must not be seen half done."""

from __future__ import annotations

import datetime as dt

import pytest

from assessments.projections import scores_refresh
from tests.factories import write_entry
from tracking.models import ClientActivity, ClientDay
from tracking.projections import clients_rebuild

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_bulk_rebuild_called_outside_a_transaction_locks_and_rebuilds(world):
    client = world.client_record
    write_entry(client, occurred_at=dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC))
    ClientDay.objects.filter(client=client).delete()
    clients_rebuild([client.pk])
    scores_refresh([client.pk])
    assert ClientDay.objects.filter(client=client).count() == 1
    assert ClientActivity.objects.get(client=client).entries == 1
