"""Tests of data migrations: move the test database's schema to given migrations and back."""

from __future__ import annotations

import contextlib

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(targets):
    """Migrate to `targets` ([(app, migration name)]); the historical models there."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@contextlib.contextmanager
def schema_at(targets):
    """The schema as it was at `targets` (its historical models); back to the latest
    afterwards, whatever the test did."""
    apps = migrate(targets)
    try:
        yield apps
    finally:
        migrate(latest())
