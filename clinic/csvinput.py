"""One reader for every CSV file the product accepts: uploads, imports and file tools.

A caller names the columns it reads (`Columns`) and gets the rows back, each exactly as wide as
the header, or a `CsvInputError` whose lines say what is wrong and where. The rules, the same for
every caller:

- Encoding: UTF-8, with or without a byte-order mark (Excel's "CSV UTF-8"). Anything else is
  refused with the row of the first byte that is not UTF-8: Windows code pages (Excel's plain
  "CSV"), Latin-1 and Mac Roman share byte values, so no guess could be trusted. UTF-16 text and
  Excel workbooks are recognised by their first bytes and named.
- Delimiter: the comma. A header that reads as one of the caller's columns only when split on
  semicolons or tabs (European Excel, "Text (Tab delimited)") is refused with a message naming
  the delimiter: a semicolon file often writes decimals with commas, and guessing would risk
  the wrong number.
- Header: the first row. A column the caller reads must be named exactly and once: a name that
  differs only by stray spaces, invisible characters (a second byte-order mark) or case is
  refused naming the cell and its column, and so is a repeated name. Columns the caller does
  not read may be anything, repeated or blank.
- Rows: a quoted cell may hold line breaks and stays one row; a quote left open, or text after
  a closing quote, is refused (an open quote would swallow the rows after it). Row numbers are
  those a spreadsheet shows: the header is row 1, every record (empty ones too) is one row.
- A row whose cells hold nothing but spaces (Excel leaves ",,,," lines) is skipped and counted.
- Every other row has exactly one cell per header column. A row with a cell missing or extra
  cannot be matched to its columns, so the whole file is refused with a report of such rows
  (the first `MAX_LISTED`, and how many in all): the caller stores or scores nothing from it.

Readers yield rows in batches while they read, so a caller can bound memory; the shape report is
raised when the last batch has been read, so a caller writes its results somewhere it can
discard (a transaction, a temporary file) until the reading has finished.

This module imports no feature app: any app may use it.
"""

from __future__ import annotations

import codecs
import csv
import gc
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

MAX_LISTED = 20  # rows named in a report; the rest are counted
BATCH_ROWS = 50_000
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060"
_DELIMITERS = {";": "semicolons", "\t": "tabs"}
_SAVE_AS = 'save it from the spreadsheet as "CSV UTF-8 (Comma delimited) (*.csv)"'
_BLOCK = 1 << 16


class CsvInputError(Exception):
    """The file cannot be used. `message` says why; `rows` lists (row number, problem)."""

    def __init__(self, message: str, rows: list[tuple[int, str]] | None = None):
        self.message = message
        self.rows = rows or []
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        return [self.message, *(f"row {number}: {problem}" for number, problem in self.rows)]


@dataclass(frozen=True)
class Columns:
    """The columns a caller reads by name.

    required: must be present; optional: read when present; pattern: a regular expression for
    further names read when present (e.g. item_<n>). needs: what the required columns are, for
    the message when some are missing (e.g. "SCS needs item_1..item_26").
    """

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    pattern: str = ""
    needs: str = ""

    def reads(self, name: str) -> bool:
        return (
            name in self.required
            or name in self.optional
            or bool(self.pattern and re.fullmatch(self.pattern, name))
        )

    def canonical(self, cell: str) -> str | None:
        """The column name `cell` is meant to be, if it is one this caller reads."""
        name = _plain(cell)
        for known in (*self.required, *self.optional):
            if known.casefold() == name:
                return known
        if self.pattern and re.fullmatch(self.pattern, name, flags=re.IGNORECASE):
            return name
        return None


@dataclass(frozen=True)
class Header:
    names: tuple[str, ...]
    positions: dict[str, int]  # every column the caller reads that is present -> its index

    def __len__(self) -> int:
        return len(self.names)


@dataclass
class Batch:
    """Rows in file order: their numbers as a spreadsheet shows them, and their cells."""

    numbers: list[int] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)


