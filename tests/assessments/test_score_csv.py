"""`manage.py score_csv` end to end: exact output, pass-through, exit codes, no database."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from assessments.management.commands.score_csv import Command

ROOT = Path(__file__).resolve().parents[2]

# The worked SCS response of test_scoring.py: subscales 4.0, 2.0, 3.5, 2.0, 4.5, 2.5 (raw),
# total (4 + 4 + 3.5 + 4 + 4.5 + 3.5) / 6 = 3.9167, composites 52/13 = 4.0 and 28/13 = 2.1538.
SCS_WORKED = {
    5: 4, 12: 4, 19: 5, 23: 3, 26: 4,
    1: 2, 8: 3, 11: 2, 16: 1, 21: 2,
    3: 3, 7: 4, 10: 3, 15: 4,
    4: 2, 13: 2, 18: 3, 25: 1,
    9: 4, 14: 5, 17: 4, 22: 5,
    2: 3, 6: 2, 20: 2, 24: 3,
}  # fmt: skip
# FSCRS sums: inadequate_self 20, hated_self 4, reassured_self 24.
FSCRS_WORKED = {
    1: 1, 2: 2, 4: 3, 6: 4, 7: 0, 14: 1, 17: 2, 18: 3, 20: 4,
    9: 0, 10: 1, 12: 0, 15: 2, 22: 1,
    3: 3, 5: 3, 8: 4, 11: 2, 13: 3, 16: 3, 19: 4, 21: 2,
}  # fmt: skip

SCS_HEADER = (
    "self_kindness,self_judgment,common_humanity,isolation,mindfulness,over_identification,"
    "total,total_method,compassionate_responding,uncompassionate_responding,"
    "band,missing_items,status,error"
)


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def scs_file(tmp_path: Path, rows: list[tuple[str, str, str, dict]]) -> Path:
    """client_id, item_1..item_13, site, item_14..item_26, note: a pass-through in the middle."""
    header = ["client_id", *(f"item_{n}" for n in range(1, 14)), "site"]
    header += [*(f"item_{n}" for n in range(14, 27)), "note"]
    lines = []
    for client, site, note, changes in rows:
        answers = {n: str(v) for n, v in {**SCS_WORKED, **changes}.items()}
        answers = {n: "" if changes.get(n, 0) is None else v for n, v in answers.items()}
        items = [answers[n] for n in range(1, 27)]
        lines.append([client, *items[:13], site, *items[13:], note])
    return write_csv(tmp_path / "scs.csv", header, lines)


def run(*args: str, **options) -> tuple[str, str, int]:
    """call_command in-process: (stdout, stderr, exit status)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("score_csv", *args, stdout=out, stderr=err, **options)
    except CommandError as error:
        return out.getvalue(), f"{err.getvalue()}{error}", error.returncode
    return out.getvalue(), err.getvalue(), 0


def test_score_csv_writes_the_documented_columns_and_exits_1_when_a_row_is_invalid(tmp_path):
    path = scs_file(
        tmp_path,
        [
            ("c1", "North", "complete", {}),
            ("c2", "North", "one blank", {19: None}),
            ("c3", "South", "two blanks", {19: None, 23: None}),
            ("c4", "South", "bad values", {3: 6, 9: 2.5}),
            ("c5", "", "all threes", dict.fromkeys(range(1, 27), 3)),
        ],
    )
    out, err, status = run("scs", str(path))
    assert out == (
        f"client_id,site,note,{SCS_HEADER}\n"
        "c1,North,complete,4.0000,2.0000,3.5000,2.0000,4.5000,2.5000,3.9167,subscale_mean,"
        "4.0000,2.1538,high,,scored,\n"
        # item 19 (a 5) blank: self_kindness 15/4 = 3.75, total 23.25/6 = 3.875,
        # compassionate 47/12 = 3.9167
        "c2,North,one blank,3.7500,2.0000,3.5000,2.0000,4.5000,2.5000,3.8750,subscale_mean,"
        "3.9167,2.1538,high,19,scored,\n"
        "c3,South,two blanks,,2.0000,3.5000,2.0000,4.5000,2.5000,,subscale_mean,"
        ",2.1538,,19 23,incomplete,\n"
        "c4,South,bad values,,,,,,,,,,,,,invalid,"
        "item 3: 6 is outside the response range 1..5; item 9: '2.5' is not a whole number\n"
        "c5,,all threes,3.0000,3.0000,3.0000,3.0000,3.0000,3.0000,3.0000,subscale_mean,"
        "3.0000,3.0000,moderate,,scored,\n"
    )
    assert status == 1
    assert err == "1 of 5 rows are invalid (see their status and error columns)"


