"""The one CSV reader: what it accepts, what it refuses and how it says so (no database)."""

from __future__ import annotations

import codecs

import pytest

from clinic.csvinput import MAX_LISTED, Columns, CsvInputError, column_label, open_csv

COLUMNS = Columns(("code", "score"), optional=("note",), pattern=r"item_[1-9][0-9]*")


def read(data: bytes, columns: Columns = COLUMNS, size: int = 50_000):
    """(header positions, [(row number, cells)], blank rows, blank row numbers)."""
    with open_csv(data, columns) as csv_file:
        rows = [
            (number, cells)
            for batch in csv_file.batches(size)
            for number, cells in zip(batch.numbers, batch.rows, strict=True)
        ]
        return csv_file.header.positions, rows, csv_file.blank_rows, csv_file.blank_row_numbers


def refusal(data: bytes, columns: Columns = COLUMNS) -> list[str]:
    with pytest.raises(CsvInputError) as refused:
        read(data, columns)
    return refused.value.lines()


def test_rows_come_back_as_wide_as_the_header_numbered_as_a_spreadsheet_shows_them():
    data = b'code,score,x\r\nA,1,"two\r\nlines"\r\n,,\r\n\r\nB,2,\r\n  ,\t, \r\n'
    positions, rows, blank, blank_numbers = read(data)
    assert positions == {"code": 0, "score": 1}
    assert rows == [(2, ["A", "1", "two\r\nlines"]), (5, ["B", "2", ""])]
    assert (blank, blank_numbers) == (3, [3, 4, 6])


def test_batches_split_the_rows_without_losing_or_renumbering_any():
    data = b"code,score\n" + b"".join(b"c%d,%d\n" % (n, n) for n in range(7))
    _positions, rows, _blank, _numbers = read(data, size=3)
    assert [number for number, _cells in rows] == list(range(2, 9))


def test_a_byte_order_mark_is_read_and_rows_read_by_name():
    with open_csv(codecs.BOM_UTF8 + b"score,code,note\n3,A,\n", COLUMNS) as csv_file:
        (row,) = list(csv_file.rows())
    assert (row.number, row.get("code"), row.get("score"), row.get("absent")) == (2, "A", "3", "")


def test_every_row_of_the_wrong_shape_is_reported_and_the_file_refused_at_the_end():
    data = b'code,score\nA,1\nB\nC,3,4\nD,"two\nlines",5\nE,5\n'
    assert refusal(data) == [
        "3 rows do not have one cell per column of the header (2 columns), so nothing in the "
        "file was used. Every row needs exactly one cell per column: fill a missing value or "
        "leave its cell empty, and put quotes around a value that holds a comma.",
        "row 3: 1 cells, but the header has 2 columns (1 missing): its values cannot be matched "
        "to their columns",
        "row 4: 3 cells, but the header has 2 columns (1 extra): its values cannot be matched "
        "to their columns",
        "row 5: 3 cells, but the header has 2 columns (1 extra): its values cannot be matched "
        'to their columns; a cell in it runs over several lines: is a quote (") left open?',
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b'code,score\nA,1\nB,"2\nC,3\n',
            'row 3 opens a quote (") that is never closed: the rest of the file would be one cell',
        ),
        (
            b'code,score\nA,"1"2\n',
            'row 2 has text after the closing quote (") of a cell: a quote inside a quoted cell '
            'is written twice ("")',
        ),
    ],
)
def test_a_quote_left_open_or_closed_too_early_is_refused_not_left_to_swallow_rows(data, message):
    assert refusal(data) == [f"{message}; nothing in the file was used."]


def test_a_quote_inside_an_unquoted_or_a_doubled_quote_inside_a_quoted_cell_is_text():
    _positions, rows, _blank, _numbers = read(b'code,score,note\nA,1,5" tall\nB,2,"say ""hi"""\n')
    assert [cells[2] for _number, cells in rows] == ['5" tall', 'say "hi"']


def test_the_report_lists_the_first_rows_and_counts_the_rest():
    data = b"code,score\n" + b"x\n" * (MAX_LISTED + 5)
    lines = refusal(data)
    assert lines[0].startswith(f"{MAX_LISTED + 5} rows do not have one cell per column")
    assert f"(the first {MAX_LISTED} are listed)" in lines[0]
    assert len(lines) == 1 + MAX_LISTED


def test_a_reader_stops_being_faulty_only_when_it_has_read_every_row():
    data = b"code,score\nA,1\nB\n" + b"C,3\n" * 10
    with open_csv(data, COLUMNS) as csv_file:
        batches = csv_file.batches(2)
        first = next(batches)
        assert (first.rows, csv_file.faulty) == ([["A", "1"], ["C", "3"]], True)
        with pytest.raises(CsvInputError, match="1 row does not have one cell per column"):
            list(batches)


