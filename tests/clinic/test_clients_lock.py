"""clients_lock's statement is written out (clinic.models.CLIENTS_LOCK_SQL); the waits it
causes are in tests/tracking/test_rollups_concurrent.py (PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError

from clinic.models import CLIENTS_LOCK_SQL, Client, clients_lock


def test_the_lock_statement_names_the_client_table_and_its_key():
    table, key = Client._meta.db_table, Client._meta.pk.column
    assert f'FROM "{table}" WHERE "{key}" = ANY(%s) ORDER BY "{key}"' in CLIENTS_LOCK_SQL
    assert CLIENTS_LOCK_SQL.endswith("FOR NO KEY UPDATE")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(not connection.features.has_select_for_update, reason="row locks: PostgreSQL")
def test_the_lock_is_refused_outside_a_transaction_where_it_would_hold_nothing(world):
    with pytest.raises(TransactionManagementError):
        clients_lock([world.client_record.pk])
    with transaction.atomic():
        clients_lock([world.client_record.pk])