def test_a_file_without_invalid_rows_exits_0_with_nothing_on_stderr(tmp_path):
    path = scs_file(tmp_path, [("c1", "North", "", {}), ("c2", "North", "", {19: None, 23: None})])
    out, err, status = run("scs", str(path))
    assert (status, err) == (0, "")  # no progress bar: stderr is not a terminal
    assert out.splitlines()[2].endswith(",19 23,incomplete,")


def test_the_item_mean_total_and_the_output_option(tmp_path):
    path = scs_file(tmp_path, [("c1", "North", "", {})])
    target = tmp_path / "scored.csv"
    out, _err, status = run("scs", str(path), output=str(target), total_method="item_mean")
    assert (out, status) == ("", 0)
    # (52 + 50) / 26 = 3.9231
    assert target.read_text(encoding="utf-8").splitlines()[1] == (
        "c1,North,,4.0000,2.0000,3.5000,2.0000,4.5000,2.5000,3.9231,item_mean,"
        "4.0000,2.1538,high,,scored,"
    )
    assert not list(tmp_path.glob("*.partial"))


def test_fscrs_output_has_empty_totals_and_scored_means_every_subscale_scored(tmp_path):
    def row(client, changes):
        answers = {**FSCRS_WORKED, **changes}
        return [client, *("" if answers[n] is None else str(answers[n]) for n in range(1, 23))]

    path = write_csv(
        tmp_path / "fscrs.csv",
        ["client_id", *(f"item_{n}" for n in range(1, 23))],
        [
            row("f1", {}),
            row("f2", {7: None}),  # inadequate_self 20 / 8 x 9 = 22.5, prorated
            row("f3", {3: None, 5: None}),  # two blanks: reassured_self unscored
            row("f4", {1: 5}),
        ],
    )
    out, _err, status = run("fscrs", str(path))
    assert out == (
        "client_id,inadequate_self,hated_self,reassured_self,total,total_method,band,"
        "missing_items,status,error\n"
        "f1,20.0000,4.0000,24.0000,,,,,scored,\n"
        "f2,22.5000,4.0000,24.0000,,,,7,scored,\n"
        "f3,20.0000,4.0000,,,,,3 5,incomplete,\n"
        "f4,,,,,,,,invalid,item 1: 5 is outside the response range 0..4\n"
    )
    assert status == 1