class Row:
    """One row, its cells read by column name ("" for a column the file does not have)."""

    __slots__ = ("cells", "number", "positions")

    def __init__(self, number: int, cells: list[str], positions: dict[str, int]):
        self.number = number
        self.cells = cells
        self.positions = positions

    def get(self, name: str) -> str:
        position = self.positions.get(name)
        return "" if position is None else self.cells[position]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while rows are parsed.

    Rows are lists of strings, which form no reference cycles; but a batch of 50,000 of them
    triggers collections that walk every object in the process, a third of the reading time.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def column_label(index: int) -> str:
    """'column 4 (D)' for index 3: the number and the letters a spreadsheet shows."""
    letters, number = "", index + 1
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return f"column {index + 1} ({letters})"


def _plain(cell: str) -> str:
    """A header cell without stray spaces, invisible characters or case."""
    return cell.translate({ord(c): None for c in _INVISIBLE}).strip().casefold()


class CsvFile:
    """A CSV file being read. Use `open_csv`; then `header`, and `batches()` or `rows()`."""

    def __init__(self, stream: BinaryIO, columns: Columns):
        self._stream = stream
        self.columns = columns
        self.blank_rows = 0  # wholly empty rows skipped
        self.blank_row_numbers: list[int] = []  # the first MAX_LISTED of them
        self.shape_problems: list[tuple[int, str]] = []  # the first MAX_LISTED
        self.faulty_rows = 0
        _refuse_other_formats(stream)
        self._text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        self._reader = csv.reader(self._text, strict=True)  # a quote left open is an error
        self._number = 0  # the row last read
        self.header = self._read_header()

    @property
    def faulty(self) -> bool:
        """A row with the wrong shape has been read: the file will be refused at the end."""
        return bool(self.faulty_rows)

    @property
    def bytes_read(self) -> int:
        """How far into the file the reader is (for a progress bar)."""
        return self._stream.tell()

    def batches(self, size: int = BATCH_ROWS) -> Iterator[Batch]:
        """Every row with content, in batches of `size`. Raises CsvInputError at the end if any
        row had the wrong number of cells, or on the way if the file stops being readable."""
        while True:
            with _collector_paused():
                batch = self._read_batch(size)
            if batch.rows:
                yield batch
            if len(batch) < size:
                break
        if self.faulty_rows:
            raise self._shape_error(len(self.header))

    def _read_batch(self, size: int) -> Batch:
        """Up to `size` rows with content (fewer only at the end of the file)."""
        width = len(self.header)
        batch = Batch()
        numbers, rows = batch.numbers, batch.rows
        number = self._number
        try:
            for cells in self._reader:  # the hot loop: kept lean
                number += 1
                if len(cells) == width and (cells[0].strip() or "".join(cells).strip()):
                    numbers.append(number)
                    rows.append(cells)
                    if len(rows) == size:
                        break
                elif "".join(cells).strip():
                    self._wrong_shape(number, cells, width)
                else:
                    self.blank_rows += 1
                    if len(self.blank_row_numbers) < MAX_LISTED:
                        self.blank_row_numbers.append(number)
        except UnicodeDecodeError:
            raise self._not_utf8() from None
        except csv.Error as exc:
            raise _unreadable(number + 1, exc) from None
        finally:
            self._number = number
        return batch

    def rows(self) -> Iterator[Row]:
        positions = self.header.positions
        for batch in self.batches():
            for number, cells in zip(batch.numbers, batch.rows, strict=True):
                yield Row(number, cells, positions)

    def _read_header(self) -> Header:
        try:
            names = next(self._reader, None)
        except UnicodeDecodeError:
            raise self._not_utf8() from None
        except csv.Error as exc:
            raise _unreadable(1, exc) from None
        self._number = 1
        if names is None:
            raise CsvInputError("the file is empty: it needs a header row with the column names")
        if not "".join(names).strip():
            raise CsvInputError(
                "row 1 is empty: the first row must be the header with the column names"
            )
        if any("\x00" in name for name in names):
            raise CsvInputError(
                "the header holds NUL bytes: this is not a text CSV file (UTF-16 text without "
                f"a byte-order mark, or a spreadsheet?): {_SAVE_AS}."
            )
        return _check_header(names, self.columns)

    def _wrong_shape(self, number: int, cells: list[str], width: int) -> None:
        self.faulty_rows += 1
        if len(self.shape_problems) >= MAX_LISTED:
            return
        difference = len(cells) - width
        problem = (
            f"{len(cells)} cells, but the header has {width} columns "
            f"({abs(difference)} {'extra' if difference > 0 else 'missing'}): "
            "its values cannot be matched to their columns"
        )
        if any("\n" in cell or "\r" in cell for cell in cells):
            problem += '; a cell in it runs over several lines: is a quote (") left open?'
        self.shape_problems.append((number, problem))

    def _shape_error(self, width: int) -> CsvInputError:
        rows = self.faulty_rows
        listed = len(self.shape_problems)
        more = f" (the first {listed} are listed)" if rows > listed else ""
        return CsvInputError(
            f"{rows} {'row does' if rows == 1 else 'rows do'} not have one cell per column of "
            f"the header ({width} columns){more}, so nothing in the file was used. Every row "
            "needs exactly one cell per column: fill a missing value or leave its cell empty, "
            "and put quotes around a value that holds a comma.",
            self.shape_problems,
        )

    def _not_utf8(self) -> CsvInputError:
        offset, byte = _first_bad_byte(self._stream)
        row = _row_at(self._stream, offset)
        return CsvInputError(
            f"the file is not UTF-8 text: row {row} holds the byte 0x{byte:02X}, which is not "
            "UTF-8 (Excel's plain \"CSV\" writes the computer's own code page, e.g. Windows-1252). "
            f"Nothing in the file was used; {_SAVE_AS} and try again."
        )


