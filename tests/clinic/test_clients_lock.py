"""clients_lock's statement is written out (clinic.models.CLIENTS_LOCK_SQL); the waits it
causes are in tests/tracking/test_rollups_concurrent.py (PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError

from clinic.models import (
    CLIENTS_LOCK_SQL,
    Client,
    Organisation,
    clients_lock,
    clients_lock_zones,
)


def test_the_lock_statement_names_the_client_and_clinic_tables_and_their_keys():
    client, clinic = Client._meta, Organisation._meta
    organisation = client.get_field("organisation").column
    assert f'FROM "{client.db_table}" c JOIN "{clinic.db_table}" o' in CLIENTS_LOCK_SQL
    assert f'ON o."{clinic.pk.column}" = c."{organisation}"' in CLIENTS_LOCK_SQL
    assert f'o."{clinic.get_field("time_zone").column}"' in CLIENTS_LOCK_SQL
    # The clinic's row first: a writer waiting for a time-zone move holds no client.
    assert CLIENTS_LOCK_SQL.endswith('ORDER BY c."id" FOR SHARE OF o FOR NO KEY UPDATE OF c')


def test_the_zones_are_read_as_they_stand_once_locked(world):
    with transaction.atomic():
        assert clients_lock_zones([world.client_record.pk, world.other_client_record.pk]) == {
            world.client_record.pk: "Europe/London",
            world.other_client_record.pk: "Europe/London",
        }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(not connection.features.has_select_for_update, reason="row locks: PostgreSQL")
def test_the_lock_is_refused_outside_a_transaction_where_it_would_hold_nothing(world):
    with pytest.raises(TransactionManagementError):
        clients_lock([world.client_record.pk])
    with transaction.atomic():
        clients_lock([world.client_record.pk])
