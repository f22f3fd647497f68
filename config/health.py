"""Health endpoints for load balancers and process managers.

- `/healthz/`: the process is up and serving (no query, nothing else checked).
- `/readyz/`: this server can do its work: the database answers, Redis answers (when
  configured), and every migration this code knows is applied. A server that is up but not
  ready (a migration still to run, the database or Redis unreachable) is taken out of rotation
  by the balancer without being restarted.

Both are open without login, touch no session, and answer only "ok" or "not ready": no version,
host name, error text or timing. What failed is logged on the server by component name.
Readiness costs one `SELECT 1` and one Redis PING; the migration plan is read from disk until
it is first found empty in this process, then trusted (a running process's code does not
change, and migrations are applied before a release starts serving).
"""

from __future__ import annotations

import logging
from functools import cache

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger("selfkind.health")

REDIS_TIMEOUT_SECONDS = 1.0
_migrated: set[str] = set()  # database aliases found fully migrated by this process


def _answer(ready: bool) -> HttpResponse:
    return HttpResponse(
        b"ok\n" if ready else b"not ready\n",
        status=200 if ready else 503,
        content_type="text/plain; charset=utf-8",
    )


@login_not_required
@never_cache
@require_safe
def healthz(request):
    """The process is up: answered without touching the database, Redis or a session."""
    return _answer(True)


@cache
def _redis():
    import redis

    return redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )


def _database_ready(alias: str = DEFAULT_DB_ALIAS) -> bool:
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    if alias not in _migrated:
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            return False
        _migrated.add(alias)
    return True


def readiness() -> list[str]:
    """The components that are not ready (empty when all are)."""
    failing = []
    try:
        if not _database_ready():
            failing.append("migrations")
    except Exception as error:  # any failure to reach the database means "not ready"
        logger.warning("not ready: database (%s)", type(error).__name__)
        failing.append("database")
    if settings.REDIS_URL:
        try:
            _redis().ping()
        except Exception as error:
            logger.warning("not ready: redis (%s)", type(error).__name__)
            failing.append("redis")
    if "migrations" in failing:
        logger.warning("not ready: migrations not applied")
    return failing


@login_not_required
@never_cache
@require_safe
def readyz(request):
    """Ready for traffic: the database and Redis answer and no migration is unapplied."""
    return _answer(not readiness())
