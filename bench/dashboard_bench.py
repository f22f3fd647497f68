"""Benchmark the pages of the projections issue over HTTP (gunicorn + wrk) against the floor.

Every request is a first view after a change, measured while clients keep logging: each GET
carries a query parameter unique to that request (nothing on the way could answer it from a
cache), and a background writer adds inner-critic entries across the clinic through the entry
service, so every projection keeps moving while pages are read.

What it does, in order:

1. Seeding. Creates the PostgreSQL database if it is missing, runs `manage.py migrate` (every
   time: cheap when up to date), then, unless the Benchmark Clinic already has the scale's size,
   `manage.py seed_demo` with the scale's flags (idempotent; it tops up what is missing and keeps
   every projection through the same bulk code the import uses). --check-projections then runs
   `manage.py refresh_dashboard`, which recomputes every projection from the raw rows and fails
   on any difference. Finally VACUUM (ANALYZE), so the planner statistics are those of a settled
   database, not of one just filled by COPY. Scales:

   - full:  10,000 clients, 200 clinicians, 200,000 SCS administrations asked for, 2,000,000
     inner-critic entries, 500,000 practice sessions (and 40 group programmes of 25);
   - tenth: a tenth of each (1,000 / 20 / 20,000 / 200,000 / 50,000; 4 programmes).

   Both give every clinician 50 primary clients, so the clinician's dashboard and the session
   brief see the same amount of data at both scales; the clinic admin sees 10x more clients.
   Two of the measured clinician's clients are topped up to 50,000 entries (the clinician's
   charts) and 5,000 entries with a portal login (the client's own charts and the entry POST).

2. Serving. `collectstatic` into var/bench-static, then gunicorn (config.wsgi, 2 sync workers,
   127.0.0.1 on a free port) with production settings (SELFKIND_ENV=production: DEBUG off,
   whitenoise, manifest static files, Redis as the shared cache, a throwaway secret key) and
   the HTTPS redirect off (DJANGO_SECURE_SSL_REDIRECT=false), so it runs on plain loopback HTTP.
   Its output, the production request log included, goes to var/bench-gunicorn.log.

3. Logins. Sessions are created in-process with Django's own session machinery (force_login,
   the same SECRET_KEY as gunicorn) for a Benchmark Clinic clinician with exactly 50 clients,
   all active, for the clinic admin `bench-admin` and for the portal client. The brief's
   client is that clinician's client with the most SCS administrations; the cohort's
   programme is the Benchmark Clinic programme with the most members.

4. Measuring, with the writer running (--churn entries a second, default 5; 0 for none). Every
   page must first answer as expected to a plain request (a redirect to the login page or an
   error stops the run). Then wrk, one thread and --connections 1: each page is warmed up for
   --warmup seconds with two connections, then measured for --duration seconds in each of
   --rounds rounds, the pages interleaved within each round. Many short slices (15 x 2 s by
   default) rather than a few long ones: on a shared machine the background load comes and goes
   within seconds, and short interleaved slices spread it over every page alike. wrk's Lua done()
   hook prints each slice's latency quantiles at every half percent; a page's p50 and p95 are
   taken from those, weighted by the slices' request counts, i.e. over all its requests pooled
   across the slices. Any non-200 answer fails the run; for the POST, any answer but a 302 to
   the saved entry's page (a lost session would answer a quick 302 to the sign-in page).

   Why one connection: the machine has 2 cores shared by wrk, both gunicorn workers, the writer
   and PostgreSQL. With one request in flight nothing queues, so a page's latency is its own
   service time and the ratio to the floor is a ratio of costs, not of queue lengths.
   --connections 2 (one per worker) is there for a look under load.

5. Reporting. A Markdown table (page, p50 ms, p95 ms, p50/floor, p95/floor, goal, verdict);
   --json writes the figures too. Goals (p50 as a multiple of the floor, `/floor/`, the
   login-required empty page): clinician dashboard 2.5x, admin dashboard page 1 4x, session
   brief, both chart pages, cohort and posting an entry 3x, whole-clinic dose-response 100x.
   --compare TENTH.json FULL.json prints full/tenth ratios against the 1.2x goal: the verdict
   uses p50 as a multiple of each run's own floor, which cancels drift in machine speed between
   the two runs; the raw ms ratio is shown too. When the two runs' floors differ by much, repeat
   the runs rather than trust either ratio.

--pages NAME=[clinician:|admin:|portal:]PATH ... adds or replaces pages ({client}, {programme},
{big} and {clinician} in PATH are filled in).

From the repository root, PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth), Redis at
127.0.0.1:6379:

    .venv/bin/python bench/dashboard_bench.py --scale tenth --seed-only --check-projections
    .venv/bin/python bench/dashboard_bench.py --scale full --seed-only --check-projections
    .venv/bin/python bench/dashboard_bench.py --scale tenth \\
        --json bench/results/dashboard-tenth.json
    .venv/bin/python bench/dashboard_bench.py --scale full \\
        --json bench/results/dashboard-full.json
    .venv/bin/python bench/dashboard_bench.py \\
        --compare bench/results/dashboard-tenth.json bench/results/dashboard-full.json

The databases are selfkind_bench_tenth and selfkind_bench_full unless --db says otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import platform
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
STATIC_ROOT = ROOT / "var" / "bench-static"
# gunicorn's output, the production request log included (one JSON line per request), goes here
# rather than between the run's progress lines.
SERVER_LOG = ROOT / "var" / "bench-gunicorn.log"
SCALE_GOAL = 1.2

SCALES = {
    "full": {
        "clients": 10_000,
        "clinicians": 200,
        "administrations": 200_000,
        "entries": 2_000_000,
        "practice": 500_000,
    },
    "tenth": {
        "clients": 1_000,
        "clinicians": 20,
        "administrations": 20_000,
        "entries": 200_000,
        "practice": 50_000,
    },
}
CASELOAD = 50  # the clinician whose dashboard is measured has this many clients

BIG_CLIENT_ENTRIES = 50_000  # the clinician's charts are of a client with this many entries
PORTAL_CLIENT_ENTRIES = 5_000  # the client viewing their own charts has this many
CHURN_PER_SECOND = 5  # entries a background writer adds across the clinic while pages load

# name: (persona, path, goal as a multiple of the floor's p50, or None). A path starting with
# "POST " is posted (a new inner-critic entry: the write that keeps the projections).
PAGES = {
    "floor": ("clinician", "/floor/", None),
    "clinician dashboard": ("clinician", "/dashboard/", 2.5),
    "admin dashboard p1": ("admin", "/dashboard/", 4.0),
    "session brief": ("clinician", "/dashboard/clients/{client}/brief/", 3.0),
    "client charts (5k entries)": ("portal", "/tracking/me/charts/", 3.0),
    "clinician charts (50k entries)": ("clinician", "/tracking/clients/{big}/charts/", 3.0),
    "cohort": ("admin", "/dashboard/programmes/{programme}/", 3.0),
    "whole-clinic dose-response": ("admin", "/dashboard/dose-response/", 100.0),
    "post an entry": ("portal", "POST /tracking/me/", 3.0),
}
GOALS = {name: goal for name, (_, _, goal) in PAGES.items()}
POST_REDIRECTS_TO = "/tracking/me/entries/"  # the saved entry's page (tracking:my_entry)

FIRST_VIEW_REQUESTS = """
-- Every request a first view: a query parameter unique to every request (no page is cached
-- any more, but a cache anywhere on the way could not answer it either).
local run, counter, separator = "", 0, "?"
function init(args)
  not_ok = 0
  run = args[1] or ""
  if string.find(wrk.path, "?", 1, true) then separator = "&" end
