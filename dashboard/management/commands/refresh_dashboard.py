"""Check (and with --repair, fix) every projection against the raw rows.

The apps keep their projections exact on every write, so this should find nothing. Run it after
bulk loads that bypass the application (restores, raw SQL) or to prove a restored copy; the exit
status is 1 when differences were found and not repaired.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from clinic.models import Client, Organisation
from dashboard.consistency import EXAMPLES, differences, repair


class Command(BaseCommand):
    help = (
        "Recompute every projection (day rollups, activity, dose, score summaries, intervals, "
        "baseline moments) from the raw rows and report differences; --repair fixes them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--clinic", help="Only this clinic (its slug).")
        parser.add_argument(
            "--repair", action="store_true", help="Replace what differs with recomputed rows."
        )

    def handle(self, *args, clinic=None, **options):
        started = time.perf_counter()
        clients = Client.objects.order_by("pk")
        if clinic:
            organisation = Organisation.objects.filter(slug=clinic).first()
            if organisation is None:
                raise CommandError(f"No clinic with slug {clinic!r}.")
            clients = clients.filter(organisation=organisation)
        ids = list(clients.values_list("pk", flat=True))
        found = differences(ids)
        by_table: dict[str, int] = {}
        for difference in found:
            by_table[difference.table] = by_table.get(difference.table, 0) + 1
        for difference in found[:EXAMPLES]:
            self.stdout.write(str(difference))
        summary = ", ".join(f"{table} {n}" for table, n in sorted(by_table.items()))
        self.stdout.write(
            f"{len(ids):,} clients checked in {time.perf_counter() - started:.1f}s: "
            f"{len(found)} difference(s){f' ({summary})' if summary else ''}"
        )
        if found and options["repair"]:
            repair(ids)
            left = differences(ids)
            self.stdout.write(self.style.SUCCESS(f"repaired; {len(left)} difference(s) left"))
            if left:
                raise CommandError("differences remain after the repair", returncode=1)
        elif found:
            raise CommandError("projections differ from the raw rows (use --repair)", returncode=1)
