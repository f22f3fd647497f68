"""Writes to client records, staff and clinic settings. Views call these; nothing else writes.

Every service that changes a client record takes the version the user started from and refuses
the write (ConcurrentEditError) when someone else saved in between: nothing is silently
overwritten. Each write is one transaction and leaves an audit event naming the changed fields.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp import user_has_device

from clinic.audit import audit_record
from clinic.models import (
    AuditAction,
    CareTeamMember,
    Client,
    ClientStatus,
    EmailKind,
    Organisation,
    Programme,
    Role,
    SecurityEventKind,
    Tag,
    User,
    UserSession,
)
from clinic.outbox import absolute_url, email_enqueue
from clinic.security import ENROL, SECOND_FACTOR_STEP, security_event_record
from clinic.tokens import reset_token_generator
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


def user_sessions_end(user_id: int, *, keep: str | None = None) -> int:
    """Log one user out everywhere (but for the session `keep`, when given): delete their
    sessions (one indexed delete, see clinic.sessions). A request already under way on one of
    them cannot save it back: Django refuses to re-create a deleted session. Returns how many
    were ended."""
    sessions = UserSession.objects.filter(user_id=user_id)
    if keep:
        sessions = sessions.exclude(session_key=keep)
    ended, _ = sessions.delete()
    return ended


# --- Notices to a user about their own account ------------------------------------------------
# No clinical content ever goes into these. Email is sent through the outbox (a row written in
# the transaction that causes it, sent once by the task queue), which arrives with the delivery
# work: until it is wired here these record nothing and send nothing.


SECOND_FACTOR_WORDS = {"totp": "an authenticator app", "passkey": "a passkey"}


def _security_notice(user: User, *, what: str) -> None:
    """An email to the user about their own account (no client, nothing clinical), in the
    caller's transaction; nothing when the login has no address."""
    if not user.email:
        return
    email_enqueue(
        key=f"security:{user.pk}:{uuid.uuid4().hex}",
        kind=EmailKind.SECURITY,
        to=user.email,
        template="security_notice",
        context={"what": what, "link": absolute_url(reverse("account:security"))},
        organisation=user.organisation,
        user=user,
    )


def notify_second_factor_enrolled(user: User, *, method: str) -> None:
    """Tell the user a sign-in method was added to their account, so that one added by someone
    else is noticed."""
    kind = SECOND_FACTOR_WORDS.get(method, "a second sign-in step")
    _security_notice(user, what=f"{kind} was added as a second sign-in step")


def notify_second_factor_reset(user: User, *, actor: User) -> None:
    """Tell a staff member that a clinic admin reset their second factor and that they will
    set one up again at their next sign-in."""
    _security_notice(
        user,
        what=(
            f"{actor.label} (a clinic admin) reset your second sign-in step; you will set one "
            "up again the next time you sign in"
        ),
    )


def notify_records_past_retention(organisation: Organisation, *, count: int) -> None:
    """Tell the clinic's admins that `count` records await their confirmation for erasure (a
    number and a link, never a client's code): one email per admin and day."""
    day = organisation.today().isoformat()
    admins = User.objects.filter(
        organisation=organisation, role=Role.CLINIC_ADMIN, is_active=True
    ).exclude(email="")
    for admin in admins:
        email_enqueue(
            key=f"records_due:{organisation.pk}:{admin.pk}:{day}",
            kind=EmailKind.RECORDS_DUE,
            to=admin.email,
            template="records_due",
            context={"count": count, "link": absolute_url(reverse("clinic:retention"))},
            organisation=organisation,
            user=admin,
        )


def password_changed(*, user: User, request) -> int:
    """After the user changed or set their password: every other session of theirs ends (the
    one they are using was kept by Django under a new key), and the security log says so."""
    session = getattr(request, "session", None)
    with transaction.atomic():
        ended = user_sessions_end(user.pk, keep=session.session_key if session else None)
        security_event_record(SecurityEventKind.PASSWORD_CHANGED, user=user, request=request)
    return ended


def sign_out_everywhere(*, user: User, request) -> int:
    """The user ends every session of theirs, the one they are using too."""
    with transaction.atomic():
        security_event_record(SecurityEventKind.SIGNED_OUT_EVERYWHERE, user=user, request=request)
        return user_sessions_end(user.pk)


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


NO_ADDRESS = "There is no email address to send the invitation to."


def _invitation_email(invitation: Invitation, *, to: str, organisation, client=None) -> None:
    """Queue the invitation link for `to`, in the caller's transaction (it is sent on commit)."""
    email_enqueue(
        key=f"invitation:{invitation.user.pk}:{uuid.uuid4().hex}",
        kind=EmailKind.INVITATION,
        to=to,
        template="invitation",
        context={
            "link": absolute_url(invitation.path),
            "valid_days": settings.PASSWORD_RESET_TIMEOUT // (24 * 60 * 60),
        },
        organisation=organisation,
        client=client,
        user=invitation.user,
    )


