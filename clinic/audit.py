"""Append-only audit trail of who viewed or changed a client's record.

Only field names are stored, never values, so no free text reaches the trail.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from clinic.models import AuditEvent

if TYPE_CHECKING:
    from clinic.models import Client, User


def audit_records(
    actor: User | None,
    clients: Iterable[Client],
    action: str,
    *,
    subject: str = "client",
    fields: Iterable[str] = (),
) -> list[AuditEvent]:
    """One event per client in one INSERT (e.g. an export or import touching many records)."""
    names = sorted(set(fields))
    who = actor if actor is not None and actor.is_authenticated else None
    return AuditEvent.objects.bulk_create(
        AuditEvent(
            organisation_id=client.organisation_id,
            actor=who,
            client=client,
            action=action,
            subject=subject,
            fields=names,
        )
        for client in sorted(clients, key=lambda client: client.pk)
    )


def audit_record(
    actor: User | None,
    client: Client,
    action: str,
    *,
    subject: str = "client",
    fields: Iterable[str] = (),
) -> AuditEvent:
    return AuditEvent.objects.create(
        organisation_id=client.organisation_id,
        actor=actor if actor is not None and actor.is_authenticated else None,
        client=client,
        action=action,
        subject=subject,
        fields=sorted(set(fields)),
    )
