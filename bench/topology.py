"""Prove the production layout: two app servers behind HAProxy, shared Redis, two consumers.

    .venv/bin/python bench/topology.py [--load-seconds 60] [--users 50] [--keep]

Starts the layout of deploy/up with its own run directory (var/topology-check), a fresh
PostgreSQL database (selfkind_topo), Redis database /6 and ports (balancer https 18443, app
servers 18101 and 18102), and this script's own SMTP server on loopback, which counts what it
accepts by Message-ID. Everything is on loopback; every loop is bounded. Then, through the
balancer (TLS), with requests pinned to one server by the layout's x-selfkind-pin header where
the check needs it (the answer's x-selfkind-server header says which server answered):

1. Read your writes: a client posts an entry through one server, a clinician reads the client's
   log through the other, alternately, 20 times: every entry is there on the next read.
2. The 30th baseline: a clinic with 29 SCS baselines; a clinician enters the 30th through web1;
   on web2 the next read of another client's results shows the clinic's own SD and a verdict
   instead of "not enough data" (projections kept on write, no cache).
3. Accounts across servers: a sign-in on web1 is valid on web2; five failed passwords on web1
   lock the login on web2 (django-axes' database handler); signing out on web1 ends the
   session on web2.
4. Bounded load: --users sessions (clinicians on their dashboard, clients on their log), each
   of the --users connections pausing 1-3 s between pages as a reader does, for --load-seconds
   through the balancer (wrk): error rate, p50 and p95, against the same with web2 disabled in
   the balancer (the single-server figure), in interleaved slices of about 15 s.
5. A web server killed: 8 writers post entries through the balancer; web1 is SIGKILLed (its
   whole process group) mid-load. The balancer marks it down on the first refused connection
   and sends everything to web2. A 503 (the balancer reached no server) is sent again; a 502
   (web1 died while answering) is not, since it may have been stored, and is looked up.
   Counted: writes acknowledged, answers lost at the kill, acknowledged writes missing from the
   database (must be 0), writes stored twice (must be 0).
6. A consumer stopped: 200 emails queued in one transaction; consumer1 is SIGKILLed once the
   SMTP server has 30, and restarted 2 s later (as systemd's Restart=always would); then the
   same with SIGINT (a graceful stop, as systemd and deploy/down send). Counted: emails never
   received (must be 0) and copies (same Message-ID twice: possible only for an email the
   server accepted just before a hard kill, never after a graceful stop; docs/deployment.md).
7. Backups: deploy/backup while a client keeps writing through the balancer, then
   deploy/restore-check: row counts and checksums of every table equal to the dump's manifest
   (taken in the dump's own snapshot), and refresh_dashboard finds every projection right.

Prints each check's figures and a summary table; exits 1 if any check fails. The layout is
stopped and its database dropped at the end (--keep leaves it running). HAProxy (Debian's
package), openssl, wrk and PostgreSQL and Redis on loopback are needed; see docs/operations.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dashboard_bench import (  # noqa: E402 - the dashboard's latency script and percentiles
    WRK_SCRIPT,
    Page,
)
from outbox_kill_bench import (  # noqa: E402 - the counting SMTP server, the batch
    Counting,
    free_port,
    queue_invitations,
)

RUN = ROOT / "var" / "topology-check"
LAYOUT = {
    "SELFKIND_RUN_DIR": str(RUN),
    "SELFKIND_TOPOLOGY_DB": "selfkind_topo",
    "SELFKIND_TOPOLOGY_REDIS": "redis://127.0.0.1:6379/6",
    "SELFKIND_LB_PORT": "18443",
    "SELFKIND_LB_HTTP_PORT": "18080",
    "SELFKIND_WEB1_PORT": "18101",
    "SELFKIND_WEB2_PORT": "18102",
    # A dead consumer's emails are sent again this soon (production: 600 s).
    "SELFKIND_OUTBOX_LEASE_SECONDS": "5",
    "EMAIL_USE_TLS": "false",
    "LOG_LEVEL": "WARNING",
}
PORT = int(LAYOUT["SELFKIND_LB_PORT"])
HOST = f"localhost:{PORT}"
PASSWORD = "topology-check-passphrase"  # noqa: S105 - a throwaway login of a throwaway database
SCS_ITEMS = 26


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- The layout ------------------------------------------------------------------------------


def layout_env() -> dict:
    return {**os.environ, **LAYOUT}


def deploy(*args: str, check: bool = True) -> None:
    subprocess.run([str(ROOT / "deploy" / args[0]), *args[1:]], env=layout_env(), check=check)


def kill_group(name: str) -> None:
    """SIGKILL a process of the layout and all its children (its process group)."""
    pid = int((RUN / f"{name}.pid").read_text())
    os.killpg(pid, signal.SIGKILL)


def balancer(command: str) -> str:
    """One command to HAProxy's runtime API (its stats socket)."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(RUN / "haproxy.sock"))
        sock.sendall(command.encode() + b"\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode()


def server_up(name: str) -> bool:
    """Whether HAProxy counts the server as up (srv_op_state 2) and not in maintenance."""
    for line in balancer("show servers state web").splitlines():
        fields = line.split()
        if len(fields) > 6 and fields[3] == name:
            return fields[5] == "2" and fields[6] == "0"
    return False


def wait_until(condition, seconds: float, what: str) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > seconds:
            raise SystemExit(f"gave up after {seconds:g} s waiting for {what}")
        time.sleep(0.05)
    return time.monotonic() - started


# --- A browser of one person ----------------------------------------------------------------


class Browser:
    """Cookies, CSRF and a pinned server, over HTTPS through the balancer (one connection per
    request, so a dead server never holds a kept-alive connection of ours)."""

    def __init__(self, cafile: Path):
        self.context = ssl.create_default_context(cafile=str(cafile))
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None, pin: str | None = None):
        headers = {"Host": HOST}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if pin:
            headers["x-selfkind-pin"] = pin
        body = None
        if form is not None:
            form = {**form, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"https://{HOST}"
        connection = http.client.HTTPSConnection(
            "localhost", PORT, context=self.context, timeout=30
        )
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        for header in response.msg.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return (
            response.status,
            response.getheader("Location") or "",
            content,
            (response.getheader("x-selfkind-server") or ""),
        )

    def get(self, path: str, pin: str | None = None):
        return self.request("GET", path, pin=pin)

    def post(self, path: str, form: dict, pin: str | None = None):
        if "csrftoken" not in self.cookies:
            self.get("/login/", pin=pin)
        return self.request("POST", path, form, pin=pin)

    def login(self, username: str, password: str = PASSWORD, pin: str | None = None):
        self.get("/login/", pin=pin)
        return self.post("/login/", {"username": username, "password": password}, pin=pin)


# --- Data ------------------------------------------------------------------------------------


def scs_answers(level: int) -> dict:
    """SCS answers around `level` (1-5): positive items at the level, negative ones reversed."""
    from assessments.instruments import HIGHER_IS_WORSE, get_instrument

    instrument = get_instrument("scs")
    negative = {n for s in instrument.subscales if s.direction == HIGHER_IS_WORSE for n in s.items}
    return {n: (6 - level if n in negative else level) for n in range(1, SCS_ITEMS + 1)}


def make_clinic() -> dict:
    """A clinic without required second factors: 10 clinicians with 3 clients each, every client
    with a portal login; 29 clients with a baseline SCS, one of them (`followed`) with a second
    SCS far from its first; `newcomer` without one; two spare staff logins."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from assessments.instruments import get_instrument
    from assessments.services import administration_create
    from clinic.models import Client, Organisation, Role, User

    password = make_password(PASSWORD)
    scs = get_instrument("scs")
    with transaction.atomic():
        clinic = Organisation.objects.create(
            name="Topology Clinic",
            slug="topology",
            time_zone="Europe/London",
            two_factor_required=False,
        )

        def user(username, role):
            return User.objects.create(
                username=username,
                organisation=clinic,
                role=role,
                password=password,
                email=f"{username}@example.org",
            )

        clinicians = [user(f"topo-clinician-{n:02}", Role.CLINICIAN) for n in range(10)]
        spare = {name: user(name, Role.CLINICIAN) for name in ("topo-roaming", "topo-locked")}
        today = clinic.today()
        clients = []
        for n in range(30):
            clients.append(
                Client.objects.create(
                    organisation=clinic,
                    code=f"TOPO-{n:03}",
                    display_name=f"Topology {n}",
                    intake_date=today - dt.timedelta(days=120),
                    primary_clinician=clinicians[n % 10],
                    user=user(f"topo-client-{n:02}", Role.CLIENT),
                )
            )
    for n, client in enumerate(clients[:29]):
        administration_create(
            client=client,
            instrument=scs,
            answers=scs_answers(1 + n % 5),
            administered_on=today - dt.timedelta(days=60),
            mode="paper",
            entered_by=client.primary_clinician,
            wording_used="paper form",
        )
    followed = clients[0]  # its baseline is at level 1: the second score is far above it
    later = administration_create(
        client=followed,
        instrument=scs,
        answers=scs_answers(5),
        administered_on=today - dt.timedelta(days=10),
        mode="paper",
        entered_by=followed.primary_clinician,
        wording_used="paper form",
    )
    return {
        "clinic": clinic,
        "clinicians": clinicians,
        "clients": clients,
        "spare": spare,
        "followed": followed,
        "followed_results": later.pk,
        "newcomer": clients[29],
    }


def session_cookie(user) -> str:
    """A signed-in session for `user`, saved in the database like a real sign-in's."""
    from django.conf import settings
    from django.test import Client as HttpClient

    browser = HttpClient()
    browser.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return browser.cookies[settings.SESSION_COOKIE_NAME].value


def local_now(clinic) -> str:
    return (dt.datetime.now(clinic.tz) - dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")


# --- The checks ------------------------------------------------------------------------------


class Results:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, bool]] = []

    def add(self, name: str, figures: str, ok: bool) -> None:
        self.rows.append((name, figures, ok))
        log(f"{'PASS' if ok else 'FAIL'} {name}: {figures}")

    def failed(self) -> bool:
        return not all(ok for _, _, ok in self.rows)


