"""`manage.py score_csv`: score a CSV file of administrations, without the database.

The file is read by `clinic.csvinput` (the reader every CSV input uses) in batches of rows
(bounded memory), every cell as text, so pass-through columns come out exactly as they went in;
the item columns are scored by `assessments.scoring.score_frame`, which gives the same numbers
as `score_response`. The output is written to a temporary file and only put in place (or copied
to stdout) once the whole input has been read: a file the reader refuses leaves no output.
"""

from __future__ import annotations

import csv
import os
import tempfile
from argparse import RawDescriptionHelpFormatter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.core.management.base import BaseCommand, CommandError, DjangoHelpFormatter
from tqdm import tqdm

from assessments.csvcolumns import score_columns
from assessments.instruments import Instrument, UnknownInstrumentError, get_instrument
from assessments.scoring import (
    STATUS_INCOMPLETE,
    STATUS_INVALID,
    STATUS_SCORED,
    ScoringError,
    item_columns,
    resolve_total_method,
    result_columns,
    score_frame,
)
from clinic.csvinput import CsvFile, CsvInputError, Header, open_csv

HELP = """\
Score a CSV file of administrations of one instrument (scs, scs-sf, fscrs, phq-9 or gad-7).
Needs no database.

Input: a CSV file (UTF-8, comma-separated) with a header row naming the columns item_1..item_N
(N = the instrument's number of items), each exactly and once; a blank cell is a blank item.
Every other column is passed through unchanged and in order. Rows whose cells are all empty are
skipped (no output row) and counted on stderr. Every other row must have one cell per header
column: if any row has a cell missing or extra, the file is refused as a whole (exit status 2,
the rows listed on stderr, no output written), because its values cannot be matched to their
columns. The same rules hold for every CSV file Selfkind reads (see README).

Output (stdout unless --output): the pass-through columns, one column per subscale (named by its
code), total, total_method, the composites (SCS: compassionate_responding,
uncompassionate_responding), band, case (PHQ-9 and GAD-7: yes when the total reaches caseness,
10 and 8), risk_alert (PHQ-9: yes when item 9 is answered above 0, even when the total is not
scored; empty when item 9 is blank), missing_items (blank item numbers, space-separated), status
and error. Scores have 4 decimals; total_method is filled on every row that is not invalid.
SCS negative subscales (self_judgment, isolation, over_identification) are means of raw
responses: higher = more self-criticism. PHQ-9 and GAD-7 totals are sums of their items
(item_sum) and need every item, unless --prorate-one allows one blank item (the mean of the
answered items x the number of items, as a clinic may choose).

status:
  scored      every subscale is scored, so the total is too; a subscale may be prorated under
              the missing-item rule (one blank in a subscale of four or more items). The FSCRS
              has no total (its total columns stay empty): scored = all three subscales scored.
              PHQ-9 and GAD-7: scored = the total is scored.
  incomplete  blanks leave a subscale, and so the total, unscored.
  invalid     a value is out of range or not a whole number; error names the item and value.

Exit status: 0 when every row is scored or incomplete, 1 when any row is invalid, 2 when the
file or the instrument is unusable (unreadable file, not UTF-8, not comma-separated, a header
problem, a row with the wrong number of cells, unknown instrument or total method).
"""

CHUNK_ROWS = 50_000  # rows read, scored and written at a time: bounds the memory used
DECIMALS = 4
PROGRESS_MIN_BYTES = 4 * 1024 * 1024  # smaller files finish before a bar would help
_COPY_BLOCK = 1 << 20


@dataclass(frozen=True)
class Layout:
    """Where the item and pass-through columns are in the input, by position."""

    header: tuple[str, ...]
    item_positions: list[int]  # item_1..item_N
    passthrough_positions: list[int]

    @classmethod
    def of(cls, header: Header, instrument: Instrument) -> Layout:
        items = [header.positions[name] for name in item_columns(instrument)]
        passthrough = sorted(set(range(len(header))) - set(items))
        return cls(header.names, items, passthrough)


@dataclass
class Summary:
    rows: int = 0
    scored: int = 0
    incomplete: int = 0
    invalid: int = 0
    blank_rows: int = 0
    blank_row_numbers: list[int] = field(default_factory=list)

    def add(self, status: pd.Series) -> None:
        counts = status.value_counts()
        self.rows += len(status)
        self.scored += int(counts.get(STATUS_SCORED, 0))
        self.incomplete += int(counts.get(STATUS_INCOMPLETE, 0))
        self.invalid += int(counts.get(STATUS_INVALID, 0))


def score_csv_file(
    instrument: Instrument,
    source: CsvFile,
    out: Any,
    *,
    total_method: str | None = None,
    allow_proration: bool = False,
    chunk_rows: int = CHUNK_ROWS,
    progress: tqdm | None = None,
) -> Summary:
    """Score the rows of `source` batch by batch, writing the scored CSV to `out` (a text file);
    return the counts.

    Raises CsvInputError for a file that cannot be scored, possibly after writing part of the
    output: `out` must be a file that the caller discards then.
    """
    layout = Layout.of(source.header, instrument)
    names = item_columns(instrument)
    writer = csv.writer(out, lineterminator="\n")
    passthrough = [layout.header[position] for position in layout.passthrough_positions]
    writer.writerow([*passthrough, *result_columns(instrument)])
    summary = Summary()
    for batch in source.batches(chunk_rows):
        if source.faulty:
            continue  # the file will be refused: score no more, only read on for the report
        cells = np.array(batch.rows, dtype=object)
        items = pd.DataFrame(
            {
                name: cells[:, position]
                for name, position in zip(names, layout.item_positions, strict=True)
            }
        )
        scores = score_frame(instrument, items, total_method, allow_proration=allow_proration)
        columns = [cells[:, position] for position in layout.passthrough_positions]
        columns += [_as_text(column) for _name, column in scores.items()]
        writer.writerows(zip(*columns, strict=True))
        summary.add(scores["status"])
        if progress is not None:
            progress.update(source.bytes_read - progress.n)
    summary.blank_rows = source.blank_rows
    summary.blank_row_numbers = source.blank_row_numbers
    return summary


