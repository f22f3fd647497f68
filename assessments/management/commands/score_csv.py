"""`manage.py score_csv`: score a CSV file of administrations, without the database.

The file is read in chunks of rows (bounded memory), every cell as text, so pass-through columns
come out exactly as they went in; the item columns are parsed and scored by
`assessments.scoring.score_frame`, which gives the same numbers as `score_response`.
"""

from __future__ import annotations

import csv
import os
import tempfile
from argparse import RawDescriptionHelpFormatter
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.core.management.base import BaseCommand, CommandError, DjangoHelpFormatter
from tqdm import tqdm

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

HELP = """\
Score a CSV file of administrations of one instrument (scs, scs-sf or fscrs). Needs no database.

Input: a header row with columns item_1..item_N (N = the instrument's number of items); a blank
cell is a blank item. Every other column is passed through unchanged and in order.

Output (stdout unless --output): the pass-through columns, one column per subscale (named by its
code), total, total_method, the composites (SCS: compassionate_responding,
uncompassionate_responding), band, missing_items (blank item numbers, space-separated), status
and error. Scores have 4 decimals; total_method is filled on every row that is not invalid.
SCS negative subscales (self_judgment, isolation, over_identification) are means of raw
responses: higher = more self-criticism.

status:
  scored      every subscale is scored, so the total is too; a subscale may be prorated under
              the missing-item rule (one blank in a subscale of four or more items). The FSCRS
              has no total (its total columns stay empty): scored = all three subscales scored.
  incomplete  blanks leave a subscale, and so the total, unscored.
  invalid     a value is out of range or not a whole number; error names the item and value.

Exit status: 0 when every row is scored or incomplete, 1 when any row is invalid, 2 when the
file or the instrument is unusable (unreadable file, missing item columns, unknown instrument
or total method).
"""

CHUNK_ROWS = 50_000  # rows read, scored and written at a time: bounds the memory used
DECIMALS = 4
PROGRESS_MIN_BYTES = 4 * 1024 * 1024  # smaller files finish before a bar would help


class UnusableInputError(Exception):
    """The file cannot be scored at all (exit status 2)."""


@dataclass(frozen=True)
class Layout:
    """Where the item and pass-through columns are in the input, by position."""

    header: list[str]
    item_positions: list[int]  # item_1..item_N
    passthrough_positions: list[int]


@dataclass
class Summary:
    rows: int = 0
    scored: int = 0
    incomplete: int = 0
    invalid: int = 0

    def add(self, status: pd.Series) -> None:
        counts = status.value_counts()
        self.rows += len(status)
        self.scored += int(counts.get(STATUS_SCORED, 0))
        self.incomplete += int(counts.get(STATUS_INCOMPLETE, 0))
        self.invalid += int(counts.get(STATUS_INVALID, 0))


