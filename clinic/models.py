"""Organisations, people and client records: the ground floor every other app builds on."""

from __future__ import annotations

import datetime as dt
import re
import uuid
import zoneinfo
from collections.abc import Iterable
from importlib import import_module

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from clinic.validation import EARLIEST, long_date, search_text, validate_identifier


def not_before_earliest(field: str, label: str, *, nullable: bool = False, name: str):
    """A CheckConstraint: `field` is not before EARLIEST (clinic.validation), or is NULL."""
    condition = Q(**{f"{field}__gte": EARLIEST})
    if nullable:
        condition |= Q(**{f"{field}__isnull": True})
    return models.CheckConstraint(
        condition=condition,
        name=name,
        violation_error_message=f"{label} cannot be before {long_date(EARLIEST)}.",
    )


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (e.g. Europe/London).")


RETENTION_MONTHS_MIN, RETENTION_MONTHS_MAX = 1, 1200


class Organisation(models.Model):
    """A clinic or practice. Every staff member and client belongs to exactly one."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    time_zone = models.CharField(
        max_length=64,
        default="Europe/London",
        validators=[validate_time_zone],
        help_text="Used for every day and week bucket shown to this clinic.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    two_factor_required = models.BooleanField(
        "two-factor sign-in required for staff",
        default=True,
        help_text="Staff without a second factor enrol after their password and reach nothing "
        "else until they have. Clients may always opt in; it is never required of them.",
    )
    retention_months = models.PositiveSmallIntegerField(
        "keep a discharged client's record for (months after discharge)",
        null=True,
        blank=True,
        validators=[
            MinValueValidator(RETENTION_MONTHS_MIN),
            MaxValueValidator(RETENTION_MONTHS_MAX),
        ],
        help_text="No default: how long health records must be kept varies by jurisdiction and "
        "by the client's age. Until it is set, no record is ever proposed for erasure.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def today(self) -> dt.date:
        """Today's date in the clinic's time zone (whatever zone the request runs in)."""
        return timezone.now().astimezone(self.tz).date()


class Role(models.TextChoices):
    CLINIC_ADMIN = "clinic_admin", "Clinic admin"
    CLINICIAN = "clinician", "Clinician"
    CLIENT = "client", "Client"


class User(AbstractUser):
    """A login. Staff (clinic admin, clinician) or a client's portal login; superusers may have
    no organisation and only use the Django admin."""

    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CLINICIAN)
    is_safety_contact = models.BooleanField(
        "safety contact",
        default=False,
        help_text="Sees every safety flag of the clinic and is told of each one by email, "
        "besides the client's primary clinician.",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(is_superuser=True) | Q(organisation__isnull=False),
                name="user_belongs_to_an_organisation",
            )
        ]

    @property
    def is_clinic_admin(self) -> bool:
        return self.role == Role.CLINIC_ADMIN and self.organisation_id is not None

    @property
    def is_clinic_staff(self) -> bool:
        """Clinic admins and clinicians (counselors are clinicians)."""
        return self.role in (Role.CLINIC_ADMIN, Role.CLINICIAN) and self.organisation_id is not None

    @property
    def is_client_user(self) -> bool:
        return self.role == Role.CLIENT and self.organisation_id is not None

    @property
    def label(self) -> str:
        return self.get_full_name() or self.username


class BuiltInOrOwnQuerySet(models.QuerySet):
    """Choices that exist built in (no organisation) plus a clinic's own additions."""

    def available_to(self, organisation: Organisation | int) -> BuiltInOrOwnQuerySet:
        """The built-in rows plus the clinic's own (an Organisation or its id)."""
        return self.filter(Q(organisation__isnull=True) | Q(organisation=organisation))


class Tag(models.Model):
    """A presenting concern. Built-in tags have no organisation; a clinic adds its own but
    cannot remove the built-in ones."""

    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="tags"
    )
    name = models.CharField(max_length=60, validators=[validate_identifier])

    objects = BuiltInOrOwnQuerySet.as_manager()

    BUILT_IN = [
        "Perfectionism",
        "Shame",
        "Burnout",
        "Trauma",
        "ADHD",
        "Anxiety",
        "Depression",
        "Body image",
        "Other",
    ]

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="tag_name_unique_in_organisation"
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(organisation__isnull=True),
                name="builtin_tag_name_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_builtin(self) -> bool:
        return self.organisation_id is None


