"""Writes to tracking data. Views call these; each write is one transaction.

Staff writes (an entry on a client's behalf) leave an audit event naming fields, never values.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from clinic.audit import audit_record
from clinic.models import AuditAction, Client, User
from clinic.validation import (
    HAPPENED,
    check_plausible_date,
    check_plausible_instant,
    normalise_name,
)
from tracking import projections
from tracking.models import InnerCriticEntry, JournalEntry, PracticeSession, TriggerCategory
from tracking.projections import EntryValues, PracticeValues
from tracking.selectors import local_week_start

AUDIT_SUBJECT = "inner_critic_log"


class ServiceError(Exception):
    """A write the rules do not allow; the message is shown to the user."""


@transaction.atomic
def entry_create(*, actor: User, client: Client, data: dict[str, Any]) -> InnerCriticEntry:
    now = timezone.now()
    entry = InnerCriticEntry(client=client, created_by=actor, created_at=now, updated_at=now)
    for name, value in data.items():
        setattr(entry, name, value)
    check_plausible_instant(entry.occurred_at, HAPPENED, label="When", now=now)
    entry.full_clean()
    entry.save()
    projections.entry_counted(None, EntryValues.of(entry, client.organisation.tz))
    if actor.is_clinic_staff:
        audit_record(actor, client, AuditAction.CREATE, subject=AUDIT_SUBJECT, fields=data)
    return entry


@transaction.atomic
def entry_delete(*, actor: User, entry: InnerCriticEntry) -> None:
    """The client deletes one of their own entries, for good: their words are theirs to take
    back. The audit trail keeps only that an entry was deleted, by whom and when."""
    client = entry.client
    before = EntryValues.of(entry, client.organisation.tz)
    entry.delete()
    projections.entry_counted(before, None)
    audit_record(actor, client, AuditAction.DELETE, subject=AUDIT_SUBJECT)


def _stored(entry: InnerCriticEntry, tz) -> EntryValues:
    """The entry's values as stored (a bound ModelForm may already have copied the user's input
    onto `entry`), with the row locked until the transaction ends."""
    return EntryValues.of(InnerCriticEntry.objects.select_for_update().get(pk=entry.pk), tz)


@transaction.atomic
def entry_update(*, actor: User, entry: InnerCriticEntry, data: dict[str, Any]) -> None:
    tz = entry.client.organisation.tz
    before = _stored(entry, tz)
    for name, value in data.items():
        setattr(entry, name, value)
    entry.updated_at = timezone.now()
    check_plausible_instant(entry.occurred_at, HAPPENED, label="When", now=entry.updated_at)
    entry.full_clean()
    entry.save(update_fields=[*data, "updated_at"])
    projections.entry_counted(before, EntryValues.of(entry, tz))


@transaction.atomic
def entry_reframe(*, actor: User, entry: InnerCriticEntry, data: dict[str, Any]) -> None:
    """Add or change the self-compassionate reply; the original words stay as they were."""
    tz = entry.client.organisation.tz
    before = _stored(entry, tz)
    for name in (*InnerCriticEntry.REFRAME_FIELDS, "intensity_after"):
        if name in data:
            setattr(entry, name, data[name])
    now = timezone.now()
    entry.reframed_at = entry.reframed_at or now
    entry.updated_at = now
    entry.full_clean()
    entry.save(
        update_fields=[
            *InnerCriticEntry.REFRAME_FIELDS,
            "intensity_after",
            "reframed_at",
            "updated_at",
        ]
    )
    projections.entry_counted(before, EntryValues.of(entry, tz))


@transaction.atomic
def practice_create(*, actor: User, client: Client, data: dict[str, Any]) -> PracticeSession:
    session = PracticeSession(client=client, created_by=actor, **data)
    check_plausible_date(
        session.practised_on, HAPPENED, label="Date", today=client.organisation.today()
    )
    session.full_clean()
    session.save()
    projections.practice_counted(None, PracticeValues.of(session))
    if actor.is_clinic_staff:
        audit_record(actor, client, AuditAction.CREATE, subject="practice_log", fields=data)
    return session


def current_week(client: Client, now: dt.datetime | None = None) -> dt.date:
    return local_week_start(client.organisation.tz, now)


@transaction.atomic
def journal_save(
    *, actor: User, client: Client, week_start: dt.date, data: dict[str, Any]
) -> JournalEntry:
    """Create or update the journal of `week_start`; only the current week can be written."""
    if week_start != current_week(client):
        raise ServiceError("A week's journal can only be written during that week.")
    entry = (
        JournalEntry.objects.select_for_update()
        .filter(client=client, week_start=week_start)
        .first()
    )
    now = timezone.now()
    if entry is None:
        entry = JournalEntry(client=client, week_start=week_start, created_at=now)
    for name, value in data.items():
        setattr(entry, name, value)
    entry.updated_at = now
    entry.full_clean()
    entry.save()
    return entry


def trigger_category_create(*, actor, name: str) -> TriggerCategory:
    """A clinic's own trigger category (clinic admins; built-ins are shared and fixed)."""
    return TriggerCategory.objects.create(
        organisation_id=actor.organisation_id,
        name=normalise_name(name, label="Trigger category"),
        position=200,
    )
