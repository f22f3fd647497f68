"""A client's record from request to erasure: the subject-access export, the retention period
and erasure.

Both walk the models programmatically (the app registry and each model's _meta), starting from
every model with a foreign key to Client and following the rows that refer to those rows (an
assessment's score and corrections), so a model added later cannot be forgotten by either.
clinic imports no other app for this: other apps only register, in AppConfig.ready(), which of
their models are derived (projections, exported apart under derived/), extra files for the
export, and checks that refuse an erasure (a safety flag open).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.apps import apps
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from clinic.audit import audit_record
from clinic.exporting import spreadsheet_cell
from clinic.models import (
    AuditAction,
    Client,
    ClientStatus,
    Organisation,
    RecordErasure,
    SafetySignal,
    SecurityEvent,
    User,
)
from clinic.services import ServiceError, user_sessions_end

# Fields never exported: secrets and their hashes, which are not the client's data.
SECRET_FIELDS = frozenset({"token_hash", "token_salt", "password", "key", "session_data"})
# What of the client's portal login is theirs to see (never the password hash or devices).
LOGIN_FIELDS = ("username", "email", "first_name", "last_name", "date_joined", "last_login")

_derived: set[str] = set()
_export_files: dict[str, Callable[[Client], list[dict]]] = {}
_erasure_checks: list[Callable[[Client], str | None]] = []


def register_derived_models(*labels: str) -> None:
    """Models ("app_label.ModelName") that are projections: recomputable from the raw rows.
    They are exported under derived/ and erased like everything else."""
    _derived.update(labels)


def register_export_file(name: str, provider: Callable[[Client], list[dict]]) -> None:
    """An extra JSON file in the export (e.g. the flags raised today, computed at read time)."""
    _export_files[name] = provider


def register_erasure_check(check: Callable[[Client], str | None]) -> None:
    """A check that refuses erasure while it returns a reason. A feature app registers its own
    (the dashboard: an unacknowledged reliable deterioration); an open safety flag, kept by
    clinic itself, is checked in erasure_refusals."""
    if check not in _erasure_checks:
        _erasure_checks.append(check)


# --- The walk ----------------------------------------------------------------------------------


def client_relations() -> list[models.ForeignKey]:
    """Every foreign key (one-to-one included) to Client in every installed model."""
    return sorted(
        (
            field
            for model in apps.get_models()
            if model is not Client
            for field in model._meta.concrete_fields
            if field.is_relation and field.related_model is Client
        ),
        key=lambda field: (field.model._meta.label, field.name),
    )


def _referring(model: type[models.Model]) -> list[models.ForeignKey]:
    """Foreign keys of other models pointing at `model` (rows that belong to its rows)."""
    return [
        relation.field
        for relation in model._meta.related_objects
        if relation.field.concrete and relation.related_model is not Client
    ]


def client_rows(client: Client) -> dict[type[models.Model], QuerySet]:
    """Every row that belongs to the client, per model: rows with a foreign key to the client,
    and (until nothing new turns up) rows referring to rows already found."""
    ids: dict[type[models.Model], set] = defaultdict(set)
    for field in client_relations():
        manager = field.model._default_manager
        ids[field.model] |= set(
            manager.filter(**{field.name: client.pk}).values_list("pk", flat=True)
        )
    grown = True
    while grown:
        grown = False
        for model in list(ids):
            for field in _referring(model):
                found = set(
                    field.model._default_manager.filter(
                        **{f"{field.name}__in": ids[model]}
                    ).values_list("pk", flat=True)
                )
                if found - ids[field.model]:
                    ids[field.model] |= found
                    grown = True
    return {model: model._default_manager.filter(pk__in=pks) for model, pks in ids.items() if pks}


# --- Subject-access export ---------------------------------------------------------------------


def _value(row: models.Model, field: models.Field):
    value = getattr(row, field.attname)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _row_dict(row: models.Model, labels: dict[int, str]) -> dict:
    data = {}
    for field in row._meta.concrete_fields:
        if field.name in SECRET_FIELDS:
            continue
        data[field.attname] = _value(row, field)
        if field.is_relation and field.related_model is User and data[field.attname]:
            data[f"{field.name}_name"] = labels.get(data[field.attname], "")
    return data


def _csv_cell(value):
    """Answers, subscales and lists go into one cell as JSON; text is made spreadsheet-safe."""
    return spreadsheet_cell(json.dumps(value) if isinstance(value, dict | list) else value)


def _csv(rows: list[dict]) -> str:
    out = io.StringIO()
    columns = list(dict.fromkeys(key for row in rows for key in row))
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(_csv_cell(row.get(column)) for column in columns)
    return out.getvalue()


def _user_labels(tables: Iterable[list[models.Model]]) -> dict[int, str]:
    ids = {
        getattr(row, field.attname)
        for rows in tables
        for row in rows
        for field in row._meta.concrete_fields
        if field.is_relation and field.related_model is User and getattr(row, field.attname)
    }
    return {user.pk: user.label for user in User.objects.filter(pk__in=ids)}


README = """# Subject-access export of client {code}