class Programme(models.Model):
    """A group programme or cohort, e.g. an 8-week self-compassion course."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="programmes"
    )
    name = models.CharField(max_length=120, validators=[validate_identifier])
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_on", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="programme_name_unique_in_organisation"
            ),
            not_before_earliest(
                "starts_on", "Starts on", nullable=True, name="programme_starts_plausible"
            ),
            not_before_earliest(
                "ends_on", "Ends on", nullable=True, name="programme_ends_plausible"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ClientStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ON_HOLD = "on_hold", "On hold"
    DISCHARGED = "discharged", "Discharged"


class ClientQuerySet(models.QuerySet):
    """Scoping lives in clinic.access; these are composable building blocks it uses."""

    def in_organisation(self, organisation_id: int) -> ClientQuerySet:
        return self.filter(organisation_id=organisation_id)

    def matching(self, query: str) -> ClientQuerySet:
        """Clients whose code or display name contains `query`, normalised as codes are
        stored (clinic.validation.search_text), so a look-alike finds the same client."""
        text = search_text(query)
        if not text:
            return self
        return self.filter(Q(code__icontains=text) | Q(display_name__icontains=text))

    def on_care_team_of(self, user: User) -> ClientQuerySet:
        """Clients whose primary clinician `user` is, or on whose care team they are. Asked
        as the ids of the two together (a union), not as "primary clinician or an EXISTS":
        PostgreSQL took that OR for half the clinic and scanned it, joining every client's
        projections, where it reads the union's few dozen ids by index (a clinician's
        dashboard query at 10,000 clients: 12 ms to 0.7 ms)."""
        primary = self.model.objects.filter(primary_clinician=user).order_by().values("pk")
        member = CareTeamMember.objects.filter(clinician=user).order_by().values("client_id")
        return self.filter(pk__in=primary.union(member))


CLIENTS_LOCK_SQL = (
    'SELECT c."id", o."time_zone" FROM "clinic_client" c'
    ' JOIN "clinic_organisation" o ON o."id" = c."organisation_id"'
    ' WHERE c."id" = ANY(%s) ORDER BY c."id" FOR SHARE OF o FOR NO KEY UPDATE OF c'
)


def clients_lock(client_ids: Iterable[int]) -> None:
    """Hold these client rows until the transaction ends, before a write recomputes their
    projections from what it can see. Two writes for one client (an entry from the phone
    while a clinician enters a questionnaire) then follow each other and the second sees the
    first's rows; under PostgreSQL's READ COMMITTED each would otherwise store totals missing
    the other's. FOR NO KEY UPDATE, in id order (no deadlock between writers that lock
    several), compatible with the key-share lock an insert of a client's rows takes. SQLite
    writes one transaction at a time already: no query there.

    The clinic's row is share-locked first, in the same statement (PostgreSQL takes the
    locking clauses in the order written, row by row). A move of the clinic to another time
    zone updates that row before it rebuilds the clinic's projections
    (dashboard.services.organisation_time_zone_set), so it waits for every write in flight,
    and every later write waits for it and then reads the new zone (clients_lock_zones): no
    write buckets its days in a zone the clinic has left. A writer waiting for the clinic's
    row holds no lock the move needs (no client's), so it cannot deadlock with the move.

    The statement is written out rather than built by the ORM: every new entry and practice
    takes this lock, and building the same query each time cost three times what PostgreSQL
    spends running it (0.19 against 0.06 ms). `= ANY(array)` is PostgreSQL's, the one backend
    here that locks rows."""
    if connection.features.has_select_for_update:
        _locked_zones(client_ids)


def submission_key() -> models.UUIDField:
    """The key of the blank form a record was saved from (clinic.forms.SubmissionKeyField)."""
    return models.UUIDField(null=True, blank=True, editable=False)


def one_record_per_submission(name: str) -> models.UniqueConstraint:
    """One record per client and form key. Records saved without a key (imports, seeding)
    stay out of the index."""
    return models.UniqueConstraint(
        fields=["client", "submission"], condition=Q(submission__isnull=False), name=name
    )


def saved_once(record: models.Model, *, same: Iterable[str]) -> models.Model:
    """Insert the new `record` and return it, or return the record its client saved before
    from the same blank form (its `submission` key) with the same values in the fields
    `same`: a second post of one form (a double click on Save, a post a weak connection sends
    again) records nothing twice.

    The unique index decides, inside a savepoint: a second post arriving while the first is
    still being saved waits at the index for the first to commit, then finds its record. The
    usual post pays for the savepoint only (two statements); looking the key up first, under
    the client's lock, cost a keyed post about three of its 24 ms in the ORM. A post under a
    used key whose values differ (the form sent again after Back and a change) is saved as a
    record of its own, without a key: what someone wrote is never dropped. Any integrity error
    other than the key's is raised as it came."""
    if record.submission is None:
        record.save()
        return record
    try:
        with transaction.atomic():
            record.save()
        return record
    except IntegrityError as error:
        if not _is_key_clash(error, type(record)):
            raise
    saved = (
        type(record)
        ._base_manager.filter(client_id=record.client_id, submission=record.submission)
        .first()
    )
    fields = [record._meta.get_field(name).attname for name in same]
    if saved is not None and all(getattr(saved, f) == getattr(record, f) for f in fields):
        return saved
    record.submission = None
    record.save()
    return record


def _is_key_clash(error: IntegrityError, model: type[models.Model]) -> bool:
    """Whether `error` is the model's one-record-per-submission index refusing a row."""
    names = {
        constraint.name
        for constraint in model._meta.constraints
        if isinstance(constraint, models.UniqueConstraint)
        and tuple(constraint.fields) == ("client", "submission")
    }
    diag = getattr(error.__cause__, "diag", None)  # psycopg names the constraint
    if diag is not None:
        return diag.constraint_name in names
    # SQLite names the columns: "UNIQUE constraint failed: <table>.client_id, <table>.submission"
    table = model._meta.db_table
    return f"UNIQUE constraint failed: {table}.client_id, {table}.submission" in str(error)


def clients_lock_zones(client_ids: Iterable[int]) -> dict[int, str]:
    """clients_lock, and each client's clinic time zone as it stands once the lock is held:
    the zone to bucket a write's days in (the zone a request read before its transaction may
    be one the clinic has just left). On SQLite, where the transaction already holds the
    database's write lock, the same read without locking: one query."""
    if connection.features.has_select_for_update:
        return _locked_zones(client_ids)
    return dict(
        Client.objects.filter(pk__in=list(client_ids)).values_list("pk", "organisation__time_zone")
    )


def _locked_zones(client_ids: Iterable[int]) -> dict[int, str]:
    if not connection.in_atomic_block:
        # Outside a transaction the lock would end with its own statement (the ORM's
        # select_for_update refuses that too).
        raise TransactionManagementError("clients_lock holds the clients until a commit")
    ids = sorted({int(pk) for pk in client_ids})
    zones: dict[int, str] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(ids), 2000):
            cursor.execute(CLIENTS_LOCK_SQL, [ids[start : start + 2000]])
            zones.update(cursor.fetchall())
    return zones