@pytest.mark.parametrize(
    ("header", "problems"),
    [
        (b" code,score", ["column 1 (A) is ' code', not code: remove the space before the name"]),
        (b"code ,score", ["column 1 (A) is 'code ', not code: remove the space after the name"]),
        (b"code,SCORE", ["column 2 (B) is 'SCORE', not score: write it exactly as score"]),
        (
            b"code,\xef\xbb\xbfscore",
            [
                "column 2 (B) is '\\ufeffscore', not score: remove the invisible character before "
                "or in it (a byte-order mark?)"
            ],
        ),
        (
            b"code,score,Item_7 ",
            [
                "column 3 (C) is 'Item_7 ', not item_7: remove the space after the name and write "
                "it exactly as item_7"
            ],
        ),
        (
            b"code,score,note,code",
            ["the column code appears twice, in column 1 (A) and column 4 (D): remove one"],
        ),
        (b"code,note", ["missing column score"]),
        (b"name,value", ["missing columns code, score"]),
    ],
)
def test_a_header_fault_is_named_with_its_cell_and_column(header, problems):
    lines = refusal(header + b"\n1,2,3,4\n")
    assert lines == [
        "the header row is not usable, so nothing in the file was used",
        *(f"row 1: {problem}" for problem in problems),
    ]


def test_columns_the_caller_does_not_read_may_repeat_or_be_blank():
    positions, rows, _blank, _numbers = read(b"x,code,x,,score\n1,A,2,,3\n")
    assert positions == {"code": 1, "score": 4}
    assert rows == [(2, ["1", "A", "2", "", "3"])]


def test_the_missing_columns_message_says_what_the_caller_needs():
    columns = Columns(("item_1", "item_2"), needs="X needs item_1..item_2")
    assert refusal(b"id\n1\n", columns)[1] == (
        "row 1: missing columns item_1, item_2 (X needs item_1..item_2)"
    )


@pytest.mark.parametrize(("delimiter", "name"), [(b";", "semicolons"), (b"\t", "tabs")])
def test_a_file_separated_by_another_delimiter_is_named(delimiter, name):
    data = delimiter.join([b"code", b"score"]) + b"\n" + delimiter.join([b"A", b"1,5"]) + b"\n"
    assert refusal(data) == [
        f"this file looks separated by {name}, not commas: save it from the spreadsheet as "
        '"CSV UTF-8 (Comma delimited) (*.csv)" and try again.'
    ]


def test_a_header_with_semicolons_in_a_column_the_caller_does_not_read_is_fine():
    positions, _rows, _blank, _numbers = read(b"code,score,a;b\nA,1,x\n")
    assert positions == {"code": 0, "score": 1}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            "code,score\nA,1\nB,2\nZoë,3\n".encode("cp1252"),
            "the file is not UTF-8 text: row 4 holds the byte 0xEB",
        ),
        (
            b'code,score\nA,"1\n\xff"\n',
            "the file is not UTF-8 text: row 2 holds the byte 0xFF",
        ),
        (b"\xe9code,score\n", "the file is not UTF-8 text: row 1 holds the byte 0xE9"),
        (b"code,score\n\xe9,1\n", "the file is not UTF-8 text: row 2 holds the byte 0xE9"),
        (b"code,score\nA,1\n\xc3", "the file is not UTF-8 text: row 3 holds the byte 0xC3"),
        ("code,score\n".encode("utf-16"), "this file is UTF-16 text"),
        ("code,score\n".encode("utf-16-le"), "the header holds NUL bytes"),
        (b"PK\x03\x04rest of a workbook", "this is a spreadsheet workbook (.xlsx or .xls)"),
        (b"", "the file is empty: it needs a header row"),
        (b",,\n", "row 1 is empty: the first row must be the header"),
    ],
)
def test_a_file_that_is_not_utf8_csv_text_is_named_for_what_it_is(data, message):
    assert refusal(data)[0].startswith(message)


def test_a_bad_byte_far_into_a_large_file_is_found_in_its_row():
    rows = b"".join(b"c%d,%d\n" % (n, n % 5) for n in range(20_000))
    lines = refusal(b"code,score\n" + rows + b"caf\xe9,1\n")
    assert lines[0].startswith("the file is not UTF-8 text: row 20002 holds the byte 0xE9")


def test_a_missing_file_cannot_be_read(tmp_path):
    assert refusal_of_path(tmp_path / "absent.csv")[0].startswith("cannot read ")


def refusal_of_path(path) -> list[str]:
    with pytest.raises(CsvInputError) as refused, open_csv(path, COLUMNS):
        pass
    return refused.value.lines()


def test_column_labels_are_those_a_spreadsheet_shows():
    assert [column_label(i) for i in (0, 25, 26, 27, 51, 701, 702)] == [
        "column 1 (A)",
        "column 26 (Z)",
        "column 27 (AA)",
        "column 28 (AB)",
        "column 52 (AZ)",
        "column 702 (ZZ)",
        "column 703 (AAA)",
    ]
