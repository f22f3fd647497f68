"""The import (command and upload page) reads files with the one CSV reader: a file with a row of
the wrong shape, a header fault, another delimiter or encoding imports nothing; empty rows are
skipped and counted."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from assessments.models import Administration
from tests.factories import make_client

HEADER = "client_code,instrument,administered_on," + ",".join(f"item_{n}" for n in range(1, 27))
NEGATIVE = {1, 2, 4, 6, 8, 11, 13, 16, 18, 20, 21, 24, 25}
# Positive items 4, negative items 2: every subscale 4 after reversal, total 4.00 (high).
TRUE_ANSWERS = [str(2 if n in NEGATIVE else 4) for n in range(1, 27)]


def row(code="RC-001", items=None, on="2025-01-20"):
    return ",".join([code, "scs", on, *(TRUE_ANSWERS if items is None else items)])


# The issue's file: RC-005 with one value left out (25 under a 26-item header; the old reader
# stored the values shifted, item 26 blank and prorated: 2.48, low, instead of 4.00, high),
# RC-006 with a stray value after item_9 (stored shifted).
ISSUE_FILE = "\n".join(
    [
        HEADER,
        row("RC-005", TRUE_ANSWERS[1:]),
        row("RC-006", [*TRUE_ANSWERS[:9], "4", *TRUE_ANSWERS[9:]]),
    ]
)


@pytest.fixture
def issue_clients(world):
    make_client(world.clinic, world.clinician, code="RC-005")
    make_client(world.clinic, world.clinician, code="RC-006")


def write(tmp_path, text: str | bytes) -> str:
    path = tmp_path / "forms.csv"
    path.write_bytes(text if isinstance(text, bytes) else (text + "\n").encode())
    return str(path)


def upload(world, content: str | bytes, **extra):
    data = content if isinstance(content, bytes) else content.encode()
    return world.browser("clinic_admin").post(
        reverse("assessments:import_upload"),
        {"file": SimpleUploadedFile("forms.csv", data, "text/csv"), **extra},
    )


@pytest.mark.parametrize("options", [(), ("--skip-invalid",)])
def test_the_issues_ragged_rows_import_nothing_even_when_skipping_invalid_rows(
    world, issue_clients, tmp_path, capsys, options
):
    with pytest.raises(CommandError) as refused:
        call_command("import_assessments", world.clinic.slug, write(tmp_path, ISSUE_FILE), *options)
    message = str(refused.value)
    assert "2 rows do not have one cell per column of the header (29 columns)" in message
    assert "row 2: 28 cells, but the header has 29 columns (1 missing)" in message
    assert "row 3: 30 cells, but the header has 29 columns (1 extra)" in message
    assert message.endswith("nothing imported")
    assert "imported" not in capsys.readouterr().out
    assert not Administration.objects.exists()


def test_the_upload_page_refuses_the_issues_file_with_the_same_row_report(world, issue_clients):
    for extra in ({}, {"skip_invalid": "on"}):
        response = upload(world, ISSUE_FILE, **extra)
        body = response.content.decode()
        assert response.status_code == 400
        assert "Nothing was imported" in body
        assert "row 2: 28 cells, but the header has 29 columns (1 missing)" in body
        assert "row 3: 30 cells, but the header has 29 columns (1 extra)" in body
        assert "Import the valid rows”" not in body  # no point ticking the box
    assert not Administration.objects.exists()


def test_the_issues_rows_once_mended_are_stored_with_their_true_total(
    world, issue_clients, tmp_path
):
    mended = "\n".join([HEADER, row("RC-005"), row("RC-006", ["3"] * 26)])
    call_command("import_assessments", world.clinic.slug, write(tmp_path, mended))
    totals = {a.client.code: a.score.total for a in Administration.objects.all()}
    assert totals == {"RC-005": 4.0, "RC-006": 3.0}


def test_a_repeated_item_column_is_refused_by_name_not_read_from_its_last_copy(world, tmp_path):
    """Found in the issue: with item_3 twice the old reader silently took the last copy."""
    text = "\n".join([f"{HEADER},item_3", row(items=[*TRUE_ANSWERS, "1"])])
    with pytest.raises(CommandError, match="the column item_3 appears twice") as refused:
        call_command("import_assessments", world.clinic.slug, write(tmp_path, text))
    assert "in column 6 (F) and column 30 (AD): remove one" in str(refused.value)
    response = upload(world, text)
    assert b"the column item_3 appears twice" in response.content
    assert not Administration.objects.exists()


def test_wholly_empty_rows_are_skipped_and_counted(world, tmp_path, capsys):
    """Found in the issue: Excel's ",,,," lines made the import refuse a valid file."""
    blank = "," * 28
    text = "\n".join([HEADER, row(), blank, "", row("RC-002"), blank])
    call_command("import_assessments", world.clinic.slug, write(tmp_path, text))
    assert (
        capsys.readouterr()
        .out.strip()
        .endswith("imported 2 administrations into Riverside Counseling; 3 empty rows skipped")
    )
    assert Administration.objects.count() == 2

    response = upload(world, "\n".join([HEADER, row(on="2025-01-21"), blank]))
    assert response.status_code == 200
    assert b"Imported 1 of 1 rows." in response.content
    assert b"1 empty row skipped." in response.content


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "\n".join([HEADER.replace(",", ";"), row().replace(",", ";")]),
            "this file looks separated by semicolons, not commas",
        ),
        (
            "\n".join([HEADER.replace(",", "\t"), row().replace(",", "\t")]),
            "this file looks separated by tabs, not commas",
        ),
        (
            "\n".join([HEADER.replace(",item_1,", ", item_1,"), row()]),
            "row 1: column 4 (D) is &#x27; item_1&#x27;, not item_1: remove the space before",
        ),
        (
            "\n".join([HEADER.replace("client_code", "Client_Code"), row()]),
            "row 1: column 1 (A) is &#x27;Client_Code&#x27;, not client_code: write it exactly",
        ),
    ],
)
def test_a_delimiter_or_header_fault_is_named_not_reported_as_missing_columns(world, text, message):
    """Found in the issue: these files got "missing item_1 ... item_26"."""
    response = upload(world, text)
    body = response.content.decode()
    assert response.status_code == 400
    assert message in body
    assert "missing column" not in body
    assert not Administration.objects.exists()