def _as_text(scores: pd.Series) -> np.ndarray:
    """A column of `score_frame`'s result as text: scores with DECIMALS decimals, NaN as "".

    Scores take few distinct values (small sums over small counts), so each distinct value is
    formatted once: much faster than formatting every cell.
    """
    if scores.dtype.kind != "f":
        return scores.to_numpy()
    codes, uniques = pd.factorize(scores, use_na_sentinel=True)
    texts = np.array([f"{value:.{DECIMALS}f}" for value in uniques] + [""], dtype=object)
    return texts[codes]


def _skipped(summary: Summary) -> str:
    """'skipped 2 empty rows (rows 5, 9)': the rows the reader listed, and how many more."""
    count, numbers = summary.blank_rows, summary.blank_row_numbers
    listed = ", ".join(str(number) for number in numbers)
    more = f" and {count - len(numbers)} more" if count > len(numbers) else ""
    return (
        f"skipped {count} empty {'row' if count == 1 else 'rows'} "
        f"({'row' if count == 1 else 'rows'} {listed}{more})"
    )


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class _HelpFormatter(DjangoHelpFormatter, RawDescriptionHelpFormatter):
    """Django's option order, with the description's line breaks kept."""


def _plain(text: str) -> str:
    return text


class _RawStream:
    """Lets tqdm redraw on a Django OutputWrapper.

    The wrapper would end every write with a newline, and colour stderr as an error.
    """

    def __init__(self, wrapper: Any):
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, style_func=_plain, ending="")

    def flush(self) -> None:
        self.wrapper.flush()


class Command(BaseCommand):
    help = HELP
    requires_system_checks: list[str] = []  # a plain file tool: no database, no checks
    chunk_rows = CHUNK_ROWS

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser) -> None:
        parser.add_argument("instrument", help="instrument code: scs, scs-sf, fscrs, phq-9, gad-7")
        parser.add_argument("input", help="CSV file with a header row and item_1..item_N")
        parser.add_argument("--output", "-o", help="write the scored CSV here, not to stdout")
        parser.add_argument(
            "--total-method",
            help="SCS: subscale_mean (default) or item_mean; SCS-SF: item_mean; FSCRS: none; "
            "PHQ-9 and GAD-7: item_sum",
        )
        parser.add_argument(
            "--prorate-one",
            action="store_true",
            help="PHQ-9 and GAD-7: score a total with one blank item, prorated",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        instrument = self._instrument(options["instrument"])
        try:
            method = resolve_total_method(instrument, options["total_method"])
        except ScoringError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        path = Path(options["input"])
        try:
            with open_csv(path, score_columns(instrument)) as source:
                self._warn_about_name_clashes(Layout.of(source.header, instrument), instrument)
                with self._output(options["output"]) as out, self._progress(path) as progress:
                    summary = score_csv_file(
                        instrument,
                        source,
                        out,
                        total_method=method,
                        allow_proration=options["prorate_one"],
                        chunk_rows=self.chunk_rows,
                        progress=progress,
                    )
        except CsvInputError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        if summary.blank_rows and options["verbosity"] >= 1:
            self.stderr.write(_skipped(summary))
        if options["verbosity"] >= 2:
            self.stderr.write(
                f"{summary.rows} rows: {summary.scored} scored, "
                f"{summary.incomplete} incomplete, {summary.invalid} invalid"
            )
        if summary.invalid:
            raise CommandError(
                f"{summary.invalid} of {summary.rows} rows are invalid "
                "(see their status and error columns)",
                returncode=1,
            )

    def _instrument(self, code: str) -> Instrument:
        try:
            return get_instrument(code.lower())
        except UnknownInstrumentError as exc:
            raise CommandError(str(exc), returncode=2) from exc

    def _warn_about_name_clashes(self, layout: Layout, instrument: Instrument) -> None:
        outputs = set(result_columns(instrument))
        for position in layout.passthrough_positions:
            if layout.header[position] in outputs:
                self.stderr.write(
                    f"warning: input column {layout.header[position]!r} is passed through and "
                    "also names an output column"
                )

    @contextmanager
    def _output(self, target: str | None) -> Iterator[Any]:
        """A text file to write the output to: a temporary file, renamed to the target or
        copied to stdout once the block has finished without an exception (else removed)."""
        if target is None:
            with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as spool:
                yield spool
                spool.seek(0)
                while block := spool.read(_COPY_BLOCK):
                    self.stdout.write(block, ending="")
            return
        directory = Path(target).resolve().parent
        try:
            descriptor, temporary = tempfile.mkstemp(dir=directory, suffix=".partial")
        except OSError as exc:
            raise CommandError(f"cannot write {target}: {exc}", returncode=2) from exc
        try:
            os.chmod(temporary, 0o666 & ~_umask())  # as an ordinary new file, not mkstemp's 0600
            with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
                yield handle
            os.replace(temporary, target)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)

    @contextmanager
    def _progress(self, path: Path) -> Iterator[tqdm | None]:
        """A progress bar on stderr for large files, only when stderr is a terminal."""
        size = path.stat().st_size if path.exists() else 0
        if not self.stderr.isatty() or size < PROGRESS_MIN_BYTES:
            yield None
            return
        with tqdm(
            total=size, unit="B", unit_scale=True, desc=path.name, file=_RawStream(self.stderr)
        ) as bar:
            yield bar