def test_phq_9_and_gad_7_totals_are_sums_with_band_caseness_and_the_risk_alert(tmp_path):
    def phq(client, values):
        return [client, *("" if v is None else str(v) for v in values)]

    path = write_csv(
        tmp_path / "phq.csv",
        ["client_id", *(f"item_{n}" for n in range(1, 10))],
        [
            phq("p1", [1, 1, 1, 1, 1, 1, 1, 1, 2]),  # 10: moderate, a case, item 9 above 0
            phq("p2", [1, 1, 1, 1, 1, 1, 1, 2, None]),  # one blank: unscored unless prorated
            phq("p3", [None, None, None, None, None, None, None, None, 1]),  # alert, no total
            phq("p4", [3, 3, 3, 3, 3, 3, 3, 3, 0]),  # 24: severe, no alert
        ],
    )
    out, _err, status = run("phq-9", str(path))
    assert status == 0
    assert out == (
        "client_id,total,total_method,band,case,risk_alert,missing_items,status,error\n"
        "p1,10.0000,item_sum,moderate,yes,yes,,scored,\n"
        "p2,,item_sum,,,,9,incomplete,\n"
        "p3,,item_sum,,,yes,1 2 3 4 5 6 7 8,incomplete,\n"
        "p4,24.0000,item_sum,severe,yes,no,,scored,\n"
    )
    prorated, _err, _status = run("phq-9", str(path), prorate_one=True)
    # p2: eight answered items summing to 9: 9 x 9 / 8 = 10.125, a case.
    assert prorated.splitlines()[2] == "p2,10.1250,item_sum,moderate,yes,,9,scored,"

    gad = write_csv(
        tmp_path / "gad.csv",
        [*(f"item_{n}" for n in range(1, 8))],
        [["1", "1", "1", "1", "1", "1", "1"], ["1", "1", "1", "1", "1", "1", "2"]],
    )
    out, _err, status = run("gad-7", str(gad))
    assert out == (
        "total,total_method,band,case,missing_items,status,error\n"
        "7.0000,item_sum,mild,no,,scored,\n"
        "8.0000,item_sum,mild,yes,,scored,\n"
    )


def test_pass_through_columns_come_out_byte_identical(tmp_path):
    awkward = ["007", "NA", "  spaced  ", "1.50", "", "a,b", 'say "hi"', "Zoë", "nan", "TRUE"]
    header = ["id", "note", *(f"item_{n}" for n in range(1, 13)), "note"]  # a repeated name
    rows = [[value, f"{value}|2", *(["3"] * 12), value] for value in awkward]
    path = write_csv(tmp_path / "short.csv", header, rows)
    out, _err, status = run("scs-sf", str(path))
    assert status == 0
    scored = list(csv.reader(io.StringIO(out)))
    assert scored[0][:3] == ["id", "note", "note"]
    assert [line[:3] for line in scored[1:]] == [[v, f"{v}|2", v] for v in awkward]
    raw_lines = path.read_text(encoding="utf-8").splitlines()[1:]
    for raw, line in zip(raw_lines, out.splitlines()[1:], strict=True):
        assert line.startswith(raw.split(",3,3,3,3,3,3,3,3,3,3,3,3,")[0] + ",")


def test_small_chunks_give_the_same_output_as_one_chunk(tmp_path, monkeypatch):
    rows = [(f"c{n}", "North", "", {19: None} if n % 3 else {}) for n in range(7)]
    path = scs_file(tmp_path, rows)
    whole, _, _ = run("scs", str(path))
    monkeypatch.setattr(Command, "chunk_rows", 2)
    assert run("scs", str(path))[0] == whole


def test_a_file_with_only_a_header_gives_only_the_header(tmp_path):
    path = write_csv(tmp_path / "empty.csv", ["id", *(f"item_{n}" for n in range(1, 27))], [])
    assert run("scs", str(path)) == (f"id,{SCS_HEADER}\n", "", 0)


def _missing_columns(tmp_path):
    return write_csv(tmp_path / "in.csv", ["id", "item_1", "item_2"], [["a", "1", "2"]])


def _repeated_item_column(tmp_path):
    header = [*(f"item_{n}" for n in range(1, 27)), "item_3"]
    return write_csv(tmp_path / "in.csv", header, [["3"] * 27])


def _empty_file(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("make_file", "args", "message"),
    [
        (_missing_columns, ("scs",), "row 1: missing columns item_3, item_4,"),
        (_repeated_item_column, ("scs",), "the column item_3 appears twice"),
        (_empty_file, ("scs",), "the file is empty"),
        (None, ("scs",), "cannot read"),
        (_missing_columns, ("phq9",), "unknown instrument 'phq9'"),
        (_missing_columns, ("scs", "--total-method", "median"), "unknown total method 'median'"),
        (_missing_columns, ("fscrs", "--total-method", "item_mean"), "fscrs has no total"),
    ],
)
def test_an_unusable_file_or_instrument_exits_2_with_a_clear_message(
    tmp_path, make_file, args, message
):
    path = make_file(tmp_path) if make_file else tmp_path / "absent.csv"
    code, *rest = args
    _out, err, status = run(code, str(path), *rest)
    assert status == 2
    assert message in err