def read_layout(path: Path, instrument: Instrument) -> Layout:
    """Check the header row: every item column present, once."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UnusableInputError(f"cannot read {path}: {exc}") from exc
    if not header:
        raise UnusableInputError(f"{path} has no header row")
    wanted = item_columns(instrument)
    positions: dict[str, int] = {}
    for position, name in enumerate(header):
        if name in positions and name in wanted:
            raise UnusableInputError(f"{path}: column {name} appears more than once")
        positions.setdefault(name, position)
    absent = [name for name in wanted if name not in positions]
    if absent:
        raise UnusableInputError(
            f"{path}: missing item columns {', '.join(absent)} "
            f"({instrument.short_name} needs item_1..item_{instrument.item_count})"
        )
    item_positions = [positions[name] for name in wanted]
    passthrough = sorted(set(range(len(header))) - set(item_positions))
    return Layout(header, item_positions, passthrough)


def score_csv_file(
    instrument: Instrument,
    path: Path,
    write: Callable[[str], Any],
    *,
    total_method: str | None = None,
    layout: Layout | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: tqdm | None = None,
) -> Summary:
    """Score `path` chunk by chunk, passing the output text to `write`; return the counts.

    Raises UnusableInputError for a file that cannot be scored at all.
    """
    layout = layout or read_layout(path, instrument)
    names = item_columns(instrument)
    header = [layout.header[p] for p in layout.passthrough_positions]
    header += result_columns(instrument)
    summary = Summary()
    width = len(layout.header)
    ragged, widest = _ragged_rows(path, width)
    first_row = 0
    for chunk, bytes_read in _read_chunks(path, widest, layout.item_positions, chunk_rows):
        items = chunk.iloc[:, layout.item_positions].set_axis(names, axis=1)
        scores = score_frame(instrument, items, total_method)
        if ragged:
            scores = _mark_ragged(scores, ragged, first_row, width)
        first_row += len(chunk)
        scored = pd.concat([chunk.iloc[:, layout.passthrough_positions], _as_text(scores)], axis=1)
        write(_to_csv(scored, header if summary.rows == 0 else None))
        summary.add(scores["status"])
        if progress is not None:
            progress.update(bytes_read - progress.n)
    if summary.rows == 0:
        write(_to_csv(pd.DataFrame(columns=range(len(header))), header))
    return summary


def _ragged_rows(path: Path, width: int) -> tuple[dict[int, int], int]:
    """Data rows (0-based, blank lines skipped as pandas does) whose number of fields differs
    from the header's, with that number; and the widest row.

    A row with a missing or an extra field is not a row with a blank cell: it is reported
    invalid in its own row, and it must not shift the columns of any other row. The csv
    module's reader (C) counts fields quickly, quoted line breaks included.
    """
    ragged: dict[int, int] = {}
    widest = width
    row = 0
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = csv.reader(handle)
            next(rows, None)  # the header
            for fields in rows:
                if not fields:
                    continue
                if len(fields) != width:
                    ragged[row] = len(fields)
                    widest = max(widest, len(fields))
                row += 1
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UnusableInputError(f"cannot read {path}: {exc}") from exc
    return ragged, widest


def _mark_ragged(
    scores: pd.DataFrame, ragged: dict[int, int], first_row: int, width: int
) -> pd.DataFrame:
    """Rows of this chunk with the wrong number of fields become invalid, scores cleared."""
    rows = [row - first_row for row in ragged if first_row <= row < first_row + len(scores)]
    if not rows:
        return scores
    scores = scores.copy()
    at = scores.index[rows]
    keep = {"status", "error"}
    scores.loc[at, [c for c in scores.columns if c not in keep]] = None
    scores.loc[at, "status"] = STATUS_INVALID
    scores.loc[at, "error"] = [
        f"row {first_row + row + 2} has {ragged[first_row + row]} fields; the header has {width}"
        for row in rows
    ]
    return scores


def _read_chunks(
    path: Path, width: int, item_positions: list[int], chunk_rows: int
) -> Iterator[tuple[pd.DataFrame, int]]:
    """Non-empty chunks of rows, every cell as text, with positional column names.

    Pass-through columns are read with dtype=str and item columns as plain Python strings
    (object), which parse faster; no cell becomes NaN (keep_default_na=False). Columns are
    named by position because the original names may repeat and pandas would rename them.
    Also yields how far into the file the reader is, for the progress bar.
    """
    dtypes = defaultdict(lambda: str, dict.fromkeys(item_positions, object))
    try:
        with path.open("rb") as handle:
            # Positional names as wide as the widest row, and no index column: a row with
            # extra fields can then never shift the others (see _ragged_rows).
            reader = pd.read_csv(
                handle,
                header=None,
                skiprows=1,
                names=list(range(width)),
                index_col=False,
                dtype=dtypes,
                keep_default_na=False,
                encoding="utf-8-sig",
                chunksize=chunk_rows,
            )
            with reader:
                while (chunk := _next_chunk(reader, path)) is not None:
                    if len(chunk):
                        yield chunk, handle.tell()
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UnusableInputError(f"cannot read {path}: {exc}") from exc


def _next_chunk(reader: Iterator[pd.DataFrame], path: Path) -> pd.DataFrame | None:
    try:
        return next(reader)
    except StopIteration:
        return None
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise UnusableInputError(f"cannot read {path}: {exc}") from exc


def _to_csv(frame: pd.DataFrame, header: list[str] | None) -> str:
    """CSV text of `frame` (all text by now), with `header` as the first line if given."""
    return frame.to_csv(
        index=False, header=header if header is not None else False, lineterminator="\n"
    )


def _as_text(scores: pd.DataFrame) -> pd.DataFrame:
    """`score_frame`'s result with every score as text (see `_fixed_decimals`)."""
    return pd.DataFrame(
        {
            name: _fixed_decimals(column) if column.dtype.kind == "f" else column
            for name, column in scores.items()
        },
        index=scores.index,
    )


def _fixed_decimals(scores: pd.Series) -> pd.Series:
    """Scores as text with DECIMALS decimals, NaN as "": formatted once per distinct value.

    Scores take few distinct values (small sums over small counts), so this is much faster
    than pandas' per-cell float_format, and gives the same text.
    """
    codes, uniques = pd.factorize(scores, use_na_sentinel=True)
    texts = np.array([f"{value:.{DECIMALS}f}" for value in uniques] + [""], dtype=object)
    return pd.Series(texts[codes], index=scores.index, dtype=object)


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
        parser.add_argument("instrument", help="instrument code: scs, scs-sf or fscrs")
        parser.add_argument("input", help="CSV file with a header row and item_1..item_N")
        parser.add_argument("--output", "-o", help="write the scored CSV here, not to stdout")
        parser.add_argument(
            "--total-method",
            help="SCS: subscale_mean (default) or item_mean; SCS-SF: item_mean; FSCRS: none",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        instrument = self._instrument(options["instrument"])
        try:
            method = resolve_total_method(instrument, options["total_method"])
        except ScoringError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        path = Path(options["input"])
        try:
            layout = read_layout(path, instrument)
            self._warn_about_name_clashes(layout, instrument)
            with self._output(options["output"]) as write, self._progress(path) as progress:
                summary = score_csv_file(
                    instrument,
                    path,
                    write,
                    total_method=method,
                    layout=layout,
                    chunk_rows=self.chunk_rows,
                    progress=progress,
                )
        except UnusableInputError as exc:
            raise CommandError(str(exc), returncode=2) from exc
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
    def _output(self, target: str | None) -> Iterator[Callable[[str], Any]]:
        """stdout, or a temporary file next to the target, renamed into place when done."""
        if target is None:
            yield lambda text: self.stdout.write(text, ending="")
            return
        directory = Path(target).resolve().parent
        try:
            descriptor, temporary = tempfile.mkstemp(dir=directory, suffix=".partial")
        except OSError as exc:
            raise UnusableInputError(f"cannot write {target}: {exc}") from exc
        try:
            os.chmod(temporary, 0o666 & ~_umask())  # as an ordinary new file, not mkstemp's 0600
            with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
                yield handle.write
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
