"""manage.py load_item_wording INSTRUMENT FILE [--clinic SLUG]

Loads the published item wording a clinic holds (with the author's permission) into the database
for that clinic only; Selfkind ships no instrument wording. FILE is one of:
- a CSV with a header row and the columns `item` and `wording`;
- a JSON object mapping item numbers to wording;
- a text file with exactly one item per line, in item order.
Every item must be present. Screens then say "Clinic-loaded wording: <file name>".
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from assessments.instruments import UnknownInstrumentError, get_instrument
from assessments.services import wording_load
from clinic.models import Organisation


def parse_wording(name: str, text: str) -> dict[int, str]:
    text = text.lstrip("\ufeff")
    if name.endswith(".json"):
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("the JSON file must be an object of item number -> wording")
        return {int(key): str(value) for key, value in data.items()}
    if name.endswith(".csv"):
        reader = csv.DictReader(io.StringIO(text))
        if not {"item", "wording"} <= set(reader.fieldnames or []):
            raise ValueError("the CSV file needs the columns item and wording")
        return {int(row["item"]): row["wording"] for row in reader}
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return {number: line for number, line in enumerate(lines, start=1)}


class Command(BaseCommand):
    help = "Load a clinic's own copy of an instrument's published item wording."

    def add_arguments(self, parser):
        parser.add_argument("instrument")
        parser.add_argument("file")
        parser.add_argument("--clinic", help="Clinic slug (needed when there are several).")

    def handle(self, *args, **options):
        try:
            instrument = get_instrument(options["instrument"])
        except UnknownInstrumentError as exc:
            raise CommandError(str(exc)) from None
        if options["clinic"]:
            organisation = Organisation.objects.filter(slug=options["clinic"]).first()
            if organisation is None:
                raise CommandError(f"no clinic with slug {options['clinic']!r}")
        else:
            clinics = list(Organisation.objects.all()[:2])
            if len(clinics) != 1:
                raise CommandError("several clinics exist: name one with --clinic SLUG")
            organisation = clinics[0]
        path = Path(options["file"])
        try:
            wording = parse_wording(path.name.lower(), path.read_text(encoding="utf-8"))
            record = wording_load(
                organisation=organisation, instrument=instrument, wording=wording, source=path.name
            )
        except (OSError, UnicodeDecodeError, ValueError, KeyError) as exc:
            raise CommandError(f"{path.name}: {exc}") from None
        self.stdout.write(
            f"loaded the wording of {len(record.wording)} {instrument.short_name} items for "
            f"{organisation} from {path.name}"
        )