def test_the_command_runs_without_a_database_and_returns_real_exit_codes(tmp_path):
    valid = scs_file(tmp_path, [("c1", "North", "", {})])
    invalid = write_csv(tmp_path / "bad.csv", [f"item_{n}" for n in range(1, 27)], [["9"] * 26])
    env = {**os.environ, "DATABASE_URL": "postgres://nobody@127.0.0.1:1/unreachable"}

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", "score_csv", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    ok = manage("scs", str(valid))
    assert (ok.returncode, ok.stderr) == (0, "")
    assert ok.stdout.splitlines()[1].startswith("c1,North,,4.0000,")
    bad = manage("scs", str(invalid))
    assert bad.returncode == 1
    assert "1 of 1 rows are invalid" in bad.stderr
    unusable = manage("scs", str(tmp_path / "absent.csv"))
    assert unusable.returncode == 2
    assert "cannot read" in unusable.stderr


def test_a_row_with_a_missing_or_extra_field_refuses_the_whole_file(tmp_path):
    """Found in audit: an extra field in the first row made pandas take the first column as
    the index, shifting every row and scoring the whole file wrongly with exit 0; a missing
    field was silently scored as a blank item. Then such rows were reported invalid while the
    others were scored; now, as in every CSV input, the file is refused with a row report."""
    answers = list("23433243343324333234323343")  # one digit per item
    header = ["id", *(f"item_{n}" for n in range(1, 27))]
    rows = [
        ["e1", *answers, "3"],  # one field too many
        ["e2", *answers],
        ["e3", *answers[:-1]],  # one field missing
        ["e4", *answers, *["9"] * 50],  # far too many
        ["e5", *answers],
    ]
    path = write_csv(tmp_path / "ragged.csv", header, rows)
    target = tmp_path / "scored.csv"
    target.write_text("an earlier result\n", encoding="utf-8")

    out, err, status = run("scs", str(path))
    assert (status, out) == (2, "")
    assert "3 rows do not have one cell per column of the header (27 columns)" in err
    assert "row 2: 28 cells, but the header has 27 columns (1 extra)" in err
    assert "row 4: 26 cells, but the header has 27 columns (1 missing)" in err
    assert "row 5: 77 cells, but the header has 27 columns (50 extra)" in err
    assert "row 3:" not in err and "row 6:" not in err

    assert run("scs", str(path), output=str(target))[2] == 2
    assert target.read_text(encoding="utf-8") == "an earlier result\n"  # left as it was
    assert not list(tmp_path.glob("*.partial"))

    fixed = write_csv(tmp_path / "fixed.csv", header, [rows[1], rows[4]])
    out, _err, status = run("scs", str(fixed))
    scored = list(csv.DictReader(io.StringIO(out)))
    assert status == 0
    assert [row["self_kindness"] for row in scored] == ["3.0000", "3.0000"]  # 5, 12, 19, 23, 26


SCS_25_AND_27 = (
    # The issue's input: RC-005 has one value left out, RC-006 a stray value after item_9.
    "client_code,instrument,administered_on," + ",".join(f"item_{n}" for n in range(1, 27)),
    "RC-005,scs,2025-01-20," + ",".join(["5"] * 5 + ["1"] * 5 + ["5"] * 15),
    "RC-006,scs,2025-01-20," + ",".join(["3"] * 9 + ["4"] + ["3"] * 17),
)


