"""Demo data for the dashboard: build every client's summary once the other seeders are done
(their bulk inserts send no model signals)."""

from __future__ import annotations

import time

from dashboard.services import summaries_refresh


class DashboardSeeder:
    def add_arguments(self, parser) -> None:
        return None

    def seed(self, context) -> None:
        started = time.perf_counter()
        count = summaries_refresh()
        context.write(
            f"dashboard: {count:,} client summaries built in {time.perf_counter() - started:.1f}s"
        )