def read_your_writes(data, cafile, results: Results, rounds: int = 20) -> None:
    client, clinician = data["followed"], data["followed"].primary_clinician
    writer, reader = Browser(cafile), Browser(cafile)
    assert writer.login(client.user.username, pin="web1")[0] == 302
    assert reader.login(clinician.username, pin="web2")[0] == 302
    seen = answered_as_pinned = 0
    for n in range(rounds):
        write_on, read_on = ("web1", "web2") if n % 2 == 0 else ("web2", "web1")
        text = f"read-your-writes {n} {time.monotonic_ns()}"
        status, _, _, server = writer.post(
            "/tracking/me/",
            {"critic_text": text, "intensity": "5", "occurred_at": local_now(data["clinic"])},
            pin=write_on,
        )
        answered_as_pinned += server == write_on and status == 302
        status, _, page, server = reader.get(f"/tracking/clients/{client.pk}/", pin=read_on)
        answered_as_pinned += server == read_on
        seen += status == 200 and text in page
    results.add(
        "read your writes",
        f"{seen}/{rounds} writes seen on the next read through the other server "
        f"({answered_as_pinned}/{2 * rounds} answers from the pinned server)",
        seen == rounds and answered_as_pinned == 2 * rounds,
    )


def thirtieth_baseline(data, cafile, results: Results) -> None:
    newcomer, followed = data["newcomer"], data["followed"]
    results_page = f"/assessments/{data['followed_results']}/"
    reader = Browser(cafile)
    assert reader.login(followed.primary_clinician.username, pin="web2")[0] == 302
    before = reader.get(results_page, pin="web2")[2]
    entering = Browser(cafile)
    assert entering.login(newcomer.primary_clinician.username, pin="web1")[0] == 302
    form = {f"item_{n}": str(a) for n, a in scs_answers(3).items()}
    form.update(administered_on=dt.date.today().isoformat(), mode="paper")
    started = time.perf_counter()
    status, _, _, server = entering.post(
        f"/assessments/clients/{newcomer.pk}/enter/scs/", form, pin="web1"
    )
    after = reader.get(results_page, pin="web2")[2]
    took = time.perf_counter() - started
    was_waiting = "29 of 30 clients with a baseline" in before
    now_own_sd = "baseline SD (30 clients)" in after and "improved" in after
    results.add(
        "30th baseline through web1, verdict on web2",
        f"before: {'not enough data (29 of 30)' if was_waiting else 'unexpected'}; "
        f"entered on {server} ({status}); next read on web2 "
        f"{'shows the clinic SD (30 clients) and improved' if now_own_sd else 'unchanged'} "
        f"({took * 1000:.0f} ms for both requests)",
        was_waiting and status == 302 and server == "web1" and now_own_sd,
    )