class Client(models.Model):
    """A client record, identified within the clinic by a pseudonymous code."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="clients")
    code = models.CharField(
        max_length=32,
        help_text="Pseudonymous identifier, unique within the clinic.",
        validators=[validate_identifier],
    )
    display_name = models.CharField(max_length=120)
    date_of_birth = models.DateField(null=True, blank=True)
    pronouns = models.CharField(max_length=40, blank=True)
    email = models.EmailField(
        blank=True,
        help_text="Used for portal invitations, scheduled questionnaires and the reminders the "
        "client asks for.",
    )
    status = models.CharField(
        max_length=20, choices=ClientStatus.choices, default=ClientStatus.ACTIVE
    )
    intake_date = models.DateField()
    discharge_date = models.DateField(null=True, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="clients")
    programmes = models.ManyToManyField(Programme, blank=True, related_name="clients")
    primary_clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="primary_clients"
    )
    notes = models.TextField(blank=True, max_length=10_000)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="client_record",
        help_text="The client's own portal login, if invited.",
    )
    # Optimistic locking: every save through clinic.services bumps the version; a save that
    # started from an older version is refused instead of overwriting someone else's change.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ClientQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "code"], name="client_code_unique_in_organisation"
            ),
            models.CheckConstraint(
                condition=Q(discharge_date__isnull=True)
                | Q(discharge_date__gte=models.F("intake_date")),
                name="client_discharge_not_before_intake",
            ),
            not_before_earliest("intake_date", "Intake date", name="client_intake_plausible"),
            not_before_earliest(
                "date_of_birth", "Date of birth", nullable=True, name="client_birth_plausible"
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "status"]),
            models.Index(fields=["primary_clinician", "status"]),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def has_established_login(self) -> bool:
        """The client has a portal login and has set its password themselves."""
        return self.user_id is not None and self.user.has_usable_password()

    @property
    def portal_is_read_only(self) -> bool:
        """After discharge the client's portal is read-only: they read and download their own
        data but write nothing (enforced by clinic.access.portal_writable)."""
        return self.status == ClientStatus.DISCHARGED


class UserSession(AbstractBaseSession):
    """A login session (database-backed, as Django's own) that records whose it is, so one
    user's sessions are ended with one indexed delete instead of decoding every session row.
    Written by clinic.sessions.SessionStore whenever the session is saved."""

    # A plain column, not a foreign key: a session may outlive its user for a moment.
    user_id = models.BigIntegerField(null=True, blank=True, db_index=True)

    class Meta(AbstractBaseSession.Meta):
        db_table = "clinic_user_session"

    @classmethod
    def get_session_store_class(cls):
        """The configured engine's store (clinic.sessions, named by settings.SESSION_ENGINE),
        for `get_decoded()`: the engine names the model, not the other way round."""
        return import_module(settings.SESSION_ENGINE).SessionStore


class CareTeamMember(models.Model):
    """A clinician on a client's care team besides the primary clinician."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="care_team")
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="care_team_memberships"
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "clinician"], name="care_team_member_once")
        ]
        indexes = [models.Index(fields=["clinician", "client"])]

    def __str__(self) -> str:
        return f"{self.clinician_id} on care team of {self.client_id}"


