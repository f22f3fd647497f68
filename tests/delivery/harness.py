"""A real task consumer (`manage.py run_huey`) in its own process, for end-to-end tests.

It shares the test's database (a file on SQLite, see tests/conftest.py; the test database on
PostgreSQL) and a queue of its own (a SQLite file in the test's temporary folder), and sends to
the test's SMTP server (tests/mailserver.py). Tests using it commit their writes
(`django_db(transaction=True)`), or the consumer could not see them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

# A consumer killed while sending holds its rows this long; the restarted one sends them then.
LEASE_SECONDS = 2
WORKERS = 2


def database_url() -> str:
    """The test database, as DATABASE_URL for another process."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "")
    if db["PASSWORD"]:
        credentials += f":{quote(db['PASSWORD'])}"
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{credentials}@{host}/{db['NAME']}"


class Consumer:
    def __init__(self, *, queue_file: Path, smtp_port: int, log: Path) -> None:
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SELFKIND_ENV": "development",
            "DATABASE_URL": database_url(),
            "HUEY_SQLITE_FILE": str(queue_file),
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "EMAIL_USE_TLS": "false",
            "EMAIL_USE_SSL": "false",
            "SELFKIND_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
        }
        self.env.pop("REDIS_URL", None)
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    str(settings.BASE_DIR / "manage.py"),
                    "run_huey",
                    "--workers",
                    str(WORKERS),
                ],
                cwd=settings.BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is finished or cleaned up."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """The graceful stop (SIGINT): running tasks finish, then the consumer exits."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def output(self) -> str:
        return self.log.read_text()


def every_email_sent() -> bool:
    """For wait_until: the consumer has marked every outbox row sent."""
    from clinic.models import EmailStatus, OutboxEmail

    return set(OutboxEmail.objects.values_list("status", flat=True)) == {EmailStatus.SENT}


@pytest.fixture
def shared_queue(tmp_path):
    """The test process enqueues into the same SQLite queue file the consumer reads."""
    from huey.contrib.djhuey import HUEY

    queue_file = tmp_path / "queue.sqlite3"
    saved = HUEY.storage_kwargs
    HUEY.storage_kwargs = {**saved, "filename": str(queue_file)}
    HUEY.immediate = False  # makes the storage anew from storage_kwargs
    try:
        yield queue_file
    finally:
        HUEY.storage_kwargs = saved
        HUEY.immediate = True
