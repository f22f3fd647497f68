"""Writes to client records, staff and clinic settings. Views call these; nothing else writes.

Every service that changes a client record takes the version the user started from and refuses
the write (ConcurrentEditError) when someone else saved in between: nothing is silently
overwritten. Each write is one transaction and leaves an audit event naming the changed fields.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from clinic.audit import audit_record
from clinic.models import (
    AuditAction,
    CareTeamMember,
    Client,
    ClientStatus,
    Programme,
    Role,
    Tag,
    User,
    UserSession,
)
from clinic.validation import normalise_client_code, normalise_name, normalise_username


class ConcurrentEditError(Exception):
    """The record changed after the user loaded it; their write was not applied."""

    def __init__(self, current: Client):
        self.current = current
        super().__init__("The client record was changed by someone else.")


class ServiceError(Exception):
    """A write that the rules of the clinic do not allow; the message is shown to the user."""


CLIENT_FIELDS = (
    "code",
    "display_name",
    "date_of_birth",
    "pronouns",
    "email",
    "status",
    "intake_date",
    "primary_clinician",
    "notes",
)


def _bump(client: Client, expected_version: int, **changes: Any) -> None:
    """Apply `changes` only if the stored version is still `expected_version`."""
    now = timezone.now()
    updated = Client.objects.filter(pk=client.pk, version=expected_version).update(
        version=F("version") + 1, updated_at=now, **changes
    )
    if not updated:
        raise ConcurrentEditError(Client.objects.get(pk=client.pk))
    for name, value in changes.items():
        setattr(client, name, value)
    client.version = expected_version + 1
    client.updated_at = now


def client_create(
    *,
    actor: User,
    data: dict[str, Any],
    tags: Iterable[Tag] = (),
    programmes: Iterable[Programme] = (),
) -> Client:
    fields = {name: data[name] for name in CLIENT_FIELDS if name in data}
    fields["code"] = normalise_client_code(fields["code"])
    with transaction.atomic():
        client = Client.objects.create(organisation_id=actor.organisation_id, **fields)
        client.tags.set(tags)
        client.programmes.set(programmes)
        audit_record(actor, client, AuditAction.CREATE, fields=[*data.keys(), "tags"])
    return client


def client_update(
    *,
    actor: User,
    client: Client,
    expected_version: int,
    data: dict[str, Any],
    tags: Iterable[Tag] | None = None,
    programmes: Iterable[Programme] | None = None,
) -> list[str]:
    """Save changed fields; returns the names of the fields that changed.

    Changes are computed against the stored record (a bound ModelForm may already have copied
    the user's input onto `client`), so the audit names exactly what this save changed.
    """
    with transaction.atomic():
        stored = Client.objects.get(pk=client.pk)
        if "code" in data:
            data = {**data, "code": normalise_client_code(data["code"])}
        changes = {
            name: value
            for name, value in data.items()
            if name in CLIENT_FIELDS and getattr(stored, name) != value
        }
        changed = list(changes)
        if tags is not None and set(tags) != set(client.tags.all()):
            changed.append("tags")
        if programmes is not None and set(programmes) != set(client.programmes.all()):
            changed.append("programmes")
        _bump(client, expected_version, **changes)
        if tags is not None:
            client.tags.set(tags)
        if programmes is not None:
            client.programmes.set(programmes)
        if changed:
            audit_record(actor, client, AuditAction.UPDATE, fields=changed)
    return changed


def client_discharge(
    *, actor: User, client: Client, expected_version: int, discharge_date: dt.date
) -> None:
    """Close the record of care. The client's portal becomes read-only (clinic.access) and
    every session of their portal login ends: they log in again to a read-only portal."""
    if client.status == ClientStatus.DISCHARGED:
        raise ServiceError("This client is already discharged.")
    if discharge_date < client.intake_date:
        raise ServiceError("The discharge date cannot be before the intake date.")
    with transaction.atomic():
        _bump(
            client,
            expected_version,
            status=ClientStatus.DISCHARGED,
            discharge_date=discharge_date,
        )
        if client.user_id is not None:
            user_sessions_end(client.user_id)
        audit_record(actor, client, AuditAction.DISCHARGE, fields=["status", "discharge_date"])


def client_reactivate(*, actor: User, client: Client, expected_version: int) -> None:
    """Back to active care: the portal is writable again. The discharge date is cleared; the
    audit trail keeps the history."""
    if client.status != ClientStatus.DISCHARGED:
        raise ServiceError("Only a discharged client can be reactivated.")
    with transaction.atomic():
        _bump(client, expected_version, status=ClientStatus.ACTIVE, discharge_date=None)
        audit_record(actor, client, AuditAction.REACTIVATE, fields=["status", "discharge_date"])


def client_care_team_set(
    *,
    actor: User,
    client: Client,
    expected_version: int,
    primary: User,
    others: Iterable[User],
) -> None:
    others = {user for user in others if user.pk != primary.pk}
    for member in [primary, *others]:
        if member.organisation_id != client.organisation_id or not member.is_clinic_staff:
            raise ServiceError(f"{member.label} is not a clinician of this clinic.")
    with transaction.atomic():
        _bump(client, expected_version, primary_clinician=primary)
        CareTeamMember.objects.filter(client=client).exclude(clinician__in=others).delete()
        existing = set(
            CareTeamMember.objects.filter(client=client).values_list("clinician_id", flat=True)
        )
        CareTeamMember.objects.bulk_create(
            CareTeamMember(client=client, clinician=user)
            for user in others
            if user.pk not in existing
        )
        audit_record(actor, client, AuditAction.CARE_TEAM, fields=["care_team"])


def user_sessions_end(user_id: int) -> int:
    """Log one user out everywhere: delete their sessions (one indexed delete, see
    clinic.sessions). A request already under way on one of them cannot save it back: Django
    refuses to re-create a deleted session. Returns how many were ended."""
    ended, _ = UserSession.objects.filter(user_id=user_id).delete()
    return ended


@dataclass(frozen=True)
class Invitation:
    """A one-time link to set a password. Shown once to the inviting user; never logged."""

    user: User
    path: str


def _invitation_path(user: User) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse("invite_accept", kwargs={"uidb64": uidb64, "token": token})


PORTAL_ESTABLISHED = (
    "This client has already set their own password, so no new link can be made. A link made "
    "by staff into an established login would let its maker read everything the client keeps "
    "private. If the client has lost their password, they need a reset sent to them directly."
)


def client_portal_invite(*, actor: User, client: Client, username: str) -> Invitation:
    """Create the client's portal login, or renew a link not yet used, and return a
    set-password link.

    Refused once the client has set a password: the link is shown to staff, and a staff-made
    link into an established login would let staff read the client's private entries.
    """
    if client.has_established_login:
        raise ServiceError(PORTAL_ESTABLISHED)
    with transaction.atomic():
        if client.user_id is None:
            user = User.objects.create(
                username=normalise_username(username),
                email=client.email,
                organisation_id=client.organisation_id,
                role=Role.CLIENT,
                first_name=client.display_name.split(" ")[0][:150],
            )
            user.set_unusable_password()
            user.save(update_fields=["password"])
            Client.objects.filter(pk=client.pk).update(user=user)
            client.user = user
        else:
            user = client.user
            if not user.is_active:
                user.is_active = True
                user.save(update_fields=["is_active"])
        audit_record(actor, client, AuditAction.PORTAL_INVITE, fields=["user"])
    return Invitation(user=user, path=_invitation_path(user))


def staff_invite(
    *,
    actor: User,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    role: str,
) -> Invitation:
    if role not in (Role.CLINICIAN, Role.CLINIC_ADMIN):
        raise ServiceError("Staff are clinicians or clinic admins.")
    user = User(
        username=normalise_username(username),
        first_name=first_name,
        last_name=last_name,
        email=email,
        role=role,
        organisation_id=actor.organisation_id,
    )
    user.set_unusable_password()
    user.save()
    return Invitation(user=user, path=_invitation_path(user))


def staff_update(
    *, actor: User, staff: User, role: str, is_active: bool, is_safety_contact: bool = False
) -> None:
    """A staff member's role, whether they may log in, and whether they are one of the clinic's
    safety contacts (clinic.safety)."""
    if staff.pk == actor.pk and (not is_active or role != actor.role):
        raise ServiceError("You cannot deactivate yourself or change your own role.")
    if role not in (Role.CLINICIAN, Role.CLINIC_ADMIN):
        raise ServiceError("Staff are clinicians or clinic admins.")
    staff.role = role
    staff.is_active = is_active
    staff.is_safety_contact = is_safety_contact
    staff.save(update_fields=["role", "is_active", "is_safety_contact"])


def tag_create(*, actor: User, name: str) -> Tag:
    return Tag.objects.create(
        organisation_id=actor.organisation_id, name=normalise_name(name, label="Name")
    )


def programme_create(
    *, actor: User, name: str, starts_on: dt.date | None, ends_on: dt.date | None
) -> Programme:
    return Programme.objects.create(
        organisation_id=actor.organisation_id,
        name=normalise_name(name, label="Name"),
        starts_on=starts_on,
        ends_on=ends_on,
    )