def accounts(data, cafile, results: Results) -> None:
    roaming = data["spare"]["topo-roaming"].username
    person = Browser(cafile)
    signed_in = person.login(roaming, pin="web1")[0] == 302
    valid_on_b = person.get("/floor/", pin="web2")[0] == 200
    results.add(
        "sign-in on web1 valid on web2",
        f"sign-in {'ok' if signed_in else 'failed'}; web2 "
        f"{'serves the session' if valid_on_b else 'does not know it'}",
        signed_in and valid_on_b,
    )
    locked = data["spare"]["topo-locked"].username
    attacker = Browser(cafile)
    failures = [attacker.login(locked, "wrong-password-xx", pin="web1")[0] for _ in range(5)]
    owner = Browser(cafile)
    status, location, _, server = owner.login(locked, pin="web2")
    held = status != 302 and server == "web2"
    results.add(
        "lockout on web1 holds on web2",
        f"5 failures on web1 ({Counter(failures)}); the right password on web2 answered "
        f"{status}{' (locked)' if held else ' ' + location}",
        held,
    )
    person.post("/logout/", {}, pin="web1")
    status, location, _, _ = person.get("/floor/", pin="web2")
    ended = status == 302 and location.startswith("/login/")
    results.add(
        "sign-out on web1 ends the session on web2",
        f"web2 then answered {status} {location}",
        ended,
    )


