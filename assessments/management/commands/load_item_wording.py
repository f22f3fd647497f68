"""manage.py load_item_wording INSTRUMENT FILE [--clinic SLUG]

Loads the published item wording a clinic holds (with the author's permission) into the database
for that clinic only; Selfkind ships no instrument wording. FILE is one of:
- a CSV with a header row and the columns `item` and `wording`, read by `clinic.csvinput` like
  every CSV input (a wording that holds a comma must be quoted, or the file is refused);
- a JSON object mapping item numbers to wording;
- a text file with exactly one item per line, in item order.
Every item must be present. Screens then say "Clinic-loaded wording: <file name>".
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from assessments.instruments import UnknownInstrumentError, get_instrument
from assessments.services import wording_load
from clinic.csvinput import Columns, CsvInputError, open_csv
from clinic.models import Organisation

WORDING_COLUMNS = Columns(required=("item", "wording"))


def parse_wording(path: Path) -> dict[int, str]:
    if path.name.lower().endswith(".csv"):
        return _csv_wording(path)
    text = path.read_text(encoding="utf-8").lstrip("\ufeff")
    if path.name.lower().endswith(".json"):
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("the JSON file must be an object of item number -> wording")
        return {int(key): str(value) for key, value in data.items()}
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return {number: line for number, line in enumerate(lines, start=1)}


def _csv_wording(path: Path) -> dict[int, str]:
    wording: dict[int, str] = {}
    with open_csv(path, WORDING_COLUMNS) as csv_file:
        for row in csv_file.rows():
            try:
                number = int(row.get("item").strip())
            except ValueError:
                raise ValueError(
                    f"row {row.number}: item {row.get('item')!r} is not an item number"
                ) from None
            if number in wording:
                raise ValueError(f"row {row.number}: item {number} appears twice")
            wording[number] = row.get("wording")
    return wording


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
            wording = parse_wording(path)
            record = wording_load(
                organisation=organisation, instrument=instrument, wording=wording, source=path.name
            )
        except (OSError, UnicodeDecodeError, ValueError, KeyError, CsvInputError) as exc:
            raise CommandError(f"{path.name}: {exc}") from None
        self.stdout.write(
            f"loaded the wording of {len(record.wording)} {instrument.short_name} items for "
            f"{organisation} from {path.name}"
        )
