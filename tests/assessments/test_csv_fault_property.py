"""Property: whatever shape faults a CSV file has, no faulty file is ever scored or stored.

Hypothesis writes files of SCS administrations with benign variations (a byte-order mark, CRLF
line ends, wholly empty rows, quoted line breaks and commas in a note, the columns in any order)
and, sometimes, shape faults (a row with a cell missing or extra, a repeated item column, a stray
space, invisible character or other case in an item column's name, semicolons or tabs for
commas). Both readers of such files, score_csv and the import (validate + import_valid, on the
real database), must refuse every faulty file as a whole, and read every other one exactly:
each row's own answers, never a neighbour's.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from assessments.importing import import_valid, validate
from assessments.instruments import get_instrument
from assessments.models import Administration
from assessments.scoring import score_response

SCS = get_instrument("scs")
ITEMS = [f"item_{n}" for n in range(1, 27)]
BLANK_ROWS = ["", ",", ",,,,,,", "," * 29, " , ,"]


@dataclass
class Form:
    code: str
    on: dt.date
    answers: list[int]
    note: str


@dataclass
class CsvCase:
    data: bytes
    forms: list[Form]
    faults: list[str]


# Rows with a cell missing or extra, the first fault, are drawn most often.
FAULTS = ["row shape"] * 4 + ["space", "case", "invisible", "repeat", "delimiter"]


def damage_header(draw, header: list[str], kind: str) -> int:
    """Damage one item column's name; return its position."""
    position = draw(st.sampled_from([i for i, n in enumerate(header) if n in ITEMS]))
    name = header[position]
    if kind == "repeat":
        header.append(name)
    elif kind == "space":
        header[position] = draw(st.sampled_from([f" {name}", f"{name} ", f"\u00a0{name}"]))
    elif kind == "case":
        header[position] = name.upper()
    else:
        header[position] = draw(st.sampled_from(["\ufeff", "\u200b"])) + name
    return position


def damage_rows(draw, rows: list[list[str]]) -> None:
    """One or two rows get a cell missing or extra. Never both in one row: they would cancel
    out, and no reader can tell such a row from a sound one."""
    for index in draw(st.lists(st.sampled_from(range(len(rows))), min_size=1, unique=True)):
        row = rows[index]
        if draw(st.booleans()):
            del row[draw(st.integers(0, len(row) - 1))]
        else:
            row.insert(draw(st.integers(0, len(row))), draw(st.sampled_from(["", "3", "x"])))


@st.composite
def csv_cases(draw) -> CsvCase:
    forms = [
        Form(
            code=draw(st.sampled_from(["RC-001", "rc-002"])),
            on=dt.date(2025, 1, 1) + dt.timedelta(days=index),
            answers=draw(st.lists(st.integers(1, 5), min_size=26, max_size=26)),
            note=draw(st.sampled_from(["", "plain", "a, comma", 'say "hi"', "two\nlines"])),
        )
        for index in range(draw(st.integers(1, 5)))
    ]
    header = ["client_code", "instrument", "administered_on", *ITEMS, "note"]
    order = draw(st.permutations(range(len(header))))
    header = [header[i] for i in order]
    rows = [
        [[f.code, "scs", f.on.isoformat(), *map(str, f.answers), f.note][i] for i in order]
        for f in forms
    ]
    faults = sorted(set(draw(st.lists(st.sampled_from(FAULTS), min_size=1, max_size=2))))
    faults = faults if draw(st.booleans()) else []
    bom = draw(st.booleans())
    for kind in faults:
        if kind == "row shape":
            damage_rows(draw, rows)
        elif kind != "delimiter":
            position = damage_header(draw, header, kind)
            if kind == "repeat":  # the repeated column gets a cell in every row
                rows = [[*row, "3"] for row in rows]
            if kind == "invisible" and position == 0:
                bom = True  # alone, a byte-order mark there is the file's own: sound

    delimiter = draw(st.sampled_from([";", "\t"])) if "delimiter" in faults else ","
    end = draw(st.sampled_from(["\n", "\r\n"]))

    def record(cells: list[str]) -> str:
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter, lineterminator=end).writerow(cells)
        return out.getvalue()

    records = [record(row) for row in rows]
    for _ in range(draw(st.integers(0, 3))):  # wholly empty rows: benign
        records.insert(draw(st.integers(0, len(records))), draw(st.sampled_from(BLANK_ROWS)) + end)
    text = record(header) + "".join(records)
    return CsvCase((b"\xef\xbb\xbf" if bom else b"") + text.encode(), forms, faults)


def score_csv(path) -> tuple[str, int]:
    out = io.StringIO()
    try:
        call_command("score_csv", "scs", str(path), stdout=out, stderr=io.StringIO())
    except CommandError as error:
        return out.getvalue(), error.returncode
    return out.getvalue(), 0


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=csv_cases())
def test_no_faulty_file_is_ever_scored_or_stored_and_every_sound_one_is_read_exactly(
    world, tmp_path, case
):
    event("faulty" if case.faults else "sound")
    path = tmp_path / "forms.csv"
    path.write_bytes(case.data)
    out, status = score_csv(path)

    with transaction.atomic():
        report = validate(world.clinic, case.data)
        imported = import_valid(report, skip_invalid=True)
        stored = [
            (a.client.code.casefold(), a.administered_on, a.answers)
            for a in Administration.objects.order_by("administered_on").select_related("client")
        ]
        transaction.set_rollback(True)

    if case.faults:
        assert (status, out) == (2, ""), case.faults
        assert report.file_error and imported == 0 and stored == [], case.faults
        return
    scored = list(csv.DictReader(io.StringIO(out)))
    assert status == 0
    assert [row["client_code"] for row in scored] == [f.code for f in case.forms]
    assert [row["total"] for row in scored] == [
        f"{score_response(SCS, dict(enumerate(f.answers, 1))).total:.4f}" for f in case.forms
    ]
    assert [row["note"] for row in scored] == [f.note for f in case.forms]
    assert imported == len(case.forms)
    assert stored == [
        (f.code.casefold(), f.on, {str(n): v for n, v in enumerate(f.answers, 1)})
        for f in case.forms
    ]