@contextmanager
def open_csv(source: Path | bytes, columns: Columns) -> Iterator[CsvFile]:
    """Open a file (a path, or the bytes of an upload) and read its header.

    Raises CsvInputError when the file cannot be opened or its header is unusable.
    """
    if isinstance(source, bytes | bytearray):
        yield CsvFile(io.BytesIO(source), columns)
        return
    try:
        stream = open(source, "rb")  # noqa: SIM115 - closed below, after the caller is done
    except OSError as exc:
        raise CsvInputError(f"cannot read {source}: {exc.strerror or exc}") from None
    with stream:
        yield CsvFile(stream, columns)


def _check_header(names: list[str], columns: Columns) -> Header:
    problems: list[str] = []
    positions: dict[str, int] = {}
    meant: set[str] = set()  # names written with stray characters: not also "missing"
    for index, cell in enumerate(names):
        name = columns.canonical(cell)
        if name is None:
            continue
        if cell != name:
            meant.add(name)
            problems.append(
                f"{column_label(index)} is {cell!r}, not {name}: {_how_to_fix(cell, name)}"
            )
        elif name in positions:
            problems.append(
                f"the column {name} appears twice, in {column_label(positions[name])} and "
                f"{column_label(index)}: remove one"
            )
        else:
            positions[name] = index
    missing = [name for name in columns.required if name not in positions and name not in meant]
    if missing and not problems:
        delimiter = _other_delimiter(names, columns)
        if delimiter:
            raise CsvInputError(
                f"this file looks separated by {_DELIMITERS[delimiter]}, not commas: "
                f"{_SAVE_AS} and try again."
            )
    if missing:
        needs = f" ({columns.needs})" if columns.needs else ""
        problems.append(f"missing {_plural(len(missing), 'column')} {', '.join(missing)}{needs}")
    if problems:
        raise CsvInputError(
            "the header row is not usable, so nothing in the file was used",
            [(1, problem) for problem in problems],
        )
    return Header(tuple(names), positions)


