"""How fast could the clinic admin's page 1 ("needs attention first") be with a stored row?

Evidence for a design decision, not a goal: the page's order today is worked out at read time
from five per-client tables (the client, its SCS summary, schedule, acknowledgements and
activity), so its cost grows with the clinic. This script times, in the database the
dashboard benchmark seeded (`selfkind_bench_tenth` or `_full`):

- the page's ids as the dashboard reads them now (dashboard.selectors.dashboard_ids, ORM
  compile included), and
- the same 25 ids read from one table holding each active client's attention columns as a
  stored row would: the flags that do not depend on the day as 0/1, and the three that do as
  the dates they are open from or until, compared with today in the query.

The table is materialised from the dashboard's own query (so both give the same page, which
the script checks), indexed, timed and dropped. It prints the medians of N runs of each.

    .venv/bin/python bench/attention_bound.py --scale full [--runs 31]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STORED_PAGE = """
SELECT row_id FROM bench_attention_bound WHERE org = %s ORDER BY
  (flag_safety * 64 + flag_risk_item * 32 + flag_deterioration * 16 + flag_distress * 8
   + CASE WHEN rising_until > %s THEN 4 ELSE 0 END
   + CASE WHEN quiet_from <= %s THEN 2 ELSE 0 END
   + CASE WHEN overdue_from <= %s THEN 1 ELSE 0 END) DESC,
  signal_at DESC NULLS LAST,
  CASE WHEN flag_deterioration = 1 THEN date_deterioration
       WHEN flag_distress = 1 THEN date_distress
       WHEN rising_until > %s THEN date_rising
       WHEN quiet_from <= %s THEN date_quiet
       WHEN overdue_from <= %s THEN date_overdue END DESC NULLS LAST,
  row_code
LIMIT 25
"""


def median_ms(work, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=("tenth", "full"), default="tenth")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--runs", type=int, default=31)
    options = parser.parse_args()
    os.environ["DATABASE_URL"] = f"{options.server}/selfkind_bench_{options.scale}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from clinic.models import User
    from dashboard import selectors

    admin = User.objects.get(username="bench-admin")
    today = timezone.localdate()
    context = selectors.clinic_context(admin.organisation_id)
    ids = selectors.dashboard_ids(admin, selectors.DashboardFilters(), context, today)
    inner, params = ids.attention.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_attention_bound")
        cursor.execute(
            "CREATE TABLE bench_attention_bound AS SELECT t.*, %s::int AS org, "  # noqa: S608
            "CASE WHEN t.flag_rising = 1 THEN t.date_rising + 7 END AS rising_until, "
            "CASE WHEN t.flag_quiet = 1 THEN t.date_quiet END AS quiet_from, "
            "CASE WHEN t.flag_overdue = 1 THEN t.date_overdue END AS overdue_from "
            f"FROM ({inner}) t",
            [admin.organisation_id, *params],
        )
        try:
            cursor.execute("CREATE INDEX ON bench_attention_bound (org)")
            cursor.execute("ANALYZE bench_attention_bound")
            args = [admin.organisation_id, *[today] * 6]

            def stored_page() -> list[int]:
                cursor.execute(STORED_PAGE, args)
                return [row[0] for row in cursor.fetchall()]

            same = stored_page() == ids[0:25]
            now_ms = median_ms(lambda: ids[0:25], options.runs)
            stored_ms = median_ms(stored_page, options.runs)
        finally:
            cursor.execute("DROP TABLE bench_attention_bound")
    print(f"{options.scale} scale, {ids.count()} active clients, medians of {options.runs} runs")
    print(f"page 1 ids as read now:      {now_ms:7.2f} ms")
    print(f"page 1 ids from stored rows: {stored_ms:7.2f} ms")
    print(f"same 25 clients in the same order: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