# People read a page, then think: each connection waits 1-3 s (2 s on average) before its
# next request, so 50 users ask for about 25 pages a second.
THINK_MS = (1000, 3000)
LOAD_REQUESTS = """
-- Each request the next user's page, with that user's session, after a pause to read.
local targets = TARGETS
local turn = 0
function request()
  turn = turn % #targets + 1
  local target = targets[turn]
  return wrk.format("GET", target[1], {["Cookie"] = "sessionid=" .. target[2]})
end
function delay() return math.random(THINK_MIN, THINK_MAX) end
"""


def wrk_run(targets, seconds: float, connections: int, page: Page | None = None) -> None:
    """One wrk run of the users' pages through the balancer; its requests, errors and latency
    quantiles are added to `page` (a warm-up passes none)."""
    lua_targets = "{" + ",".join(f'{{"{p}","{c}"}}' for p, c in targets) + "}"
    requests = LOAD_REQUESTS.replace("TARGETS", lua_targets)
    requests = requests.replace("THINK_MIN", str(THINK_MS[0])).replace(
        "THINK_MAX", str(THINK_MS[1])
    )
    script = WRK_SCRIPT.replace("EXPECTED_STATUS", "200") + requests
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        run = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{seconds:g}s",
                "--timeout=30s",
                f"--script={handle.name}",
                f"https://{HOST}/",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=seconds + 120,
        )
    finally:
        os.unlink(handle.name)
    match = re.search(r"SELFKIND-WRK (.*)", run.stdout)
    quantiles = re.search(r"SELFKIND-QUANTILES (.*)", run.stdout)
    if run.returncode or match is None or quantiles is None:
        raise SystemExit(f"wrk failed ({run.returncode}):\n{run.stdout}{run.stderr}")
    figures = {k: int(v) for k, v in (item.split("=") for item in match.group(1).split())}
    if page is not None:
        page.rounds.append(
            {
                "requests": figures["requests"],
                "errors": figures["not_ok"] + figures["errors"],
                "seconds": figures["duration"] / 1e6,
            }
        )
        bands = [int(us) for us in quantiles.group(1).split()]
        page.samples += [(us, figures["requests"] / len(bands)) for us in bands]


