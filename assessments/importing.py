"""Import of scored paper forms from a clinic's CSV (columns client_code, instrument,
administered_on, item_1..). The file is read by `clinic.csvinput`, the reader every CSV input
uses: a file it refuses (encoding, delimiter, header, a row with a cell missing or extra) imports
nothing, whatever the options; wholly empty rows are skipped and counted. Every other row is
validated before anything is written; by default nothing is imported unless every row is valid;
an administration is never half created."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from assessments import projections
from assessments.csvcolumns import IMPORT_COLUMNS, item_number
from assessments.instruments import UnknownInstrumentError, get_instrument
from assessments.models import Administration, Mode, Score, Status
from assessments.scoring import STATUS_SCORED, ScoringError, parse_answer, score_response
from assessments.services import SUBJECT, allows_proration, risk_check, score_fields
from clinic.audit import audit_records
from clinic.csvinput import CsvInputError, Row, open_csv
from clinic.models import AuditAction, Client
from clinic.selectors import clients_by_code
from clinic.validation import client_code_key

BATCH = 1000


@dataclass
class ValidRow:
    line: int
    client: Client
    instrument_code: str
    administered_on: dt.date
    answers: dict[int, int | None]


@dataclass
class ImportReport:
    rows: int = 0  # rows with content; wholly empty rows are only counted in blank_rows
    blank_rows: int = 0
    valid: list[ValidRow] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, message)
    imported: int = 0
    unscored: int = 0  # imported rows the missing-item rule cannot score: never count as scores
    file_error: str = ""  # the file is refused as a whole (nothing can be imported) ...
    file_problems: list[tuple[int, str]] = field(default_factory=list)  # ... for these rows

    @property
    def ok(self) -> bool:
        return not self.file_error and not self.problems

    def lines(self) -> list[str]:
        if self.file_error:
            return CsvInputError(self.file_error, self.file_problems).lines()
        return [f"row {line}: {message}" for line, message in self.problems]


def validate(
    organisation, source: Path | bytes, *, progress: Callable[[Iterable], Iterable] = iter
) -> ImportReport:
    """Read and check every row of `source` (a path, or an upload's bytes)."""
    report = ImportReport()
    try:
        with open_csv(source, IMPORT_COLUMNS) as csv_file:
            rows = list(csv_file.rows())
            report.blank_rows = csv_file.blank_rows
            items_in_file = {
                number: name
                for name in csv_file.header.positions
                if (number := item_number(name)) is not None
            }
    except CsvInputError as exc:
        report.file_error, report.file_problems = exc.message, exc.rows
        return report
    clients = clients_by_code(organisation.pk)
    today = organisation.today()
    report.rows = len(rows)
    for row in progress(rows):
        checked = _check_row(row, clients, today, items_in_file)
        if isinstance(checked, ValidRow):
            report.valid.append(checked)
        else:
            report.problems.extend((row.number, problem) for problem in checked)
    _flag_duplicates(report)
    return report


def _check_row(
    row: Row, clients: dict[str, Client], today: dt.date, items_in_file: dict[int, str]
) -> ValidRow | list[str]:
    """The row as it will be imported, or its problems."""
    problems = []
    try:
        client = clients.get(client_code_key(row.get("client_code")))
    except ValidationError as error:
        client = None
        problems.append(f"client_code: {' '.join(error.messages)}")
    else:
        if client is None:
            problems.append(f"no client with code {row.get('client_code')!r} in this clinic")
    try:
        instrument = get_instrument(row.get("instrument").strip().lower())
    except UnknownInstrumentError:
        problems.append(f"unknown instrument {row.get('instrument')!r}")
        instrument = None
    try:
        on = dt.date.fromisoformat(row.get("administered_on").strip())
        if on > today:
            problems.append(f"administered_on {on} is in the future")
    except ValueError:
        problems.append(
            f"administered_on {row.get('administered_on')!r} is not a date (YYYY-MM-DD)"
        )
        on = None
    answers: dict[int, int | None] = {}
    if instrument is not None:
        absent = [
            f"item_{n}" for n in range(1, instrument.item_count + 1) if n not in items_in_file
        ]
        if absent:
            problems.append(f"{instrument.code} needs column(s) {', '.join(absent)}")
        for n in range(1, instrument.item_count + 1):
            try:
                answers[n] = parse_answer(instrument, n, row.get(f"item_{n}").strip() or None)
            except ScoringError as exc:
                problems.append(str(exc))
        extra = [
            name
            for n, name in sorted(items_in_file.items())
            if n > instrument.item_count and row.get(name).strip()
        ]
        if extra:
            problems.append(
                f"{instrument.code} has {instrument.item_count} items, "
                f"but {', '.join(extra)} hold answers"
            )
        if not problems and all(v is None for v in answers.values()):
            problems.append("every item is blank")
    if problems:
        return problems
    return ValidRow(row.number, client, instrument.code, on, answers)


def _signature(client_id, instrument_code, on, answers) -> tuple:
    return (client_id, instrument_code, on, tuple(sorted((int(k), v) for k, v in answers.items())))


def _flag_duplicates(report: ImportReport) -> None:
    """A row already in the record (or twice in the file) is a problem, so a file imported
    twice does not double the administrations."""
    if not report.valid:
        return
    existing = {
        _signature(client_id, code, on, answers)
        for client_id, code, on, answers in Administration.objects.final()
        .filter(client_id__in={row.client.pk for row in report.valid})
        .values_list("client_id", "instrument_code", "administered_on", "answers")
    }
    seen: dict[tuple, int] = {}
    keep = []
    for row in report.valid:
        key = _signature(row.client.pk, row.instrument_code, row.administered_on, row.answers)
        if key in existing:
            report.problems.append(
                (row.line, "already in the record (same client, instrument, date and answers)")
            )
        elif key in seen:
            report.problems.append((row.line, f"repeats row {seen[key]}"))
        else:
            seen[key] = row.line
            keep.append(row)
    report.valid = keep
    report.problems.sort()


def import_valid(report: ImportReport, *, actor=None, skip_invalid: bool = False) -> int:
    """Write the valid rows (all or nothing unless skip_invalid). Returns the number imported."""
    if report.file_error or (report.problems and not skip_invalid):
        return 0
    prorate = {
        org: allows_proration(org) for org in {row.client.organisation_id for row in report.valid}
    }
    with transaction.atomic():
        for start in range(0, len(report.valid), BATCH):
            chunk = report.valid[start : start + BATCH]
            pairs = []
            for row in chunk:
                instrument = get_instrument(row.instrument_code)
                pairs.append(
                    (
                        Administration(
                            organisation_id=row.client.organisation_id,
                            client=row.client,
                            instrument_code=instrument.code,
                            instrument_version=instrument.version,
                            administered_on=row.administered_on,
                            mode=Mode.IMPORT,
                            status=Status.FINAL,
                            answers={str(n): v for n, v in row.answers.items()},
                            wording_used="paper form (imported)",
                            entered_by=actor,
                            finalised_at=timezone.now(),
                        ),
                        score_fields(
                            score_response(
                                instrument,
                                row.answers,
                                allow_proration=prorate[row.client.organisation_id],
                            )
                        ),
                    )
                )
            report.unscored += sum(1 for _, fields in pairs if fields["status"] != STATUS_SCORED)
            created = Administration.objects.bulk_create([a for a, _ in pairs])
            Score.objects.bulk_create(
                Score(administration=a, **fields)
                for a, (_, fields) in zip(created, pairs, strict=True)
            )
            for administration, row in zip(created, chunk, strict=True):
                risk_check(administration, get_instrument(row.instrument_code), row.answers, actor)
        clients = {row.client.pk: row.client for row in report.valid}
        projections.scores_refresh(clients)
        audit_records(
            actor, clients.values(), AuditAction.CREATE, subject=SUBJECT, fields=["answers"]
        )
    report.imported = len(report.valid)
    return report.imported