class AuditAction(models.TextChoices):
    ACKNOWLEDGE = "acknowledge", "Acknowledged"
    VIEW = "view", "Viewed"
    CREATE = "create", "Created"
    UPDATE = "update", "Changed"
    DISCHARGE = "discharge", "Discharged"
    REACTIVATE = "reactivate", "Reactivated"
    CARE_TEAM = "care_team", "Changed care team"
    PORTAL_INVITE = "portal_invite", "Invited to portal"
    EXPORT = "export", "Exported"
    DELETE = "delete", "Deleted"


class AuditEvent(models.Model):
    """Who viewed or changed a client's record, and when.

    Records field *names* only, never values: free text never reaches the audit trail.
    Append-only: nothing in the application updates or deletes these rows.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="audit_events"
    )
    actor = models.ForeignKey(  # none: the system (a data migration, a one-time link)
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="audit_events")
    action = models.CharField(max_length=30)
    subject = models.CharField(
        max_length=60, default="client", help_text="What was touched, e.g. client, assessment."
    )
    fields = models.JSONField(default=list, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["client", "-at"])]

    def __str__(self) -> str:
        return f"{self.actor_id} {self.action} {self.subject} of client {self.client_id}"

    # What the audit page shows: words, never the stored codes ("inner_critic_log").
    SUBJECT_LABELS = {
        "client": "Client record",
        "inner_critic_log": "Inner-critic log",
        "assessment_link": "One-time questionnaire link",
        "cohort": "Programme cohort",
    }

    @property
    def action_label(self) -> str:
        return AuditAction(self.action).label if self.action in AuditAction else _words(self.action)

    @property
    def subject_label(self) -> str:
        return self.SUBJECT_LABELS.get(self.subject) or _words(self.subject)

    @property
    def field_labels(self) -> list[str]:
        return [_words(name).lower() for name in self.fields or []]


def _words(code: str) -> str:
    """A stored code as words: "practice_log" -> "Practice log"."""
    return str(code).replace("_", " ").strip().capitalize()


class SecurityEventKind(models.TextChoices):
    SIGN_IN = "sign_in", "Signed in (password)"
    SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
    LOCKED_OUT = "locked_out", "Locked out"
    SECOND_FACTOR = "second_factor", "Second factor verified"
    SECOND_FACTOR_FAILED = "second_factor_failed", "Second factor refused"
    ENROLLED = "enrolled", "Second factor added"
    RECOVERY_CODES = "recovery_codes", "New recovery codes made"
    SECOND_FACTOR_REMOVED = "second_factor_removed", "Second factor turned off"
    SECOND_FACTOR_RESET = "second_factor_reset", "Second factor reset by an admin"
    PASSWORD_CHANGED = "password_changed", "Password changed or set"
    SIGNED_OUT_EVERYWHERE = "signed_out_everywhere", "Signed out everywhere"
    SESSIONS_ENDED = "sessions_ended", "Sessions ended (deactivated or reset)"
    SETTINGS_CHANGED = "settings_changed", "Clinic security settings changed"


class SecurityEvent(models.Model):
    """One sign-in or account event, for the clinic's security log (clinic.security).

    Never a password, a code, a typed login name or a full user agent: the user when the login
    name matched an account, the browser family, and the address cut to its network (/24 for
    IPv4, /48 for IPv6). Append-only, kept with the audit trail.
    """

    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="security_events",
        help_text="Empty when no account matched (e.g. an unknown login name).",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="security_events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who did it, when not the user themselves (e.g. an admin's reset).",
    )
    kind = models.CharField(max_length=30, choices=SecurityEventKind.choices)
    method = models.CharField(max_length=30, blank=True)  # e.g. totp, passkey, recovery code
    browser = models.CharField(max_length=40, blank=True)
    network = models.CharField(max_length=50, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["organisation", "-at"]),
            models.Index(fields=["user", "-at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.user_id} at {self.at:%Y-%m-%d %H:%M}"


class RecordErasure(models.Model):
    """That a client's record was erased, when and by whom: never what it held.

    The erased rows are gone, the client's audit events with them (they named the client); this
    row keeps no foreign key to anything erased. `former_id` is the erased record's id, a bare
    number that identifies no one without another copy of the data: after restoring a backup,
    erase these ids again (docs/deployment.md). `rows` counts what was deleted per model.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="record_erasures"
    )
    former_id = models.BigIntegerField()
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    erased_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=30, default="retention")
    rows = models.JSONField(default=dict)

    class Meta:
        ordering = ["-erased_at", "-id"]

    def __str__(self) -> str:
        return f"record {self.former_id} erased {self.erased_at:%Y-%m-%d}"