end
function request()
  counter = counter + 1
  return wrk.format(nil, wrk.path .. separator .. "bench_nonce=" .. run .. "-" .. counter)
end
"""
POST_REQUESTS = """
-- Posting an inner-critic entry through the portal form (a 302 to the new entry is success),
-- each with the key of a form drawn anew, as a browser posts it (tracking.forms.EntryForm's
-- submission: a key posted again saves nothing). The run's part of the key comes from args,
-- the thread's from setup().
local run, counter = "00000000", 0
function init(args)
  not_ok = 0
  run = args[1] or run
end
function request()
  counter = counter + 1
  -- wrk.format takes the headers given instead of wrk.headers (the -H cookie): keep both.
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  local key = string.format("%s-%04x-4000-8000-%012d", run, id or 0, counter)
  return wrk.format(
    "POST", wrk.path, headers,
    BODY .. "&critic_text=Not+good+enough+" .. counter .. "&submission=" .. key
  )
end
"""
WRK_SCRIPT = """
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)  -- each thread's part of a POST's form key
end
function init(args) not_ok = 0 end
-- A POST counts only when redirected to the entry it saved: a lost session also answers 302,
-- to the sign-in page, in a fraction of the time.
local expected_location = EXPECTED_LOCATION
function response(status, headers, body)
  if status ~= EXPECTED_STATUS then
    not_ok = not_ok + 1
  elseif expected_location then
    local location = headers["Location"] or ""
    if not string.find(location, expected_location, 1, true) then not_ok = not_ok + 1 end
  end