Made {made} by {actor} ({organisation}). Times are UTC, in ISO 8601.

This is everything Selfkind holds about this client: their record, every questionnaire with
its answers as first entered and every correction made since, every inner-critic entry
(including those the client kept private from their care team), practice and journal entries,
flag acknowledgements, one-time questionnaire links (never the link itself), and the audit
trail of who viewed or changed the record and when. It contains words the client kept private:
give it to the client only.

- client.json: the record itself, its presenting concerns and programmes, and the client's
  portal login if they have one (never its password or sign-in secrets) with its sign-ins.
- data/: one JSON file and one CSV file per kind of row. `*_name` columns name the staff member
  behind an id. Questionnaire answers are keyed by item number.
- derived/: summaries the application computes from the rows in data/ (score summaries,
  day totals) for its pages. Everything in them follows from data/.
{extras}
Files and rows:
{files}
"""


def subject_access_export(*, actor: User, client: Client) -> bytes:
    """A zip of the client's whole record (JSON and CSV, with a README), audited."""
    tables = {
        model: list(queryset.order_by("pk")) for model, queryset in client_rows(client).items()
    }
    login = client.user
    labels = _user_labels([*tables.values(), [client]])
    made = timezone.now()
    buffer = io.BytesIO()
    listing = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        record = _row_dict(client, labels)
        record["tags"] = sorted(tag.name for tag in client.tags.all())
        record["programmes"] = sorted(programme.name for programme in client.programmes.all())
        if login is not None:
            record["portal_login"] = {
                name: _value(login, login._meta.get_field(name)) for name in LOGIN_FIELDS
            }
            record["portal_sign_ins"] = [
                {
                    "at": event.at.isoformat(),
                    "event": event.get_kind_display(),
                    "browser": event.browser,
                    "network": event.network,
                }
                for event in SecurityEvent.objects.filter(user=login).order_by("at")
            ]
        archive.writestr("client.json", json.dumps(record, indent=2, default=str))
        for model, rows in sorted(tables.items(), key=lambda item: item[0]._meta.label):
            label = model._meta.label
            folder = "derived" if label in _derived else "data"
            data = [_row_dict(row, labels) for row in rows]
            archive.writestr(f"{folder}/{label}.json", json.dumps(data, indent=2, default=str))
            archive.writestr(f"{folder}/{label}.csv", _csv(data))
            listing.append(f"- {folder}/{label}: {len(data)} rows")
        extras = []
        for name, provider in sorted(_export_files.items()):
            archive.writestr(name, json.dumps(provider(client), indent=2, default=str))
            extras.append(f"- {name}: computed when the export was made.")
        archive.writestr(
            "README.md",
            README.format(
                code=client.code,
                made=made.isoformat(timespec="seconds"),
                actor=actor.label,
                organisation=client.organisation.name,
                extras="\n".join(extras) + ("\n" if extras else ""),
                files="\n".join(listing) or "- (no rows beyond the record)",
            ),
        )
    audit_record(
        actor,
        client,
        AuditAction.EXPORT,
        subject="subject_access",
        fields=[model._meta.label for model in tables],
    )
    return buffer.getvalue()


