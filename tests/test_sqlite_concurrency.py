"""The embedded default (SQLite) under concurrent use: a client posts inner-critic entries while
clinicians read the dashboard, through a real gunicorn with two workers on a real database file.

Found before the projections work: a GET that rebuilt summaries took the write lock, and a post
landing at the same moment answered 500 "database is locked" and lost the entry. Now reads never
write, and WAL, a busy timeout and IMMEDIATE transactions let writers queue instead of failing.
"""

from __future__ import annotations

import html
import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"
POSTS = 12  # by each writer
WRITERS = 2
READERS = 2

SETUP = f"""
import datetime as dt
from clinic.models import Client, Organisation, Role, User
org = Organisation.objects.create(name="Lock Clinic", slug="lock", time_zone="Europe/London",
                                  two_factor_required=False)
alex = User.objects.create_user("alex", password={PASSWORD!r}, organisation=org,
                                role=Role.CLINICIAN)
logins = [User.objects.create_user(f"client{{n}}", password={PASSWORD!r}, organisation=org,
                                   role=Role.CLIENT) for n in range({WRITERS})]
for n in range(40):
    Client.objects.create(organisation=org, code=f"LK-{{n:03d}}", display_name="Client",
                          intake_date=dt.date(2026, 1, 5), primary_clinician=alex,
                          user=logins[n] if n < len(logins) else None)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """A cookie-keeping HTTP client that logs in through the login form (CSRF included)."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            NoRedirect(),
        )

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, data: dict) -> tuple[int, str]:
        _, page = self.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": token}).encode()
        request = urllib.request.Request(
            self.base + path, data=body, headers={"Referer": self.base + path}
        )
        return self._open(request)

    def login(self, username: str) -> None:
        status, _ = self.post("/login/", {"username": username, "password": PASSWORD})
        assert status == 302, f"login of {username} answered {status}"

    def _open(self, request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, html.unescape(error.read().decode(errors="replace"))


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture
def server(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SELFKIND_ENV": "development",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    subprocess.run([*manage, "shell", "-v0", "-c", SETUP], env=env, cwd=ROOT, check=True)
    port = free_port()
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [
            str(gunicorn),
            "config.wsgi",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/login/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield base, env
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_entries_posted_while_clinicians_read_the_dashboard_are_all_stored(server):
    base, env = server
    statuses: list[int] = []
    reads: list[int] = []
    done = threading.Event()

    def read_dashboard():
        clinician = Browser(base)
        clinician.login("alex")
        while not done.is_set():
            reads.append(clinician.get("/dashboard/")[0])

    def write_entries(n: int):
        client = Browser(base)
        client.login(f"client{n}")
        for post in range(POSTS):
            when = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() - 3600))
            data = {"critic_text": f"Failed again ({post}).", "intensity": "6", "occurred_at": when}
            statuses.append(client.post("/tracking/me/", data)[0])

    readers = [threading.Thread(target=read_dashboard) for _ in range(READERS)]
    writers = [threading.Thread(target=write_entries, args=(n,)) for n in range(WRITERS)]
    for thread in readers + writers:
        thread.start()
    for writer in writers:
        writer.join()
    done.set()
    for reader in readers:
        reader.join()

    assert statuses == [302] * POSTS * WRITERS  # every post saved and redirected
    assert reads and set(reads) == {200}
    count = subprocess.run(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "shell",
            "-v0",
            "-c",
            "from tracking.models import InnerCriticEntry as E, ClientDay as D;"
            "print(E.objects.count(), sum(d.entries for d in D.objects.all()))",
        ],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    total = str(POSTS * WRITERS)
    assert count == [total, total]  # stored, and counted in the day rollup