class EmailKind(models.TextChoices):
    INVITATION = "invitation", "Invitation"
    PASSWORD_RESET = "password_reset", "Password reset"
    REMINDER = "reminder", "Reminder"
    SECURITY = "security", "Account security notice"
    RECORDS_DUE = "records_due", "Records past retention"
    QUESTIONNAIRE = "questionnaire", "Scheduled questionnaire"
    QUESTIONNAIRE_REMINDER = "questionnaire_reminder", "Scheduled questionnaire reminder"
    SAFETY = "safety", "Safety flag"


# Kinds a recipient may unsubscribe from (List-Unsubscribe): what the clinic sends on a schedule
# rather than in answer to someone's action.
UNSUBSCRIBABLE_KINDS = (
    EmailKind.REMINDER,
    EmailKind.QUESTIONNAIRE,
    EmailKind.QUESTIONNAIRE_REMINDER,
)


class EmailStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Not sent"


class OutboxEmail(models.Model):
    """An email to send: written in the same transaction as the change that causes it, then
    sent by a task (clinic.outbox). `key` makes both enqueueing and sending idempotent.

    The body may carry a one-time link, so it is erased once the message is sent or given up;
    what stays is who, what kind, when, and the SMTP server's answer (never the body).
    """

    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    key = models.CharField(max_length=200, unique=True)
    # Public handle for links about this message (unsubscribe); unguessable, never a row id.
    ref = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=30, choices=EmailKind.choices)
    to = models.EmailField()
    client = models.ForeignKey(
        Client, null=True, blank=True, on_delete=models.SET_NULL, related_name="emails"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=EmailStatus.choices, default=EmailStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    not_before = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    smtp_code = models.PositiveSmallIntegerField(null=True, blank=True)
    smtp_reply = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "not_before"], name="outbox_due_idx"),
            models.Index(fields=["organisation", "-created_at"], name="outbox_clinic_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} email {self.pk} ({self.status})"


class EmailOptOut(models.Model):
    """An address that unsubscribed from a clinic's reminders. Respected from the moment it is
    written: no reminder is queued to it, and one already queued is not sent."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    address = models.CharField(max_length=254, help_text="Lower-cased email address.")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "address"], name="opt_out_once_per_clinic"
            )
        ]

    def __str__(self) -> str:
        return f"opt-out {self.pk} at clinic {self.organisation_id}"


# --- The safety pathway ------------------------------------------------------------------------
#
# Crisis contacts are a clinic's own; safety signals are raised by writes in tracking (a client
# says an entry, a practice or a journal brought up something difficult) and in assessments (a
# risk item answered above its threshold). They live here, on the ground floor, so that those
# writers can reach them without importing the dashboard, which reads them and puts them first.


PHONE_CHARACTERS = re.compile(r"[0-9 +()\-]*")


def validate_phone(value: str) -> None:
    digits = sum(character.isdigit() for character in value)
    if not PHONE_CHARACTERS.fullmatch(value) or not 3 <= digits <= 20:
        raise ValidationError(
            "Phone: use digits, spaces and + ( ) - only, with 3 to 20 digits (e.g. 116 123)."
        )


class CrisisContact(models.Model):
    """Where a client of the clinic can turn in a crisis: shown one tap away on every portal page,
    the one-time questionnaire pages and the screens after something was difficult."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="crisis_contacts"
    )
    name = models.CharField(max_length=100, validators=[validate_identifier])
    phone = models.CharField(max_length=40, blank=True, validators=[validate_phone])
    text_line = models.CharField(
        "text line", max_length=80, blank=True, help_text="E.g. Text SHOUT to 85258."
    )
    hours = models.CharField(max_length=80, blank=True, help_text="E.g. 24 hours, every day.")
    note = models.CharField(max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=100)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(phone="") | ~Q(text_line=""),
                name="crisis_contact_has_a_phone_or_text_line",
                violation_error_message="Give a phone number or a text line (or both).",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tel(self) -> str:
        """The phone number for a tel: link (digits and a leading +)."""
        digits = "".join(c for c in self.phone if c.isdigit())
        return f"+{digits}" if self.phone.strip().startswith("+") else digits


