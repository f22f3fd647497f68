"""Move a clinic to another time zone, with every projection rebuilt in the same transaction.

Day rollups, activity and dose are kept on clinic-local days, so a move changes which day past
entries fall on; the rebuild recomputes them from the raw rows
(dashboard.services.organisation_time_zone_set). Raw rows keep the dates they were written
with (a questionnaire's day, a journal's week). The Django admin shows the zone read-only.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from clinic.models import Organisation
from dashboard.services import organisation_time_zone_set


class Command(BaseCommand):
    help = "Move a clinic (by slug) to another IANA time zone, e.g. Europe/London."

    def add_arguments(self, parser):
        parser.add_argument("clinic", help="The clinic's slug.")
        parser.add_argument("time_zone", help="An IANA time zone name, e.g. America/New_York.")

    def handle(self, *args, clinic, time_zone, **options):
        organisation = Organisation.objects.filter(slug=clinic).first()
        if organisation is None:
            raise CommandError(f"No clinic with slug {clinic!r}.")
        before = organisation.time_zone
        try:
            organisation_time_zone_set(organisation=organisation, time_zone=time_zone)
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{organisation.name}: {before} -> {time_zone}; projections rebuilt.")