def _how_to_fix(cell: str, name: str) -> str:
    stripped = cell.translate({ord(c): None for c in _INVISIBLE})
    fixes = []
    if stripped != cell:
        fixes.append("remove the invisible character before or in it (a byte-order mark?)")
    if stripped != stripped.lstrip():
        fixes.append("remove the space before the name")
    if stripped != stripped.rstrip():
        fixes.append("remove the space after the name")
    if stripped.strip() != name:
        fixes.append(f"write it exactly as {name}")
    return " and ".join(fixes)


def _other_delimiter(names: list[str], columns: Columns) -> str | None:
    """The delimiter that would give this header more of the caller's columns, if any."""
    line = ",".join(names)
    found = sum(1 for name in names if columns.reads(name))
    for delimiter in _DELIMITERS:
        cells = line.split(delimiter)
        if len(cells) > 1 and sum(1 for c in cells if columns.canonical(c)) > found:
            return delimiter
    return None


def _plural(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"


def _refuse_other_formats(stream: BinaryIO) -> None:
    """Workbooks and UTF-16 text, recognised by their first bytes."""
    start = stream.read(4)
    stream.seek(0)
    if start.startswith(b"PK\x03\x04") or start.startswith(b"\xd0\xcf\x11\xe0"):
        raise CsvInputError(
            f"this is a spreadsheet workbook (.xlsx or .xls), not a CSV file: {_SAVE_AS}."
        )
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise CsvInputError(
            f'this file is UTF-16 text (Excel\'s "Unicode Text"), not UTF-8: {_SAVE_AS}.'
        )


def _unreadable(row: int, exc: csv.Error) -> CsvInputError:
    text = str(exc)
    if "unexpected end of data" in text:
        reason = 'opens a quote (") that is never closed: the rest of the file would be one cell'
    elif "expected after" in text:
        reason = (
            'has text after the closing quote (") of a cell: a quote inside a quoted cell '
            'is written twice ("")'
        )
    elif "field larger than field limit" in text:
        reason = (
            f"has a cell longer than {csv.field_size_limit():,} characters: "
            'is a quote (") left open?'
        )
    else:
        reason = f"cannot be read as CSV ({text})"
    return CsvInputError(f"row {row} {reason}; nothing in the file was used.")


def _first_bad_byte(stream: BinaryIO) -> tuple[int, int]:
    """The offset and value of the first byte that is not UTF-8 (read again, in blocks)."""
    stream.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0  # bytes given to the decoder so far
    try:
        while block := stream.read(_BLOCK):
            offset += len(block)
            decoder.decode(block)
        decoder.decode(b"", final=True)  # a character cut short by the end of the file
    except UnicodeDecodeError as exc:
        # exc.object: the bytes the decoder held back from the last block, then this block.
        return offset - len(exc.object) + exc.start, exc.object[exc.start]
    return offset, 0


class _Head(io.RawIOBase):
    """The first `limit` bytes of a stream."""

    def __init__(self, stream: BinaryIO, limit: int):
        self._stream, self._left = stream, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(min(len(buffer), self._left))
        buffer[: len(data)] = data
        self._left -= len(data)
        return len(data)


def _row_at(stream: BinaryIO, offset: int) -> int:
    """The row (as a spreadsheet counts them) that holds the byte at `offset`."""
    stream.seek(0)
    text = io.TextIOWrapper(io.BufferedReader(_Head(stream, offset)), "utf-8-sig", newline="")
    rows, last = 0, ""
    try:
        for cells in csv.reader(text):
            rows += 1
            last = cells[-1] if cells else ""
    except csv.Error:
        pass
    stream.seek(max(offset - 1, 0))
    before = stream.read(1) if offset else b"\n"
    ends_a_row = before in (b"\n", b"\r") and not last.endswith(("\n", "\r"))
    return rows + 1 if ends_a_row else max(rows, 1)
