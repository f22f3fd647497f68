"""Writes to tracking data. Views call these; each write is one transaction.

Staff writes (an entry on a client's behalf) leave an audit event naming fields, never values.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from clinic.audit import audit_record
from clinic.models import (
    AuditAction,
    Client,
    ClientStatus,
    EmailKind,
    EmailOptOut,
    OutboxEmail,
    User,
    saved_once,
)
from clinic.outbox import absolute_url, email_enqueue, email_opt_in
from clinic.validation import (
    HAPPENED,
    check_plausible_date,
    check_plausible_instant,
    normalise_name,
)
from tracking import projections
from tracking.models import (
    InnerCriticEntry,
    JournalEntry,
    PracticeSession,
    Reminder,
    ReminderPurpose,
    TriggerCategory,
)
from tracking.projections import EntryValues, PracticeValues
from tracking.reminders import occurrence_key, occurrences
from tracking.selectors import local_week_start

AUDIT_SUBJECT = "inner_critic_log"


class ServiceError(Exception):
    """A write the rules do not allow; the message is shown to the user."""


def _validate(row) -> None:
    """The row's field validation (ranges, lengths, choices) in Python, with a message per
    field. Its check constraints are left to the database, which enforces them on the write
    itself: asking it first took a query and a savepoint per constraint, two thirds of the
    queries of posting an entry. Related rows come from access functions and forms."""
    row.full_clean(
        exclude=[field.name for field in row._meta.fields if field.is_relation],
        validate_unique=False,
        validate_constraints=False,
    )


@transaction.atomic
def entry_create(*, actor: User, client: Client, data: dict[str, Any]) -> InnerCriticEntry:
    """Save a new entry. A form's `submission` key saves once: a second post of the same form
    (a double tap, a phone re-sending on a weak connection) gets the entry the first saved."""
    data = dict(data)
    now = timezone.now()
    entry = InnerCriticEntry(
        client=client,
        created_by=actor,
        created_at=now,
        updated_at=now,
        submission=data.pop("submission", None),
    )
    for name, value in data.items():
        setattr(entry, name, value)
    check_plausible_instant(entry.occurred_at, HAPPENED, label="When", now=now)
    _validate(entry)
    saved = saved_once(entry, same=data)
    if saved is not entry:
        return saved
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
    _validate(entry)
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
    _validate(entry)
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
    """Log a practice. A form's `submission` key saves once: a second post of the same form
    gets the practice the first saved."""
    data = dict(data)
    submission = data.pop("submission", None)
    session = PracticeSession(client=client, created_by=actor, submission=submission, **data)
    check_plausible_date(
        session.practised_on, HAPPENED, label="Date", today=client.organisation.today()
    )
    _validate(session)
    saved = saved_once(session, same=data)
    if saved is not session:
        return saved
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
    _validate(entry)
    entry.save()
    return entry


def trigger_category_create(*, actor, name: str) -> TriggerCategory:
    """A clinic's own trigger category (clinic admins; built-ins are shared and fixed)."""
    return TriggerCategory.objects.create(
        organisation_id=actor.organisation_id,
        name=normalise_name(name, label="Trigger category"),
        position=200,
    )


# --- Reminders the client chose in the portal ---------------------------------------------------

# Where each reminder's link leads (the client's own portal pages).
REMINDER_PAGES = {
    ReminderPurpose.PRACTICE: "tracking:my_practice",
    ReminderPurpose.LOG: "tracking:my_log",
}
# A reminder missed by more than this (no consumer running then) is not sent late.
REMINDER_LOOKBACK = dt.timedelta(hours=1)
_KEY_BATCH = 500


@transaction.atomic
def reminders_save(*, client: Client, choices: dict[str, dict[str, Any]]) -> bool:
    """Store the client's reminders, one per purpose: {purpose: {weekdays, local_time, paused}}.

    Turning a reminder on is also the client asking for reminders again after unsubscribing:
    that opt-out is withdrawn. Returns True when it was.
    """
    now = timezone.now()
    for purpose, data in choices.items():
        Reminder.objects.update_or_create(
            client=client,
            purpose=purpose,
            defaults={
                "weekdays": sorted(data["weekdays"]),
                "local_time": data["local_time"],
                "paused": data["paused"],
                "updated_at": now,
            },
        )
    wants_reminders = any(data["weekdays"] and not data["paused"] for data in choices.values())
    if wants_reminders and client.email:
        return email_opt_in(organisation=client.organisation, address=client.email)
    return False


def reminders_enqueue_due(*, now: dt.datetime | None = None) -> int:
    """Queue every reminder that fell due in the last hour and is not queued yet; returns how
    many were queued. Run every few minutes: each occurrence has its own outbox key (client,
    purpose, local date and time), so overlapping runs queue it once.

    Never for a client not in active care, without an email address, or who unsubscribed.
    """
    now = now or timezone.now()
    start = now - REMINDER_LOOKBACK
    reminders = (
        Reminder.objects.filter(paused=False, client__status=ClientStatus.ACTIVE)
        .exclude(client__email="")
        .select_related("client__organisation")
    )
    due = [
        (reminder, occurrence_key(reminder.client_id, reminder.purpose, day, reminder.local_time))
        for reminder in reminders
        if reminder.weekdays
        for day, _ in occurrences(
            reminder.weekdays, reminder.local_time, reminder.client.organisation.tz, start, now
        )
    ]
    if not due:
        return 0
    keys = [key for _, key in due]
    queued_before = set()
    for i in range(0, len(keys), _KEY_BATCH):
        queued_before.update(
            OutboxEmail.objects.filter(key__in=keys[i : i + _KEY_BATCH]).values_list(
                "key", flat=True
            )
        )
    opted_out = set(
        EmailOptOut.objects.filter(
            organisation_id__in={reminder.client.organisation_id for reminder, _ in due}
        ).values_list("organisation_id", "address")
    )
    queued = 0
    for reminder, key in due:
        client = reminder.client
        if key in queued_before or (client.organisation_id, client.email.lower()) in opted_out:
            continue
        email = email_enqueue(
            key=key,
            kind=EmailKind.REMINDER,
            to=client.email,
            template="reminder",
            context={"link": absolute_url(reverse(REMINDER_PAGES[reminder.purpose]))},
            organisation=client.organisation,
            client=client,
        )
        queued += email is not None
    return queued
