"""The safety pathway: crisis contacts, and safety signals raised, routed and acknowledged.

Writes (services, each in one transaction):
- crisis_contact_create / crisis_contact_update / crisis_contact_delete: a clinic admin keeps
  the clinic's crisis contacts;
- safety_signal_raise: called by the writes that raise a signal (tracking: a client says an
  entry, a practice or a journal brought up something difficult; assessments: a risk item
  answered above its threshold), inside their transaction;
- safety_signal_acknowledge: a clinician records the action taken and a note.

A signal is routed to the client's primary clinician and to the clinic's safety contacts (staff
a clinic admin marks as such): they see it on the dashboard above every other flag and are told
by email (clinic.notify: initials and a link only). It stays open until acknowledged. A signal
holds none of the client's words: a private entry's signal says that an entry asked for contact,
never what it says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from clinic.audit import audit_record
from clinic.models import (
    AuditAction,
    Client,
    CrisisContact,
    Role,
    SafetySignal,
    SignalKind,
    User,
    clients_lock,
)
from clinic.notify import safety_notice_enqueue
from clinic.validation import normalise_name

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

SUBJECT = "safety_signal"
CONTACT_FIELDS = ("name", "phone", "text_line", "hours", "note", "position")


class SignalAlreadyAcknowledged(Exception):
    """Someone acknowledged the signal after this user loaded it; nothing was saved."""

    def __init__(self, signal: SafetySignal):
        self.signal = signal
        super().__init__("This safety flag was acknowledged meanwhile.")


# --- Crisis contacts ---------------------------------------------------------------------------


def _contact_values(data: Mapping[str, Any]) -> dict[str, Any]:
    values = {name: data[name] for name in CONTACT_FIELDS if name in data}
    values["name"] = normalise_name(values["name"], label="Name")
    for name in ("phone", "text_line", "hours", "note"):
        values[name] = (values.get(name) or "").strip()
    return values


@transaction.atomic
def crisis_contact_create(*, actor: User, data: Mapping[str, Any]) -> CrisisContact:
    contact = CrisisContact(organisation_id=actor.organisation_id, **_contact_values(data))
    contact.full_clean()
    contact.save()
    return contact


@transaction.atomic
def crisis_contact_update(
    *, actor: User, contact: CrisisContact, data: Mapping[str, Any]
) -> CrisisContact:
    for name, value in _contact_values(data).items():
        setattr(contact, name, value)
    contact.updated_at = timezone.now()
    contact.full_clean()
    contact.save()
    return contact


@transaction.atomic
def crisis_contact_delete(*, actor: User, contact: CrisisContact) -> None:
    contact.delete()


# --- Routing -----------------------------------------------------------------------------------


def safety_recipients(client: Client) -> list[User]:
    """Who a client's safety signal goes to: the primary clinician and the clinic's safety
    contacts, active staff only, each once."""
    staff = User.objects.filter(
        organisation_id=client.organisation_id,
        role__in=(Role.CLINICIAN, Role.CLINIC_ADMIN),
        is_active=True,
    )
    found = staff.filter(pk=client.primary_clinician_id) | staff.filter(is_safety_contact=True)
    return list(found.distinct().order_by("pk"))


# --- Signals -----------------------------------------------------------------------------------


def safety_signal_raise(
    *,
    client: Client,
    kind: str,
    source: str,
    source_id: int,
    actor: User | None = None,
    asked_for_contact: bool = False,
    label: str = "",
) -> SafetySignal:
    """Raise a signal about one record (in the caller's transaction), audit it and notify its
    recipients. A record has at most one open signal of a kind: tapping again returns it (and
    asking to be contacted on a second tap adds that, and tells the recipients again). A risk
    item raises one signal per questionnaire, ever: a correction that keeps the answer above
    the threshold raises no second one."""
    with transaction.atomic():
        # The client's row is locked first, so two raises for one record queue up: in the
        # mode every projection write takes (clients_lock), as a questionnaire that raises a
        # risk item holds it already, and a stronger mode would deadlock with an entry being
        # written for the client (its insert holds a key-share lock on the row).
        clients_lock([client.pk])
        same = SafetySignal.objects.filter(
            client=client, kind=kind, source=source, source_id=source_id
        )
        existing = same.filter(acknowledged_at__isnull=True).first()
        if existing is None and kind == SignalKind.RISK_ITEM:
            existing = same.first()
        if existing is not None:
            if asked_for_contact and not existing.asked_for_contact:
                existing.asked_for_contact = True
                existing.save(update_fields=["asked_for_contact"])
                _announce(existing, client, actor, fields=["asked_for_contact"])
            return existing
        signal = SafetySignal.objects.create(
            organisation_id=client.organisation_id,
            client=client,
            kind=kind,
            source=source,
            source_id=source_id,
            label=label[:80],
            asked_for_contact=asked_for_contact,
            raised_by=actor if actor is not None and actor.is_authenticated else None,
        )
        _announce(signal, client, actor, fields=["kind", "asked_for_contact"])
    return signal


def _announce(signal: SafetySignal, client: Client, actor: User | None, fields: list[str]) -> None:
    audit_record(actor, client, AuditAction.CREATE, subject=SUBJECT, fields=fields)
    safety_notice_enqueue(safety_recipients(client), client, signal)


def safety_signal_acknowledge(
    *, actor: User, signal: SafetySignal, action: str, note: str
) -> SafetySignal:
    """Record that `actor` saw the signal, what they did and why: the signal closes. Refused
    (SignalAlreadyAcknowledged) when someone acknowledged it meanwhile; nothing is saved. The
    audit trail keeps who, when and which action (the note stays on the signal)."""
    with transaction.atomic():
        current = SafetySignal.objects.select_for_update().get(pk=signal.pk)
        if not current.is_open:
            raise SignalAlreadyAcknowledged(current)
        current.acknowledged_at = timezone.now()
        current.acknowledged_by = actor
        current.action = action
        current.note = note.strip()
        current.full_clean()
        current.save(update_fields=["acknowledged_at", "acknowledged_by", "action", "note"])
        audit_record(
            actor,
            signal.client,
            AuditAction.ACKNOWLEDGE,
            subject=f"{SUBJECT}: {action}",
            fields=["action", "note"],
        )
    return current