end
function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("not_ok") end
  local e = summary.errors
  io.write(string.format(
    "SELFKIND-WRK p50=%d p95=%d p99=%d requests=%d duration=%d not_ok=%d errors=%d\\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.requests, summary.duration, bad,
    e.connect + e.read + e.write + e.status + e.timeout))
  -- The latency distribution: the quantile at the middle of every half-percent band.
  local quantiles = {}
  for band = 1, 200 do
    quantiles[band] = string.format("%d", latency:percentile(band * 0.5 - 0.25))
  end
  io.write("SELFKIND-QUANTILES " .. table.concat(quantiles, " ") .. "\\n")
end
"""


@dataclass
class Page:
    name: str
    persona: str
    path: str
    goal: float | None
    post: bool = False  # a form POST (expects 302) rather than a GET (expects 200)
    rounds: list[dict] = field(default_factory=list)
    # (microseconds, requests it stands for): every slice's 200 half-percent quantiles
    samples: list[tuple[int, float]] = field(default_factory=list)

    def percentile_ms(self, p: float) -> float:
        """The p-th percentile over every measured request of the page, all slices pooled."""
        total = sum(weight for _, weight in self.samples)
        seen = 0.0
        for us, weight in sorted(self.samples):
            seen += weight
            if seen >= p / 100 * total - 1e-9:
                return us / 1000
        raise ValueError(f"{self.name}: no requests measured")

    @property
    def p50(self) -> float:
        return self.percentile_ms(50)

    @property
    def p95(self) -> float:
        return self.percentile_ms(95)

    @property
    def requests(self) -> int:
        return sum(r["requests"] for r in self.rounds)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- Database and seeding --------------------------------------------------------------------


def ensure_database(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            log(f"created database {name}")


def manage(env: dict, *args: str) -> float:
    """Run manage.py with `env`; returns the seconds it took. Output goes to stderr."""
    started = time.perf_counter()
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=sys.stderr)
    return time.perf_counter() - started


def bench_sizes() -> dict[str, int]:
    from assessments.models import Administration
    from clinic.models import Client, Organisation, Programme, Role, User
    from tracking.models import InnerCriticEntry, PracticeSession

    org = Organisation.objects.filter(slug="bench").first()
    if org is None:
        return {}
    return {
        "clients": Client.objects.filter(organisation=org).count(),
        "clinicians": User.objects.filter(organisation=org, role=Role.CLINICIAN).count(),
        "administrations": Administration.objects.filter(organisation=org).count(),
        "entries": InnerCriticEntry.objects.filter(client__organisation=org).count(),
        "practice": PracticeSession.objects.filter(client__organisation=org).count(),
        "programmes": Programme.objects.filter(organisation=org).count(),
        "programme members": Client.programmes.through.objects.filter(
            programme__organisation=org
        ).count(),
    }


def at_scale(sizes: dict[str, int], scale: dict[str, int]) -> bool:
    """seed_demo makes exactly the clients, clinicians, administrations, entries and practice
    sessions asked for (it builds their projections in bulk too)."""
    keys = ("clients", "clinicians", "administrations", "entries", "practice")
    # At least: the measured runs themselves add entries (the writer, the posts).
    return bool(sizes) and (
        all(sizes[k] >= scale[k] for k in keys) and sizes["programme members"] > 0
    )


def database_size(name: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(%s))", [name])
        return cursor.fetchone()[0]


def seed(options, dev_env: dict) -> dict:
    """Migrate, seed when short of the scale (projections included), optionally check every
    projection against the raw rows. Returns timings."""
    from django.db import connection

    scale = SCALES[options.scale]
    # --skip-checks: seeding does not depend on the URLconf or the admin, which may be half-built.
    timings = {
        "migrate_s": round(manage(dev_env, "migrate", "--noinput", "--skip-checks", "-v", "0"), 1)
    }
    sizes = bench_sizes()
    if at_scale(sizes, scale):
        log(f"{options.db} already holds the {options.scale} Benchmark Clinic: not seeding")
    elif options.no_seed:
        log(f"warning: {options.db} is not at {options.scale} scale ({sizes}); --no-seed given")
    else:
        flags = [f"--{k}={v}" for k, v in scale.items()]
        log(f"seeding {options.db}: seed_demo {' '.join(flags)}")
        connection.close()
        timings["seed_s"] = round(manage(dev_env, "seed_demo", "--skip-checks", *flags), 1)
        log(f"seeded in {timings['seed_s']:.0f}s")
    if options.check_projections:
        connection.close()
        timings["refresh_dashboard_check_s"] = round(manage(dev_env, "refresh_dashboard"), 1)
        log(f"refresh_dashboard (check) took {timings['refresh_dashboard_check_s']:.1f}s")
    # Planner statistics and the visibility map as a settled database has them (after bulk
    # COPY, autovacuum may not have got round to it yet); quick when nothing changed.
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    timings["vacuum_analyze_s"] = round(time.perf_counter() - started, 1)
    log(f"VACUUM (ANALYZE) took {timings['vacuum_analyze_s']:.1f}s")
    return timings


# --- Who and what is measured ----------------------------------------------------------------


def pick_subjects() -> dict:
    from django.db.models import Count, Exists, OuterRef, Q

    from assessments.models import Administration
    from clinic.models import Client, ClientStatus, Organisation, Programme, Role, User
    from tracking.models import InnerCriticEntry

    org = Organisation.objects.get(slug="bench")
    clinician = None
    # Active clients only: the dashboard lists those, and seeding puts every tenth
    # clinician's caseload on hold (whose dashboard would be an empty table).
    active = Q(primary_clients__status=ClientStatus.ACTIVE)
    candidates = (
        User.objects.filter(organisation=org, role=Role.CLINICIAN, is_active=True)
        .annotate(n=Count("primary_clients"), active=Count("primary_clients", filter=active))
        .filter(n=CASELOAD, active=CASELOAD)
        .order_by("username")
    )
    for candidate in candidates[:10]:
        if Client.objects.on_care_team_of(candidate).count() == CASELOAD:
            clinician = candidate
            break
    if clinician is None:
        sys.exit(f"No Benchmark Clinic clinician has exactly {CASELOAD} clients, all active.")
    admin = User.objects.filter(organisation=org, role=Role.CLINIC_ADMIN, is_active=True)
    admin = admin.filter(username="bench-admin").first() or admin.order_by("username").first()
    if admin is None:
        sys.exit("The Benchmark Clinic has no clinic admin (seed_demo creates bench-admin).")
    client = (
        Client.objects.on_care_team_of(clinician)
        .annotate(
            scs=Count("administrations", filter=Q(administrations__instrument_code="scs")),
            logs=Exists(InnerCriticEntry.objects.filter(client=OuterRef("pk"))),
        )
        .filter(scs__gt=0, logs=True)
        .order_by("-scs", "pk")
        .first()
    )
    if client is None:
        sys.exit(f"None of {clinician.username}'s clients has administrations and entries.")
    programme = (
        Programme.objects.filter(organisation=org)
        .annotate(members=Count("clients"))
        .filter(members__gt=0)
        .order_by("-members", "name")
        .first()
    )
    if programme is None:
        sys.exit("The Benchmark Clinic has no programme with members.")
    big, portal = top_up_chart_clients(clinician, exclude=client)
    return {
        "clinician": clinician,
        "admin": admin,
        "client": client,
        "big": big,
        "portal": portal,
        "portal_user": portal.user,
        "programme": programme,
        "client_administrations": client.scs,
        "client_entries": InnerCriticEntry.objects.filter(client=client).count(),
        "client_all_administrations": Administration.objects.filter(client=client).count(),
        "programme_members": programme.members,
    }


def top_up_chart_clients(clinician, exclude):
    """Two more of the clinician's clients: one topped up to BIG_CLIENT_ENTRIES entries (the
    clinician's charts), one to PORTAL_CLIENT_ENTRIES with a portal login (the client's own
    charts and posts). Bulk inserts, then their projections in bulk, as seeding does."""
    import numpy as np
    from django.db.models import Count

    from clinic.models import Client, Role, User
    from tracking.demo import bulk_write_entries
    from tracking.projections import clients_rebuild

    ranked = list(
        Client.objects.on_care_team_of(clinician)
        .exclude(pk=exclude.pk)
        .annotate(n=Count("critic_entries"))
        .order_by("-n", "pk")[:2]
    )
    big, portal = ranked
    for client, wanted in ((big, BIG_CLIENT_ENTRIES), (portal, PORTAL_CLIENT_ENTRIES)):
        missing = wanted - client.n
        if missing > 0:
            log(f"topping {client.code} up to {wanted:,} entries")
            bulk_write_entries([client.pk], missing, np.random.default_rng(client.pk), days=365)
            clients_rebuild([client.pk])
    if portal.user_id is None:
        # One portal login; a database seeded before the measured clinician changed has it on
        # another client already, from whom it moves.
        user = User.objects.filter(username="bench-portal").first()
        if user is None:
            user = User(username="bench-portal", organisation_id=portal.organisation_id)
            user.role = Role.CLIENT
            user.set_unusable_password()
            user.save()
        Client.objects.filter(user=user).update(user=None)
        Client.objects.filter(pk=portal.pk).update(user=user)
    return big, Client.objects.select_related("user").get(pk=portal.pk)


def session_cookie(user) -> str:
    """A logged-in session for `user`, saved in the database like a real login's."""
    from django.conf import settings
    from django.test import Client as HttpClient

    browser = HttpClient()
    browser.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"


