"""manage.py import_assessments CLINIC FILE.csv [--skip-invalid]

Validates every row first and reports every problem with its row number; imports nothing unless
every row is valid (--skip-invalid imports the valid rows). A file the CSV reader refuses (not
UTF-8, not comma-separated, a header problem, a row with a cell missing or extra) imports
nothing, even with --skip-invalid. Wholly empty rows are skipped and counted. Progress bar on
stderr at a terminal.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from assessments.importing import import_valid, validate
from clinic.models import Organisation


class Command(BaseCommand):
    help = (
        "Import scored paper forms (client_code, instrument, administered_on, item_1..). "
        "A file with a row whose cells do not match the header's columns imports nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("clinic", help="The clinic's slug.")
        parser.add_argument("file", help="CSV file.")
        parser.add_argument(
            "--skip-invalid", action="store_true", help="Import the valid rows, skip the rest."
        )

    def handle(self, *args, **options):
        try:
            organisation = Organisation.objects.get(slug=options["clinic"])
        except Organisation.DoesNotExist:
            raise CommandError(f"no clinic with slug {options['clinic']!r}") from None

        def progress(rows):
            return tqdm(
                rows,
                desc="validating",
                unit="row",
                file=sys.stderr,
                disable=not sys.stderr.isatty(),
            )

        report = validate(organisation, Path(options["file"]), progress=progress)
        if report.file_error:
            raise CommandError("\n".join([*report.lines(), "nothing imported"]))
        for line in report.lines():
            self.stderr.write(line)
        if report.problems and not options["skip_invalid"]:
            raise CommandError(
                f"{len({line for line, _ in report.problems})} of {report.rows} rows are invalid; "
                "nothing imported (use --skip-invalid to import the valid rows)"
            )
        imported = import_valid(report, skip_invalid=options["skip_invalid"])
        skipped = report.rows - imported
        self.stdout.write(
            f"imported {imported} administrations into {organisation}"
            + (f"; skipped {skipped} invalid rows" if skipped else "")
            + (f"; {report.blank_rows} empty rows skipped" if report.blank_rows else "")
            + (
                f"; {report.unscored} cannot be scored (too many blank items): kept as "
                "entered, they do not count as scores"
                if report.unscored
                else ""
            )
        )