def test_a_file_that_is_not_utf8_is_refused_naming_the_encoding_and_row(world, tmp_path):
    make_client(world.clinic, world.clinician, code="RC-ZOË")
    data = "\n".join([HEADER, row(), row("RC-ZOË")]).encode("cp1252")
    with pytest.raises(CommandError, match="the file is not UTF-8 text: row 3 holds the byte 0xCB"):
        call_command("import_assessments", world.clinic.slug, write(tmp_path, data))
    response = upload(world, data)
    assert response.status_code == 400
    assert b"the file is not UTF-8 text: row 3 holds the byte 0xCB" in response.content
    assert not Administration.objects.exists()


def test_a_byte_order_mark_and_a_quoted_line_break_are_read_as_a_spreadsheet_shows_them(world):
    text = "\n".join(
        [
            f"{HEADER},note",
            row() + ',"first line\nsecond line"',
            row("NOPE") + ",",
        ]
    )
    response = upload(world, b"\xef\xbb\xbf" + text.encode())
    # The multi-line note keeps its row one row: NOPE is on row 3, as a spreadsheet shows it.
    assert b"row 3: no client with code &#x27;NOPE&#x27;" in response.content
    response = upload(world, b"\xef\xbb\xbf" + text.encode(), skip_invalid="on")
    assert b"Imported 1 of 2 rows." in response.content
    assert Administration.objects.get().client == world.client_record


def test_an_imported_code_finds_its_client_whatever_its_unicode_form_and_refuses_hidden_marks(
    world,
):
    import unicodedata

    from assessments.importing import validate
    from tests.factories import make_client

    make_client(world.clinic, world.clinician, code=unicodedata.normalize("NFC", "ZOË-01"))
    header = "client_code,instrument,administered_on," + ",".join(f"item_{n}" for n in range(1, 27))
    values = ",".join("3" for _ in range(26))
    nfd = unicodedata.normalize("NFD", "zoë-01")
    text = f"{header}\n{nfd},scs,2026-01-20,{values}\nZOE\u200b-01,scs,2026-01-20,{values}\n"
    report = validate(world.clinic, text.encode())
    assert [row.client.code for row in report.valid] == ["ZOË-01"]
    [(line, problem)] = report.problems
    assert line == 3 and "ZERO WIDTH SPACE" in problem