# --- Retention and erasure ---------------------------------------------------------------------


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months earlier (later for a negative number), or that
    month's last day where it has fewer days."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


@dataclass(frozen=True)
class PastRetention:
    client: Client
    due_on: dt.date  # the discharge date plus the clinic's retention period


def records_past_retention(organisation: Organisation) -> list[PastRetention]:
    """Discharged records of a clinic kept longer than its retention period (none while the
    clinic has not chosen one), oldest first: what an admin is asked to confirm for erasure.
    The daily task lists these; nothing is erased without an admin's confirmation."""
    months = organisation.retention_months
    if not months:
        return []
    cutoff = months_before(organisation.today(), months)
    clients = Client.objects.filter(
        organisation=organisation,
        status=ClientStatus.DISCHARGED,
        discharge_date__lte=cutoff,
    ).order_by("discharge_date", "code")
    return [
        PastRetention(client, months_before(client.discharge_date, -months)) for client in clients
    ]


def erasure_refusals(client: Client) -> list[str]:
    """Why the record cannot be erased now: not discharged, or a registered check (an open
    safety flag) says no."""
    reasons = []
    if client.status != ClientStatus.DISCHARGED:
        reasons.append("Only a discharged client's record can be erased.")
    if SafetySignal.objects.filter(client=client, acknowledged_at__isnull=True).exists():
        reasons.append(
            "A safety flag of this client is open: acknowledge it (the action taken and a note) "
            "before the record can be erased."
        )
    reasons += [reason for check in _erasure_checks if (reason := check(client))]
    return reasons


def _delete_tree(queryset: QuerySet, counts: Counter) -> None:
    """Delete the rows and everything that refers to them; rows that protect their parent from
    deletion (an assessment's corrections) go first."""
    for relation in queryset.model._meta.related_objects:
        if getattr(relation, "on_delete", None) in (models.PROTECT, models.RESTRICT):
            children = relation.related_model._default_manager.filter(
                **{f"{relation.field.name}__in": queryset}
            )
            _delete_tree(children, counts)
    _, per_model = queryset.delete()
    counts.update({label: n for label, n in per_model.items() if n})


def client_erase(*, actor: User, client: Client, reason: str = "retention") -> RecordErasure:
    """Erase a discharged client's record for good: every row that refers to the client (the
    audit events of the record included: they name the client), the client, and their portal
    login with its sessions, second factors and sign-in log. What remains is one RecordErasure:
    that a record was erased, when and by whom, with the number of rows per model."""
    if not actor.is_clinic_admin or actor.organisation_id != client.organisation_id:
        raise ServiceError("Only a clinic admin of the client's clinic can erase a record.")
    with transaction.atomic():
        client = Client.objects.select_for_update().get(pk=client.pk)
        refusals = erasure_refusals(client)
        if refusals:
            raise ServiceError(" ".join(refusals))
        counts: Counter = Counter()
        for field in client_relations():
            _delete_tree(field.model._default_manager.filter(**{field.name: client.pk}), counts)
        login = client.user
        former_id, organisation_id = client.pk, client.organisation_id
        _delete_tree(Client.objects.filter(pk=client.pk), counts)
        if login is not None:
            _login_erase(login, counts)
        return RecordErasure.objects.create(
            organisation_id=organisation_id,
            former_id=former_id,
            erased_by=actor,
            reason=reason,
            rows=dict(sorted(counts.items())),
        )


def _login_erase(login: User, counts: Counter) -> None:
    """The client's portal login and what refers to it: sessions, its sign-in log and the
    lockout counters kept under its login name. Rows of other people that name it as their
    author (e.g. an audit event of a deleted entry) keep the row and lose the name."""
    from axes.models import AccessAttempt

    user_sessions_end(login.pk)
    _delete_tree(SecurityEvent.objects.filter(user=login), counts)
    _delete_tree(AccessAttempt.objects.filter(username=login.username), counts)
    _delete_tree(User.objects.filter(pk=login.pk), counts)