def client_portal_invite(
    *, actor: User, client: Client, username: str, by_email: bool = False
) -> Invitation:
    """Create the client's portal login, or renew a link not yet used, and return a
    set-password link; `by_email` also sends it to the client's address on record.

    Refused once the client has set a password: the link is shown to staff, and a staff-made
    link into an established login would let staff read the client's private entries.
    """
    if client.has_established_login:
        raise ServiceError(PORTAL_ESTABLISHED)
    if by_email and not client.email:
        raise ServiceError(NO_ADDRESS)
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
        invitation = Invitation(user=user, path=_invitation_path(user))
        if by_email:
            _invitation_email(
                invitation, to=client.email, organisation=client.organisation, client=client
            )
        audit_record(
            actor,
            client,
            AuditAction.PORTAL_INVITE,
            fields=["user", "invitation_email"] if by_email else ["user"],
        )
    return invitation


def staff_invite(
    *,
    actor: User,
    username: str,
    first_name: str,
    last_name: str,
    email: str,
    role: str,
    by_email: bool = False,
) -> Invitation:
    if role not in (Role.CLINICIAN, Role.CLINIC_ADMIN):
        raise ServiceError("Staff are clinicians or clinic admins.")
    if by_email and not email:
        raise ServiceError(NO_ADDRESS)
    with transaction.atomic():
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
        invitation = Invitation(user=user, path=_invitation_path(user))
        if by_email:
            _invitation_email(invitation, to=email, organisation=actor.organisation)
    return invitation


def _same_address(typed: str, stored: str) -> bool:
    """Django's rule: compare case-folded NFKC forms, so that look-alike characters a database
    collation treats as equal never send a link to another address."""

    def fold(value: str) -> str:
        return unicodedata.normalize("NFKC", value).casefold()

    return fold(typed) == fold(stored)


def password_reset_email(*, address: str) -> int:
    """Queue a password-reset link for every active login with this address and a password of
    its own, sent to the address stored on the login. Returns how many; the requester is never
    told (the same answer whether or not the address exists)."""
    users = [
        user
        for user in User.objects.filter(email__iexact=address, is_active=True).select_related(
            "organisation"
        )
        if user.has_usable_password() and _same_address(address, user.email)
    ]
    with transaction.atomic():
        for user in users:
            uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
            token = reset_token_generator.make_token(user)
            link = reverse("password_reset_confirm", kwargs={"uidb64": uidb64, "token": token})
            email_enqueue(
                key=f"password_reset:{user.pk}:{uuid.uuid4().hex}",
                kind=EmailKind.PASSWORD_RESET,
                to=user.email,
                template="password_reset",
                context={"link": absolute_url(link)},
                organisation=user.organisation,
                user=user,
            )
    return len(users)


def staff_update(
    *,
    actor: User,
    staff: User,
    role: str,
    is_active: bool,
    is_safety_contact: bool = False,
    request=None,
) -> None:
    """Change a colleague's role, whether they may sign in, and whether they are one of the
    clinic's safety contacts (clinic.safety). Deactivating ends every session of theirs at once
    (a stolen or shared session must not outlive the account)."""
    if staff.pk == actor.pk and (not is_active or role != actor.role):
        raise ServiceError("You cannot deactivate yourself or change your own role.")
    if role not in (Role.CLINICIAN, Role.CLINIC_ADMIN):
        raise ServiceError("Staff are clinicians or clinic admins.")
    deactivating = staff.is_active and not is_active
    with transaction.atomic():
        staff.role = role
        staff.is_active = is_active
        staff.is_safety_contact = is_safety_contact
        staff.save(update_fields=["role", "is_active", "is_safety_contact"])
        if deactivating:
            user_sessions_end(staff.pk)
            security_event_record(
                SecurityEventKind.SESSIONS_ENDED, user=staff, actor=actor, request=request
            )


def organisation_security_update(
    *, actor: User, two_factor_required: bool, retention_months: int | None, request=None
) -> list[str]:
    """A clinic admin's choice of the two-factor requirement and the retention period. Turning
    the requirement on ends the sessions of staff who have no second factor yet, so they enrol
    at their next sign-in instead of working on for hours without one. Returns what changed."""
    organisation = Organisation.objects.get(pk=actor.organisation_id)
    changed = [
        name
        for name, value in (
            ("two_factor_required", two_factor_required),
            ("retention_months", retention_months),
        )
        if getattr(organisation, name) != value
    ]
    if not changed:
        return []
    with transaction.atomic():
        Organisation.objects.filter(pk=organisation.pk).update(
            two_factor_required=two_factor_required, retention_months=retention_months
        )
        if two_factor_required and not organisation.two_factor_required:
            staff = User.objects.filter(
                organisation_id=organisation.pk, role__in=[Role.CLINICIAN, Role.CLINIC_ADMIN]
            ).exclude(pk=actor.pk)
            for member in staff:
                if not user_has_device(member):
                    user_sessions_end(member.pk)
            if request is not None and not user_has_device(actor):
                request.session[SECOND_FACTOR_STEP] = ENROL
        security_event_record(
            SecurityEventKind.SETTINGS_CHANGED, user=actor, actor=actor, request=request
        )
    return changed


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
