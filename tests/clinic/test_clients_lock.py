"""clients_lock's statement is written out (clinic.models.CLIENTS_LOCK_SQL); the waits it
causes are in tests/tracking/test_rollups_concurrent.py (PostgreSQL)."""

from __future__ import annotations

from clinic.models import CLIENTS_LOCK_SQL, Client


def test_the_lock_statement_names_the_client_table_and_its_key():
    table, key = Client._meta.db_table, Client._meta.pk.column
    assert f'FROM "{table}" WHERE "{key}" = ANY(%s) ORDER BY "{key}"' in CLIENTS_LOCK_SQL
    assert CLIENTS_LOCK_SQL.endswith("FOR NO KEY UPDATE")
