"""Rebuild the dashboard's client summaries.

Pages rebuild a stale summary on their own; run this after bulk loads that bypass the
application (restores, raw SQL), and nightly so reliable-change verdicts follow a clinic's
baseline SD as new baselines arrive (see docs/deployment.md).
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from clinic.models import Client, Organisation
from dashboard.services import summaries_refresh


class Command(BaseCommand):
    help = "Rebuild dashboard summaries (every clinic, or one with --clinic SLUG)."

    def add_arguments(self, parser):
        parser.add_argument("--clinic", help="Only this clinic (its slug).")

    def handle(self, *args, clinic=None, **options):
        started = time.perf_counter()
        ids = None
        if clinic:
            organisation = Organisation.objects.filter(slug=clinic).first()
            if organisation is None:
                raise CommandError(f"No clinic with slug {clinic!r}.")
            ids = list(
                Client.objects.filter(organisation=organisation).values_list("pk", flat=True)
            )
        count = summaries_refresh(ids)
        self.stdout.write(
            self.style.SUCCESS(
                f"{count:,} client summaries rebuilt in {time.perf_counter() - started:.1f}s"
            )
        )