def bounded_load(data, users: int, seconds: float, results: Results) -> dict:
    """The same users with two servers and with one (web2 disabled in the balancer), in
    interleaved slices of about 15 s (at least two each), so that the machine's background
    load, which comes and goes, falls on both alike; percentiles over all requests pooled."""
    people = []
    for n in range(users):  # alternately a clinician on their dashboard, a client on their log
        if n % 2 == 0:
            people.append(("/dashboard/", data["clinicians"][(n // 2) % 10]))
        else:
            people.append(("/tracking/me/", data["clients"][(n // 2) % 30].user))
    targets = [(path, session_cookie(user)) for path, user in people]
    wrk_run(targets, min(5, seconds), users)  # warm-up: connections, workers' first requests
    rounds = max(2, round(seconds / 15))
    both = Page("two servers", "", "", None)
    one = Page("one server (web2 disabled)", "", "", None)
    for _ in range(rounds):
        wrk_run(targets, seconds / rounds, users, both)
        balancer("disable server web/web2")
        try:
            wrk_run(targets, seconds / rounds, users, one)
        finally:
            balancer("enable server web/web2")
            wait_until(lambda: server_up("web2"), 30, "web2 back in rotation")
    figures = {}
    for page in (both, one):
        requests = page.requests
        errors = sum(r["errors"] for r in page.rounds)
        per_second = requests / sum(r["seconds"] for r in page.rounds)
        figures[page.name] = {
            "requests": requests,
            "errors": errors,
            "p50_ms": page.p50,
            "p95_ms": page.p95,
            "per_second": per_second,
        }
        results.add(
            f"load, {users} users x {seconds:g} s, {page.name}",
            f"{requests} requests, {errors} errors, p50 {page.p50:.1f} ms, "
            f"p95 {page.p95:.1f} ms, {per_second:.0f}/s ({rounds} slices)",
            errors == 0 and requests > 0,
        )
    return {"two_servers": figures[both.name], "one_server": figures[one.name]}


def web_server_killed(data, cafile, results: Results, seconds: float = 10.0) -> dict:
    from tracking.models import InnerCriticEntry

    writers = data["clients"][1:9]  # eight clients, each posting to their own log
    acknowledged: list[str] = []
    unknown: list[str] = []  # no answer: the request died with web1
    answers = Counter()  # every answer but a success
    lock = threading.Lock()
    stop = threading.Event()
    occurred_at = local_now(data["clinic"])

    browsers = []
    for client in writers:  # signed in beforehand: a sign-in hashes a password, slowly
        browser = Browser(cafile)
        browser.cookies["sessionid"] = session_cookie(client.user)
        assert browser.get("/tracking/me/")[0] == 200  # and the form's CSRF cookie
        browsers.append(browser)

    def writer(number: int) -> None:
        browser = browsers[number]
        n = 0
        while not stop.is_set():
            text = f"kill-test {number}-{n}"
            n += 1
            for _ in range(5):
                try:
                    status, location, _, _ = browser.post(
                        "/tracking/me/",
                        {"critic_text": text, "intensity": "4", "occurred_at": occurred_at},
                    )
                except (OSError, http.client.HTTPException) as error:
                    status, location = type(error).__name__, ""
                with lock:
                    if status == 302 and location.startswith("/tracking/me/entries/"):
                        acknowledged.append(text)
                        break
                    answers[str(status)] += 1
                    if status != 503:
                        # The server may have received it (502: it died while answering):
                        # sending it again could store it twice. Left unknown, looked up below.
                        unknown.append(text)
                        break
                # 503: the balancer reached no server (refused), so nothing was stored: again.
                time.sleep(0.2)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(len(writers))]
    for thread in threads:
        thread.start()
    time.sleep(seconds / 3)
    wait_until(lambda: len(acknowledged) >= 3 * len(writers), 60, "the writers to be writing")
    with lock:
        before_kill = len(acknowledged)
    killed_at = time.monotonic()
    kill_group("web1")
    marked_down = wait_until(lambda: not server_up("web1"), 30, "HAProxy to mark web1 down")
    time.sleep(max(0.0, seconds * 2 / 3 - (time.monotonic() - killed_at)))
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    deploy("up", "web1")
    back = wait_until(lambda: server_up("web1"), 60, "web1 back in rotation")
    stored = Counter(
        InnerCriticEntry.objects.filter(
            client__in=writers, critic_text__startswith="kill-test"
        ).values_list("critic_text", flat=True)
    )
    missing = [t for t in acknowledged if not stored[t]]
    copies = sum(c - 1 for c in stored.values() if c > 1)
    unknown_stored = sum(1 for t in unknown if stored[t])
    results.add(
        "web1 killed mid-load, writes through the balancer",
        f"{len(acknowledged)} writes acknowledged ({before_kill} before the kill); other "
        f"answers {dict(answers) or 'none'} (503: no server reached, sent again; 502: "
        f"web1 died while answering, not sent again); {len(unknown)} without an answer, of "
        f"which {unknown_stored} had been stored; web1 out of rotation {marked_down:.1f} s "
        f"after the kill, back {back:.1f} s after its restart; acknowledged but missing "
        f"{len(missing)}; stored twice {copies}",
        not missing and not copies and len(acknowledged) > before_kill,
    )
    return {
        "acknowledged": len(acknowledged),
        "answers": dict(answers),
        "unknown": len(unknown),
        "unknown_stored": unknown_stored,
        "missing": len(missing),
        "copies": copies,
        "down_after_s": round(marked_down, 2),
    }


def consumer_stopped(
    data, inbox: Counting, results: Results, graceful: bool, emails: int = 200
) -> dict:
    """Stop consumer1 mid-batch, hard (SIGKILL to its process group) or as systemd and
    deploy/down do (SIGINT: the email being sent finishes), and start it again 2 s later."""
    from clinic.mail import message_id
    from clinic.models import EmailStatus, OutboxEmail

    started = time.monotonic()
    keys = queue_invitations(
        f"topology-{time.monotonic_ns()}",
        emails,
        link=f"https://{HOST}/t/invite/x/",
        organisation=data["clinic"],
    )
    expected = {message_id(key) for key in keys}
    wait_until(lambda: sum(1 for i in expected if inbox.ids.get(i)) >= 30, 120, "30 emails")
    if graceful:
        in_flight = OutboxEmail.objects.filter(key__in=keys, status=EmailStatus.SENDING).count()
        deploy("down", "consumer1")
    else:
        kill_group("consumer1")
        in_flight = OutboxEmail.objects.filter(key__in=keys, status=EmailStatus.SENDING).count()
    time.sleep(2)  # systemd's RestartSec, shortened
    deploy("up", "consumer1")
    wait_until(
        lambda: (
            not OutboxEmail.objects.filter(key__in=keys).exclude(status=EmailStatus.SENT).exists()
        ),
        180,
        "every email marked sent",
    )
    took = time.monotonic() - started
    missing = sum(1 for i in expected if not inbox.ids.get(i))
    copies = sum(inbox.ids[i] - 1 for i in expected if inbox.ids.get(i))
    how = "stopped (SIGINT, graceful)" if graceful else "killed (SIGKILL)"
    results.add(
        f"consumer1 {how} mid-batch, restarted",
        f"{emails} emails: {emails - missing} received, {missing} never received, {copies} "
        f"copies (same Message-ID); {in_flight} being sent at the stop; all sent in "
        f"{took:.1f} s",
        # A copy is possible only of an email whose server said "250" just before a hard
        # kill, and it carries the same Message-ID; a graceful stop lets that email finish.
        missing == 0 and (copies == 0 if graceful else copies <= in_flight),
    )
    return {"emails": emails, "missing": missing, "copies": copies, "in_flight": in_flight}


def backup_restores(data, cafile, results: Results) -> dict:
    """deploy/backup while a client keeps writing through the balancer, then
    deploy/restore-check: the restored copy against the dump's manifest, and its projections."""
    client = data["clients"][9]
    browser = Browser(cafile)
    browser.cookies["sessionid"] = session_cookie(client.user)
    browser.get("/tracking/me/")
    stop = threading.Event()
    written = Counter()

    def keep_writing() -> None:
        n = 0
        while not stop.is_set():
            status = browser.post(
                "/tracking/me/",
                {
                    "critic_text": f"backup {n}",
                    "intensity": "3",
                    "occurred_at": local_now(data["clinic"]),
                },
            )[0]
            written[status] += 1
            n += 1

    env = {**layout_env(), "SELFKIND_BACKUP_DIR": str(RUN / "backups")}
    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        started = time.monotonic()
        backup = subprocess.run(
            [str(ROOT / "deploy" / "backup")], env=env, capture_output=True, text=True, check=False
        )
        backup_s = time.monotonic() - started
    finally:
        stop.set()
        writer.join(timeout=60)
    started = time.monotonic()
    check = subprocess.run(
        [str(ROOT / "deploy" / "restore-check"), "--scratch", "selfkind_topo_restore"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    check_s = time.monotonic() - started
    summary = re.search(r"restore-check: .* restored into .*", check.stdout)
    results.add(
        "backup during writes, restore-check",
        f"dump in {backup_s:.1f} s while {sum(written.values())} writes went on "
        f"({dict(written)}); {summary.group(0).split(': ', 1)[1] if summary else check.stdout}; "
        f"projections {'match' if check.returncode == 0 else 'DIFFER'} ({check_s:.1f} s)",
        backup.returncode == 0 and check.returncode == 0,
    )
    if backup.returncode or check.returncode:
        log(backup.stdout + backup.stderr + check.stdout + check.stderr)
    return {"backup_s": round(backup_s, 1), "restore_check_s": round(check_s, 1)}


# --- Main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--load-seconds", type=float, default=60)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="leave the layout running")
    parser.add_argument("--json", metavar="OUT.json", help="also write the figures here")
    options = parser.parse_args()
    if not 1 <= options.load_seconds <= 300 or not 2 <= options.users <= 200:
        parser.error("--load-seconds must be 1-300 and --users 2-200")

    started = time.monotonic()
    inbox = Counting()
    smtp_port = free_port()
    from aiosmtpd.controller import Controller

    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    LAYOUT.update(EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(smtp_port))
    deploy("down", "--purge", check=False)  # a fresh layout: database, Redis, run directory
    log("starting the layout (deploy/up)")
    up_started = time.monotonic()
    deploy("up")
    up_seconds = time.monotonic() - up_started

    # This process uses the layout's settings too (its sessions are the servers' sessions).
    for line in (RUN / "env").read_text().splitlines():
        name, _, value = line.partition("=")
        os.environ[name] = value.strip("'")
    import django

    django.setup()
    cafile = RUN / "tls" / "selfkind.crt"
    results = Results()
    figures: dict = {"up_seconds": round(up_seconds, 1)}
    try:
        for server in ("web1", "web2"):
            wait_until(lambda s=server: server_up(s), 30, f"{server} in rotation")
        data = make_clinic()
        read_your_writes(data, cafile, results)
        thirtieth_baseline(data, cafile, results)
        accounts(data, cafile, results)
        figures["load"] = bounded_load(data, options.users, options.load_seconds, results)
        figures["web_kill"] = web_server_killed(data, cafile, results)
        figures["consumer_kill"] = consumer_stopped(data, inbox, results, graceful=False)
        figures["consumer_stop"] = consumer_stopped(data, inbox, results, graceful=True)
        figures["backup"] = backup_restores(data, cafile, results)
    finally:
        from django.db import connections

        connections.close_all()
        controller.stop()
        # Every change of a server's state, as the balancer logged it (e.g. for a failed run).
        balancer_log = RUN / "logs" / "balancer.log"
        if balancer_log.exists():
            for line in balancer_log.read_text(errors="replace").splitlines():
                if line.startswith("Server web/"):
                    log(f"balancer: {line}")
        if not options.keep:
            deploy("down", "--purge", check=False)

    total = time.monotonic() - started
    load_average = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\nTopology check, {dt.date.today().isoformat()}: HAProxy (TLS) in front of 2 gunicorn "
        f"servers (2 sync workers each, production settings), PostgreSQL, Redis, 2 consumers; "
        f"layout up in {up_seconds:.0f} s, whole check {total:.0f} s; {os.cpu_count()} cores, "
        f"load average {load_average}\n"
    )
    print("| check | figures | result |")
    print("| --- | --- | --- |")
    for name, text, ok in results.rows:
        print(f"| {name} | {text} | {'pass' if ok else 'FAIL'} |")
    load = figures.get("load")
    if load:
        both, one = load["two_servers"], load["one_server"]
        print(
            f"\nLoad through the balancer: two servers p50 {both['p50_ms']:.1f} ms / p95 "
            f"{both['p95_ms']:.1f} ms, one server p50 {one['p50_ms']:.1f} ms / p95 "
            f"{one['p95_ms']:.1f} ms (two / one: p50 {both['p50_ms'] / one['p50_ms']:.2f}x, "
            f"p95 {both['p95_ms'] / one['p95_ms']:.2f}x)"
        )
    if options.json:
        figures.update(rows=results.rows, total_seconds=round(total, 1))
        Path(options.json).parent.mkdir(parents=True, exist_ok=True)
        Path(options.json).write_text(json.dumps(figures, indent=2, default=str) + "\n")
    sys.exit(1 if results.failed() else 0)


if __name__ == "__main__":
    main()
