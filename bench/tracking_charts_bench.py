"""Benchmark the tracking chart pages against the login-required empty page (/floor/).

Sets up (once, idempotently) a "Tracking Bench Clinic" with a clinician and two clients: one
with a portal login and 5,000 inner-critic entries, one with 50,000, spread over a year, plus
practice sessions. Then times, median of --repeats after a warm-up, in-process with
django.test.Client and force_login (same middleware, session and CSP as a real request):

- the floor: GET /floor/ (login required, empty body);
- the client's own chart page: GET /tracking/me/charts/ (5,000 entries);
- the clinician's chart page of the 50,000-entry client: GET /tracking/clients/<id>/charts/;
- both chart pages again with the cache cleared before each request (the first view after an
  entry is added or changed): reported, not held to the goal.

Goal: each chart page at most 4x the floor. Run on PostgreSQL from the repository root:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tracking_bench \\
        .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tracking_bench \\
        .venv/bin/python bench/tracking_charts_bench.py [--repeats 30]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_RATIO = 4.0
SIZES = {"BENCH-5K": 5_000, "BENCH-50K": 50_000}


def setup_data():
    import numpy as np
    from django.utils import timezone

    from clinic.models import Client, Organisation, Role, User
    from tracking.demo import bulk_write_entries
    from tracking.models import InnerCriticEntry, PracticeSession

    org, _ = Organisation.objects.get_or_create(
        slug="tracking-bench", defaults={"name": "Tracking Bench Clinic"}
    )
    clinician, _ = User.objects.get_or_create(
        username="tracking-bench-clinician",
        defaults={"organisation": org, "role": Role.CLINICIAN},
    )
    portal, _ = User.objects.get_or_create(
        username="tracking-bench-client", defaults={"organisation": org, "role": Role.CLIENT}
    )
    clients = {}
    for code, size in SIZES.items():
        client, _ = Client.objects.get_or_create(
            organisation=org,
            code=code,
            defaults={
                "display_name": code,
                "intake_date": dt.date(2025, 1, 6),
                "primary_clinician": clinician,
                "user": portal if size == 5_000 else None,
            },
        )
        have = InnerCriticEntry.objects.filter(client=client).count()
        if have < size:
            bulk_write_entries([client.pk], size - have, np.random.default_rng(size))
        if not PracticeSession.objects.filter(client=client).exists():
            today = timezone.localdate()
            PracticeSession.objects.bulk_create(
                PracticeSession(
                    client=client,
                    practised_on=today - dt.timedelta(days=n % 365),
                    practice_type=("hand_on_heart", "loving_kindness", "journaling")[n % 3],
                    minutes=5 + n % 20,
                )
                for n in range(size // 10)
            )
        clients[code] = client
    return clinician, portal, clients


def medians_ms(requests: dict, repeats: int, cold: set[str] = frozenset()) -> dict[str, float]:
    """Median time per request, measured in interleaved rounds so that load on the machine hits
    every request alike. Requests named in `cold` run with the cache cleared first."""
    from django.core.cache import cache

    for http, url in requests.values():
        for _ in range(3):
            assert http.get(url).status_code == 200, url
    times: dict[str, list[float]] = {name: [] for name in requests}
    for _ in range(repeats):
        for name, (http, url) in requests.items():
            if name in cold:
                cache.clear()
            start = time.perf_counter()
            response = http.get(url)
            times[name].append(time.perf_counter() - start)
            assert response.status_code == 200, url
    return {name: statistics.median(values) * 1000 for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    options = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client as HttpClient
    from django.test.utils import setup_test_environment
    from django.urls import reverse

    setup_test_environment()  # lets django.test.Client's "testserver" host through
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    started = time.perf_counter()
    clinician, portal, clients = setup_data()
    print(f"data ready in {time.perf_counter() - started:.1f}s")

    as_client = HttpClient()
    as_client.force_login(portal)
    as_clinician = HttpClient()
    as_clinician.force_login(clinician)

    own_url = reverse("tracking:my_charts")
    staff_url = reverse("tracking:client_charts", args=[clients["BENCH-50K"].pk])
    floors = {
        "floor client": (as_client, reverse("floor")),
        "floor staff": (as_clinician, reverse("floor")),
    }
    ms = medians_ms(
        {**floors, "own": (as_client, own_url), "staff": (as_clinician, staff_url)},
        options.repeats,
    )
    cold = medians_ms(
        {**floors, "own cold": (as_client, own_url), "staff cold": (as_clinician, staff_url)},
        max(5, options.repeats // 3),
        cold={"own cold", "staff cold"},
    )
    ms.update({name: cold[name] for name in ("own cold", "staff cold")})
    print(f"floor /floor/ (client login):      {ms['floor client']:7.2f} ms")
    print(f"floor /floor/ (clinician login):   {ms['floor staff']:7.2f} ms")
    failed = False
    for label, name, base, goal in (
        ("client charts, 5,000 entries", "own", "floor client", True),
        ("clinician charts, 50,000 entries", "staff", "floor staff", True),
        ("  same, cache cold (5,000)", "own cold", "floor client", False),
        ("  same, cache cold (50,000)", "staff cold", "floor staff", False),
    ):
        ratio = ms[name] / ms[base]
        verdict = "ok" if ratio <= GOAL_RATIO else f"over the {GOAL_RATIO:g}x goal"
        if goal:
            failed |= ratio > GOAL_RATIO
        else:
            verdict = "first view after a change (not the goal)"
        print(f"{label:34s} {ms[name]:7.2f} ms = {ratio:5.1f}x floor ({verdict})")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