class SignalKind(models.TextChoices):
    SAFETY = "safety", "Safety"  # the client said something brought up something difficult
    RISK_ITEM = "risk_item", "Risk item"  # e.g. PHQ-9 item 9 answered above 0


class SignalSource(models.TextChoices):
    CRITIC_ENTRY = "critic_entry", "an inner-critic entry"
    PRACTICE = "practice", "a practice"
    JOURNAL = "journal", "a journal entry"
    QUESTIONNAIRE = "questionnaire", "a questionnaire"


class SignalAction(models.TextChoices):
    CONTACTED = "contacted", "Contacted the client"
    SCHEDULED = "scheduled", "Scheduled a session"
    ESCALATED = "escalated", "Escalated"
    NO_ACTION = "no_action", "No action needed (say why)"


class SafetySignal(models.Model):
    """A safety or risk signal: raised by a write, open until someone acknowledges it with a note
    and the action taken. Holds no words of the client: only what kind of record raised it (its
    id, e.g. to link a questionnaire) and whether the client asked to be contacted."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="safety_signals")
    kind = models.CharField(max_length=20, choices=SignalKind.choices)
    source = models.CharField(max_length=20, choices=SignalSource.choices)
    source_id = models.PositiveBigIntegerField()  # the entry, practice, journal or questionnaire
    # What raised it in the raising app's words, never the client's (e.g. "PHQ-9 item 9: 2").
    label = models.CharField(max_length=80, blank=True)
    asked_for_contact = models.BooleanField(default=False)
    raised_at = models.DateTimeField(default=timezone.now)
    raised_by = models.ForeignKey(  # none: a one-time link
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=20, choices=SignalAction.choices, blank=True)
    note = models.TextField(max_length=2000, blank=True)

    class Meta:
        ordering = ["-raised_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "kind", "source", "source_id"],
                condition=Q(acknowledged_at__isnull=True),
                name="one_open_signal_per_record",
            ),
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True, action="", note="")
                | (Q(acknowledged_at__isnull=False) & ~Q(action="") & ~Q(note="")),
                name="signal_acknowledged_with_action_and_note",
            ),
        ]
        indexes = [
            models.Index(fields=["client", "acknowledged_at"], name="signal_client_open"),
            models.Index(fields=["organisation", "acknowledged_at"], name="signal_clinic_open"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} signal {self.pk} of client {self.client_id}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None

    @property
    def summary(self) -> str:
        """What raised it, in words that hold nothing the client wrote (whether the client asked
        to be contacted is shown beside it)."""
        if self.kind == SignalKind.RISK_ITEM:
            return f"A risk item was answered above 0: {self.label or 'a questionnaire'}"
        return f"The client said {SignalSource(self.source).label} brought up something difficult"
