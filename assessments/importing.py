"""Import of scored paper forms from a clinic's CSV (columns client_code, instrument,
administered_on, item_1..). Every row is validated before anything is written; by default
nothing is imported unless every row is valid; an administration is never half created."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from assessments import projections
from assessments.instruments import UnknownInstrumentError, get_instrument
from assessments.models import Administration, Mode, Score, Status
from assessments.scoring import ScoringError, parse_answer, score_response
from assessments.services import SUBJECT, score_fields
from clinic.audit import audit_records
from clinic.models import AuditAction, Client

REQUIRED = ("client_code", "instrument", "administered_on")
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
    rows: int = 0
    valid: list[ValidRow] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, message)
    imported: int = 0
    file_error: str = ""

    @property
    def ok(self) -> bool:
        return not self.file_error and not self.problems

    def lines(self) -> list[str]:
        if self.file_error:
            return [self.file_error]
        return [f"row {line}: {message}" for line, message in self.problems]


def read_rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    return list(reader.fieldnames or []), list(reader)


def validate(organisation, text: str, *, progress: Callable[[Iterable], Iterable] = iter):
    report = ImportReport()
    try:
        header, rows = read_rows(text)
    except csv.Error as exc:
        report.file_error = f"not a readable CSV file: {exc}"
        return report
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        report.file_error = f"missing column(s): {', '.join(missing)}"
        return report
    clients = {
        c.code.casefold(): c
        for c in Client.objects.filter(organisation=organisation).only(
            "pk", "code", "organisation_id"
        )
    }
    today = organisation.today()
    report.rows = len(rows)
    for line, row in enumerate(progress(rows), start=2):  # line 1 is the header
        problems = []
        client = clients.get((row.get("client_code") or "").strip().casefold())
        if client is None:
            problems.append(f"no client with code {row.get('client_code')!r} in this clinic")
        try:
            instrument = get_instrument((row.get("instrument") or "").strip().lower())
        except UnknownInstrumentError:
            problems.append(f"unknown instrument {row.get('instrument')!r}")
            instrument = None
        try:
            on = dt.date.fromisoformat((row.get("administered_on") or "").strip())
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
                f"item_{n}"
                for n in range(1, instrument.item_count + 1)
                if f"item_{n}" not in header
            ]
            if absent:
                problems.append(f"{instrument.code} needs column(s) {', '.join(absent)}")
            for n in range(1, instrument.item_count + 1):
                try:
                    answers[n] = parse_answer(
                        instrument, n, (row.get(f"item_{n}") or "").strip() or None
                    )
                except ScoringError as exc:
                    problems.append(str(exc))
            extra = [
                key
                for key, value in row.items()
                if key
                and key.startswith("item_")
                and key[5:].isdigit()
                and int(key[5:]) > instrument.item_count
                and (value or "").strip()
            ]
            if extra:
                problems.append(
                    f"{instrument.code} has {instrument.item_count} items, "
                    f"but {', '.join(extra)} hold answers"
                )
            if not problems and all(v is None for v in answers.values()):
                problems.append("every item is blank")
        if problems:
            report.problems.extend((line, problem) for problem in problems)
        else:
            report.valid.append(ValidRow(line, client, instrument.code, on, answers))
    _flag_duplicates(report)
    return report


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
                        score_fields(score_response(instrument, row.answers)),
                    )
                )
            created = Administration.objects.bulk_create([a for a, _ in pairs])
            Score.objects.bulk_create(
                Score(administration=a, **fields)
                for a, (_, fields) in zip(created, pairs, strict=True)
            )
        clients = {row.client.pk: row.client for row in report.valid}
        projections.scores_refresh(clients)
        audit_records(
            actor, clients.values(), AuditAction.CREATE, subject=SUBJECT, fields=["answers"]
        )
    report.imported = len(report.valid)
    return report.imported
