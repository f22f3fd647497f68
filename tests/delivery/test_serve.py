"""`make run` serves the site and runs the task consumer as one command; Ctrl+C stops both."""

import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from django.conf import settings

from tests.delivery.harness import database_url
from tests.mailserver import free_port, wait_until

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WAIT = 60  # seconds: a bound on waiting on a loaded machine, never a measurement


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_serve_runs_web_and_consumer_and_one_interrupt_stops_both(tmp_path):
    port = free_port()
    log = tmp_path / "serve.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "HUEY_SQLITE_FILE": str(tmp_path / "queue.sqlite3"),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("REDIS_URL", None)
    with log.open("w") as out:
        serve = subprocess.Popen(
            [sys.executable, str(settings.BASE_DIR / "manage.py"), "serve", f"127.0.0.1:{port}"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(
            lambda: answers(f"http://127.0.0.1:{port}/login/"), seconds=WAIT, what="the site"
        )
        wait_until(
            lambda: "Huey consumer started" in log.read_text(), seconds=WAIT, what="the consumer"
        )
        children = [int(pid) for pid in re.findall(r"started \(pid (\d+)\)", log.read_text())]
        assert len(children) == 2

        serve.send_signal(signal.SIGINT)  # what Ctrl+C sends
        assert serve.wait(timeout=WAIT) == 0, log.read_text()
    finally:
        if serve.poll() is None:
            serve.kill()
    assert not any(alive(pid) for pid in children), log.read_text()
    assert not answers(f"http://127.0.0.1:{port}/login/")
    assert "serve: stopped" in log.read_text()
