"""List the discharged records each clinic has kept past its retention period.

Run daily (the task queue's periodic task calls the same function). It lists and erases
nothing: a clinic admin confirms each erasure on the "Records past retention" page. Prints
pseudonymous codes only.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from clinic.models import Organisation
from clinic.records import records_past_retention
from clinic.services import notify_records_past_retention


class Command(BaseCommand):
    help = "List discharged records past their clinic's retention period, for an admin to confirm."

    def add_arguments(self, parser):
        parser.add_argument("--clinic", help="Only this clinic (its slug).")

    def handle(self, *args, **options):
        clinics = Organisation.objects.order_by("slug")
        if options["clinic"]:
            clinics = clinics.filter(slug=options["clinic"])
            if not clinics.exists():
                raise CommandError(f"No clinic with the slug {options['clinic']!r}.")
        for clinic in clinics:
            if not clinic.retention_months:
                self.stdout.write(f"{clinic.slug}: no retention period chosen; nothing listed")
                continue
            due = records_past_retention(clinic)
            self.stdout.write(
                f"{clinic.slug}: {len(due)} record(s) past {clinic.retention_months} months"
            )
            for item in due:
                self.stdout.write(
                    f"  {item.client.code}  discharged {item.client.discharge_date}  "
                    f"due since {item.due_on}"
                )
            if due:
                notify_records_past_retention(clinic, count=len(due))