def build_pages(options, subjects) -> list[Page]:
    table = dict(PAGES)
    for spec in options.pages or ():
        name, _, target = spec.partition("=")
        persona, path = "", target
        if not target.startswith("/"):
            persona, _, path = target.partition(":")
        default = table.get(name, ("clinician", "", GOALS.get(name)))
        known = ("", "clinician", "admin", "portal")
        if not name or not path.startswith("/") or persona not in known:
            sys.exit(f"--pages wants NAME=[clinician:|admin:|portal:]/path/, got {spec!r}")
        table[name] = (persona or default[0], path, GOALS.get(name))
    if "floor" not in table:
        sys.exit("The page list needs a 'floor' page.")
    ids = {
        "client": subjects["client"].pk,
        "programme": subjects["programme"].pk,
        "clinician": subjects["clinician"].pk,
        "big": subjects["big"].pk,
    }
    pages = []
    for name, (persona, path, goal) in table.items():
        post = path.startswith("POST ")
        pages.append(Page(name, persona, path.removeprefix("POST ").format(**ids), goal, post))
    return pages


# --- Serving and measuring -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def gunicorn(env: dict, port: int, workers: int):
    log(f"gunicorn's output and request log: {SERVER_LOG.relative_to(ROOT)}")
    SERVER_LOG.parent.mkdir(exist_ok=True)
    server_log = SERVER_LOG.open("w")
    process = subprocess.Popen(
        [
            str(Path(PYTHON).with_name("gunicorn")),
            "config.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            "--worker-class=sync",
            "--timeout=120",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=server_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                sys.exit(
                    f"gunicorn exited with status {process.returncode}: see "
                    f"{SERVER_LOG.relative_to(ROOT)}"
                )
            try:
                status, _ = get(port, "/floor/", "")
                if status in (200, 302):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                sys.exit("gunicorn did not answer within 60 s")
            time.sleep(0.3)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        server_log.close()


def get(port: int, path: str, cookie: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("Location") or ""
    finally:
        connection.close()


def check_pages(port: int, pages: list[Page], cookies: dict, when: str) -> None:
    failures = []
    for page in pages:
        started = time.perf_counter()
        status, location = get(port, page.path, cookies[page.persona])
        took = (time.perf_counter() - started) * 1000
        if status != 200:
            failures.append(
                f"  {page.name}: GET {page.path} as {page.persona} answered {status}"
                + (f" -> {location}" if location else "")
            )
        else:
            log(f"{page.name}: GET {page.path} as {page.persona}: 200 ({when}: {took:.0f} ms)")
    if failures:
        sys.exit("These pages do not answer 200:\n" + "\n".join(failures))


def lua_script(page: Page, post_body: str) -> str:
    """The wrk script of one page: GETs with a query string unique to every request, or POSTs
    of `post_body` (a form with its CSRF token) with a unique text each."""
    expected = 302 if page.post else 200
    script = WRK_SCRIPT.replace("EXPECTED_STATUS", str(expected)).replace(
        "EXPECTED_LOCATION", json.dumps(POST_REDIRECTS_TO) if page.post else "nil"
    )
    if page.post:
        return script + POST_REQUESTS.replace("BODY", json.dumps(post_body))
    return script + FIRST_VIEW_REQUESTS


def wrk(port: int, page: Page, cookie: str, seconds: float, connections: int, lua: str):
    """One wrk run: a summary dict and (microseconds, weight) samples of its latency."""
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--timeout=60s",
        f"--script={lua}",
        "-H",
        f"Cookie: {cookie}",
        f"http://127.0.0.1:{port}{page.path}",
    ]
    # The run's part of every GET's bench_nonce, or of every POST's form key (8 hex digits).
    command += ["--", secrets.token_hex(4 if page.post else 6)]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    if run.returncode:
        sys.exit(f"wrk failed for {page.name} ({run.returncode}):\n{run.stdout}{run.stderr}")
    output = run.stdout
    match = re.search(r"SELFKIND-WRK (.*)", output)
    if match is None:
        sys.exit(f"wrk printed no summary for {page.name}:\n{output}")
    figures = {k: int(v) for k, v in (item.split("=") for item in match.group(1).split())}
    if figures["not_ok"] or figures["errors"] or not figures["requests"]:
        sys.exit(f"{page.name}: wrk saw unexpected answers or socket errors: {figures}")
    quantiles = [int(us) for us in re.search(r"SELFKIND-QUANTILES (.*)", output).group(1).split()]
    samples = [(us, figures["requests"] / len(quantiles)) for us in quantiles]
    summary = {
        "p50_ms": figures["p50"] / 1000,
        "p95_ms": figures["p95"] / 1000,
        "p99_ms": figures["p99"] / 1000,
        "requests": figures["requests"],
        "per_second": round(figures["requests"] / (figures["duration"] / 1e6), 1),
    }
    return summary, samples


CHURN = """
import random, signal, sys, time
from django.utils import timezone
from clinic.models import Client, Organisation, Role, User
from tracking.services import entry_create
org = Organisation.objects.get(slug="bench")
admin = User.objects.get(username="bench-admin")
ids = list(Client.objects.filter(organisation=org, status="active").values_list("pk", flat=True))
written, stop = 0, False
def finish(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, finish)
rng, started = random.Random(2026), time.monotonic()
while not stop:
    client = Client.objects.select_related("organisation").get(pk=rng.choice(ids))
    entry_create(actor=admin, client=client, data={
        "critic_text": "Churn.", "intensity": rng.randint(0, 10), "occurred_at": timezone.now()})
    written += 1
    time.sleep(max(0.0, started + written / RATE - time.monotonic()))
print(f"CHURN {written} {time.monotonic() - started:.1f}", flush=True)
"""


@contextlib.contextmanager
def churn(env: dict, per_second: float):
    """A writer adding `per_second` inner-critic entries a second to random clients of the
    clinic through the entry service (so every projection moves) while pages are measured."""
    process = subprocess.Popen(
        [PYTHON, "manage.py", "shell", "-v0", "-c", CHURN.replace("RATE", str(per_second))],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    summary = {}
    try:
        yield summary
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=60)
        match = re.search(r"CHURN (\d+) ([\d.]+)", out or "")
        if match:
            summary.update(entries=int(match.group(1)), seconds=float(match.group(2)))
            log(f"churn: {summary['entries']} entries in {summary['seconds']:.0f} s")


def measure(options, port: int, pages: list[Page], cookies: dict, post_body: str) -> None:
    scripts = {}
    for page in pages:
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
            handle.write(lua_script(page, post_body))
            scripts[page.name] = handle.name
    try:
        if options.warmup > 0:
            for page in pages:
                cookie = cookies[page.persona]
                wrk(port, page, cookie, options.warmup, 2, scripts[page.name])  # dropped
            log(f"warmed up ({options.warmup:g}s per page, 2 connections)")
        for number in range(1, options.rounds + 1):
            for page in pages:
                cookie = cookies[page.persona]
                summary, samples = wrk(
                    port,
                    page,
                    cookie,
                    options.duration,
                    options.connections,
                    scripts[page.name],
                )
                page.rounds.append(summary)
                page.samples += samples
            if number == 1 or number % 5 == 0 or number == options.rounds:
                log(
                    f"round {number}/{options.rounds}: "
                    + ", ".join(f"{p.name} {p.rounds[-1]['p50_ms']:.1f}" for p in pages)
                    + " ms p50"
                )
    finally:
        for script in scripts.values():
            os.unlink(script)


# --- Reporting -------------------------------------------------------------------------------


def verdict(ratio: float, goal: float | None) -> str:
    if goal is None:
        return ""
    return "met" if ratio <= goal else "not met"


def print_table(pages: list[Page]) -> bool:
    floor = next(p for p in pages if p.name == "floor")
    print("| page | p50 ms | p95 ms | p50/floor | p95/floor | goal | verdict |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    missed = False
    for page in pages:
        r50, r95 = page.p50 / floor.p50, page.p95 / floor.p95
        goal = f"p50 <= {page.goal:g}x" if page.goal else ""
        outcome = verdict(r50, page.goal)
        missed |= outcome == "not met"
        label = page.name
        print(
            f"| {label} | {page.p50:.1f} | {page.p95:.1f} | {r50:.2f}x | {r95:.2f}x | {goal} "
            f"| {outcome} |"
        )
    return missed


def compare(tenth_path: str, full_path: str) -> int:
    tenth, full = (json.loads(Path(p).read_text()) for p in (tenth_path, full_path))
    by_name = [{p["name"]: p for p in run["pages"]} for run in (tenth, full)]
    floors = [run["floor_p50_ms"] for run in (tenth, full)]
    print(f"{tenth['label']} ({tenth['database']}) vs {full['label']} ({full['database']})\n")
    print(
        "| page | p50 ms tenth | p50 ms full | full/tenth | p95 ms tenth | p95 ms full "
        "| full/tenth | p50/floor full/tenth | goal | verdict |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    missed = False
    for name, small in by_name[0].items():
        big = by_name[1].get(name)
        if big is None:
            continue
        relative = (big["p50_ms"] / floors[1]) / (small["p50_ms"] / floors[0])
        is_floor = name == "floor"
        outcome = "" if is_floor else ("met" if relative <= SCALE_GOAL else "not met")
        missed |= outcome == "not met"
        print(
            f"| {name} | {small['p50_ms']:.1f} | {big['p50_ms']:.1f} "
            f"| {big['p50_ms'] / small['p50_ms']:.2f}x | {small['p95_ms']:.1f} "
            f"| {big['p95_ms']:.1f} | {big['p95_ms'] / small['p95_ms']:.2f}x "
            f"| {relative:.2f}x | {'' if is_floor else f'<= {SCALE_GOAL:g}x'} | {outcome} |"
        )
    print(
        "\nThe verdict uses each page's p50 as a multiple of its own run's floor, which cancels "
        "drift in machine speed between the two runs."
    )
    return 1 if missed else 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]),
    )
    parser.add_argument("--scale", choices=sorted(SCALES), default="tenth")
    parser.add_argument("--db", help="database name (default: selfkind_bench_SCALE)")
    parser.add_argument(
        "--server",
        default="postgres://postgres@127.0.0.1:5432",
        help="PostgreSQL server URL, without the database name",
    )
    parser.add_argument("--seed-only", action="store_true", help="seed, then stop")
    parser.add_argument("--no-seed", action="store_true", help="never run seed_demo")
    parser.add_argument(
        "--check-projections",
        action="store_true",
        help="after seeding, check every projection against the raw rows (refresh_dashboard)",
    )
    parser.add_argument(
        "--pages",
        nargs="+",
        metavar="NAME=[clinician:|admin:|portal:]PATH",
        help="add or replace pages ({client}, {programme}, {big}, {clinician} in PATH filled in)",
    )
    parser.add_argument(
        "--churn",
        type=float,
        default=CHURN_PER_SECOND,
        help="entries a second a background writer adds while pages load (0: none)",
    )
    parser.add_argument("--duration", type=float, default=2, help="seconds per page per round")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--warmup", type=float, default=3, help="seconds per page, 0 for none")
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--json", metavar="OUT.json", help="also write the figures here")
    parser.add_argument("--compare", nargs=2, metavar=("TENTH.json", "FULL.json"))
    options = parser.parse_args()

    if options.compare:
        sys.exit(compare(*options.compare))
    # A plain `kill` of this script still stops gunicorn (SystemExit runs the finally clauses).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped by SIGTERM"))

    options.db = options.db or f"selfkind_bench_{options.scale}"
    database_url = f"{options.server}/{options.db}"
    ensure_database(options.server, options.db)

    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SELFKIND_"))}
    base.update(DATABASE_URL=database_url, LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
    dev_env = {**base, "SELFKIND_ENV": "development"}
    prod_env = {
        **base,
        "SELFKIND_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "STATIC_ROOT": str(STATIC_ROOT),
        "REDIS_URL": "redis://127.0.0.1:6379/3",
        # No email is sent while measuring; production only insists that one is configured.
        "EMAIL_HOST": "127.0.0.1",
        "DEFAULT_FROM_EMAIL": "bench@example.org",
    }
    # This process uses the production settings too, so its sessions are gunicorn's.
    os.environ.clear()
    os.environ.update(prod_env)
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()

    timings = seed(options, dev_env)
    sizes = bench_sizes()
    size = database_size(options.db)
    log(f"{options.db}: {size}; Benchmark Clinic: {sizes}")
    if options.seed_only:
        print(json.dumps({"database": options.db, "size": size, **sizes, **timings}, indent=2))
        return

    timings["collectstatic_s"] = round(manage(prod_env, "collectstatic", "--noinput", "-v", "0"), 1)
    subjects = pick_subjects()
    pages = build_pages(options, subjects)
    csrf = secrets.token_hex(16)  # Django accepts the 32-character secret as the form token
    cookies = {
        "clinician": session_cookie(subjects["clinician"]),
        "admin": session_cookie(subjects["admin"]),
        "portal": f"{session_cookie(subjects['portal_user'])}; csrftoken={csrf}",
    }
    local_now = dt.datetime.now(subjects["portal"].organisation.tz) - dt.timedelta(minutes=5)
    post_body = f"csrfmiddlewaretoken={csrf}&intensity=6&occurred_at={local_now:%Y-%m-%dT%H:%M}"
    from django.db import connection

    connection.close()  # nothing in this process touches the database while wrk runs
    log(
        f"clinician {subjects['clinician'].username} ({CASELOAD} clients), admin "
        f"{subjects['admin'].username}, client {subjects['client'].code} "
        f"({subjects['client_administrations']} SCS administrations, "
        f"{subjects['client_entries']} entries), programme {subjects['programme'].name} "
        f"({subjects['programme_members']} members)"
    )

    port = free_port()
    churned = {}
    with gunicorn(prod_env, port, options.workers):
        check_pages(port, pages, cookies, "first request")
        if options.churn > 0:
            with churn(prod_env, options.churn) as churned:
                measure(options, port, pages, cookies, post_body)
        else:
            measure(options, port, pages, cookies, post_body)
        check_pages(port, pages, cookies, "after the runs")  # the sessions are still valid

    label = (
        f"{options.scale} scale"
        + f", every request a first view, {options.churn:g} new entries a second meanwhile"
    )
    print(
        f"\n{label}, {options.db}, {dt.date.today().isoformat()}: wrk -t1 "
        f"-c{options.connections}, {options.rounds} rounds x {options.duration:g}s per page "
        f"after {options.warmup:g}s warm-up; gunicorn {options.workers} sync workers; "
        f"percentiles over all requests of the rounds\n"
    )
    missed = print_table(pages)
    print(f"\nreproduce: .venv/bin/python {' '.join(sys.argv)}")
    floor = next(p for p in pages if p.name == "floor")
    if options.json:
        out = {
            "label": label,
            "scale": options.scale,
            "database": options.db,
            "database_size": size,
            "date": dt.datetime.now().isoformat(timespec="seconds"),
            "machine": f"{platform.node()} {os.cpu_count()} cores {platform.platform()}",
            "command": " ".join(sys.argv),
            "wrk": {
                "first_view_every_request": True,
                "churn_entries_per_second": options.churn,
                "connections": options.connections,
                "duration_s": options.duration,
                "rounds": options.rounds,
                "warmup_s": options.warmup,
            },
            "gunicorn_workers": options.workers,
            "churn": churned,
            "sizes": sizes,
            "timings": timings,
            "subjects": {
                "clinician": subjects["clinician"].username,
                "admin": subjects["admin"].username,
                "client": subjects["client"].code,
                "client_scs_administrations": subjects["client_administrations"],
                "client_entries": subjects["client_entries"],
                "programme": subjects["programme"].name,
                "programme_members": subjects["programme_members"],
            },
            "floor_p50_ms": floor.p50,
            "floor_p95_ms": floor.p95,
            "pages": [
                {
                    **{k: v for k, v in asdict(page).items() if k not in ("rounds", "samples")},
                    "requests": page.requests,
                    "p50_ms": page.p50,
                    "p95_ms": page.p95,
                    "p50_over_floor": page.p50 / floor.p50,
                    "p95_over_floor": page.p95 / floor.p95,
                    "rounds": page.rounds,
                }
                for page in pages
            ],
        }
        Path(options.json).parent.mkdir(parents=True, exist_ok=True)
        Path(options.json).write_text(json.dumps(out, indent=2) + "\n")
        log(f"wrote {options.json}")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