def test_the_issues_file_with_25_and_27_values_is_refused_not_scored(tmp_path):
    path = tmp_path / "forms.csv"
    path.write_text("\n".join(SCS_25_AND_27) + "\n", encoding="utf-8")
    out, err, status = run("scs", str(path))
    assert (status, out) == (2, "")
    assert "row 2: 28 cells, but the header has 29 columns (1 missing)" in err
    assert "row 3: 30 cells, but the header has 29 columns (1 extra)" in err


def test_wholly_empty_rows_are_skipped_and_counted_not_scored_incomplete(tmp_path):
    """Found in the issue: Excel's ",,,," lines came out as incomplete administrations."""
    path = scs_file(tmp_path, [("c1", "North", "", {}), ("c2", "South", "", {})])
    lines = path.read_text(encoding="utf-8").splitlines()
    blank = "," * 28
    path.write_text("\n".join([lines[0], lines[1], blank, "", lines[2], blank]) + "\n")

    out, err, status = run("scs", str(path))
    assert status == 0
    assert [row.split(",")[0] for row in out.splitlines()[1:]] == ["c1", "c2"]
    assert err == "skipped 3 empty rows (rows 3, 4, 6)\n"
    assert run("scs", str(path), verbosity=0)[1] == ""
    _out, err, _status = run("scs", str(path), verbosity=2)
    assert err.splitlines()[-1] == "2 rows: 2 scored, 0 incomplete, 0 invalid"


def test_a_quoted_line_break_in_a_pass_through_cell_stays_in_its_row(tmp_path):
    path = scs_file(tmp_path, [("c1", "North", "first line\nsecond line", {}), ("c2", "", "", {})])
    out, _err, status = run("scs", str(path))
    scored = list(csv.DictReader(io.StringIO(out)))
    assert status == 0
    assert [row["note"] for row in scored] == ["first line\nsecond line", ""]
    assert scored[0]["total"] == scored[1]["total"] == "3.9167"


def test_a_byte_order_mark_is_read_as_excel_writes_it(tmp_path):
    path = scs_file(tmp_path, [("c1", "North", "", {})])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    out, _err, status = run("scs", str(path))
    assert status == 0
    assert out.startswith("client_id,site,note,") and "3.9167" in out


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            lambda text: text.replace(",", ";"),
            "this file looks separated by semicolons, not commas",
        ),
        (lambda text: text.replace(",", "\t"), "this file looks separated by tabs, not commas"),
        (
            lambda text: text.replace(",item_1,", ", item_1,", 1),
            "row 1: column 2 (B) is ' item_1', not item_1: remove the space before the name",
        ),
        (
            lambda text: text.replace(",item_26,", ",Item_26,", 1),
            "row 1: column 28 (AB) is 'Item_26', not item_26: write it exactly as item_26",
        ),
        (
            lambda text: text.replace(",note\n", ",item_3\n", 1),
            "row 1: the column item_3 appears twice, in column 4 (D) and column 29 (AC)",
        ),
    ],
)
def test_a_header_or_delimiter_fault_is_named_not_reported_as_missing_items(
    tmp_path, damage, message
):
    path = scs_file(tmp_path, [("c1", "North", "", {})])
    path.write_text(damage(path.read_text(encoding="utf-8")), encoding="utf-8")
    out, err, status = run("scs", str(path))
    assert (status, out) == (2, "")
    assert message in err
    assert "missing" not in err


def test_a_file_that_is_not_utf8_is_refused_naming_the_encoding_and_the_row(tmp_path):
    path = scs_file(tmp_path, [("c1", "North", "", {}), ("c2", "Zoë's", "", {})])
    path.write_bytes(path.read_text(encoding="utf-8").encode("cp1252"))
    out, err, status = run("scs", str(path))
    assert (status, out) == (2, "")
    assert "the file is not UTF-8 text: row 3 holds the byte 0xEB" in err
    assert 'save it from the spreadsheet as "CSV UTF-8 (Comma delimited) (*.csv)"' in err
