"""Administrations of self-report instruments, their scores, corrections and one-time links.

The instrument definitions live as data files (assessments/instruments/); rows here refer to an
instrument by code and version. Answers are kept as entered: once an administration is final,
changes are AnswerCorrection rows and the Score is recomputed from the answers with the
corrections applied, so nothing entered is ever lost.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from assessments.instruments import get_instrument
from assessments.scoring import STATUS_SCORED
from clinic.models import (
    Client,
    Organisation,
    OutboxEmail,
    not_before_earliest,
    one_record_per_submission,
    submission_key,
)

ONE_TIME_LINK_DAYS = 7


class Mode(models.TextChoices):
    PAPER = "paper", "Paper form"
    INTERVIEW = "interview", "Interview"
    CLIENT_PORTAL = "client_portal", "Client portal"
    ONE_TIME_LINK = "one_time_link", "One-time link"
    IMPORT = "import", "Imported file"


STAFF_ENTRY_MODES = (Mode.PAPER, Mode.INTERVIEW)


class Status(models.TextChoices):
    DRAFT = "draft", "Draft (not finished)"
    FINAL = "final", "Final"


class AdministrationQuerySet(models.QuerySet):
    def final(self) -> AdministrationQuerySet:
        return self.filter(status=Status.FINAL)

    def scored(self) -> AdministrationQuerySet:
        """Final administrations whose score counts: every subscale scored under the
        missing-item rule (and so the total, where the instrument has one).

        An incomplete form is kept and shown as entered, but it never counts as a client's
        baseline or latest score, never satisfies the schedule and never clears a flag: every
        read of "the client's scores" starts here."""
        return self.filter(status=Status.FINAL, score__status=STATUS_SCORED)

    def for_clients(self, clients) -> AdministrationQuerySet:
        return self.filter(client__in=clients)

    def with_score_values(self) -> AdministrationQuerySet:
        """Each administration's day with its score's numbers (total and its method,
        subscales, composites) in the same row, and nothing else: no answers, wording or
        scoring details, which a trend or a comparison of scores never reads and which are
        most of a row's bytes (the answers' JSON alone is decoded per row)."""
        return self.select_related("score").only(
            "administered_on",
            "created_at",
            "score__total",
            "score__total_method",
            "score__subscales",
            "score__composites",
        )


class Administration(models.Model):
    """One completion of one instrument by one client."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="administrations"
    )
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="administrations")
    instrument_code = models.CharField(max_length=30)
    instrument_version = models.CharField(max_length=20)
    administered_on = models.DateField()
    mode = models.CharField(max_length=20, choices=Mode.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.FINAL)
    # Item number (as text, JSON keys are strings) -> the answer as first entered (int or None).
    answers = models.JSONField(default=dict, blank=True)
    wording_used = models.CharField(
        max_length=200,
        blank=True,
        help_text="Which item wording was shown (clinic-loaded file or our own labels).",
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    finalised_at = models.DateTimeField(null=True, blank=True)
    submission = submission_key()  # a paper form's entry posted twice saves one administration

    objects = AdministrationQuerySet.as_manager()

    class Meta:
        ordering = ["administered_on", "created_at", "pk"]
        constraints = [
            not_before_earliest(
                "administered_on", "Date administered", name="administered_on_plausible"
            ),
            one_record_per_submission("administration_one_per_submission"),
        ]
        indexes = [
            models.Index(
                fields=["client", "instrument_code", "status", "administered_on"],
                name="assess_client_instr_idx",
            ),
            models.Index(
                fields=["organisation", "instrument_code", "status"],
                name="assess_org_instr_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_code} for {self.client_id} on {self.administered_on}"

    @property
    def is_final(self) -> bool:
        return self.status == Status.FINAL

    def answers_with(self, corrections) -> dict[int, int | None]:
        """The answers as entered, with each correction applied in the order made."""
        current = {int(key): value for key, value in self.answers.items()}
        for correction in sorted(corrections, key=lambda c: (c.corrected_at, c.pk or 0)):
            current[correction.item] = correction.new_value
        return current


class Score(models.Model):
    """The score of one administration, as computed by assessments.scoring, denormalised."""

    administration = models.OneToOneField(
        Administration, on_delete=models.CASCADE, related_name="score"
    )
    status = models.CharField(max_length=12)  # STATUS_SCORED / incomplete
    total = models.FloatField(null=True, blank=True)
    total_method = models.CharField(max_length=30, blank=True)
    band = models.CharField(max_length=30, blank=True)
    subscales = models.JSONField(default=dict)  # code -> SubscaleScore.as_dict()
    composites = models.JSONField(default=dict, blank=True)  # code -> score or None
    missing_items = models.JSONField(default=list, blank=True)
    prorated = models.BooleanField(default=False)
    missing_rule = models.CharField(max_length=30, blank=True)
    scored_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"score of {self.administration_id}: {self.total}"

    def subscale_score(self, code: str) -> float | None:
        entry = self.subscales.get(code) or {}
        return entry.get("score")

    def scale_value(self, scale: str) -> float | None:
        if scale == "total":
            return self.total
        if scale in self.composites:
            return self.composites[scale]
        return self.subscale_score(scale)


class AnswerCorrection(models.Model):
    """A change to one answer of a final administration: old and new value, who, when, why."""

    administration = models.ForeignKey(
        Administration, on_delete=models.PROTECT, related_name="corrections"
    )
    item = models.PositiveSmallIntegerField()
    old_value = models.SmallIntegerField(null=True, blank=True)
    new_value = models.SmallIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=500)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    corrected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["corrected_at", "pk"]

    def __str__(self) -> str:
        return f"item {self.item}: {self.old_value} -> {self.new_value}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def default_link_expiry() -> dt.datetime:
    return timezone.now() + dt.timedelta(days=ONE_TIME_LINK_DAYS)


class OneTimeLink(models.Model):
    """A link that lets one client complete one assessment without logging in.

    Only the sha256 of the token is stored; the token itself is shown once to the clinician.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="one_time_links")
    instrument_code = models.CharField(max_length=30)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(default=default_link_expiry)
    used_at = models.DateTimeField(null=True, blank=True)
    administration = models.OneToOneField(
        Administration,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="one_time_link",
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"link for {self.client_id} ({self.instrument_code})"

    def is_open(self, now: dt.datetime | None = None) -> bool:
        """Unused, unexpired, and its questionnaire not already finished elsewhere.

        Load with select_related("administration") to avoid a query here."""
        now = now or timezone.now()
        finished = self.administration_id is not None and self.administration.is_final
        return self.used_at is None and self.expires_at > now and not finished

    @property
    def audit_subject(self) -> str:
        """What the audit trail names when someone holding the link opens its page (the
        first such event is when a scheduled questionnaire was "opened")."""
        return f"assessment_link {self.pk}"


class ItemWording(models.Model):
    """The published item wording a clinic loaded from its own file (never shipped with us)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    instrument_code = models.CharField(max_length=30)
    instrument_version = models.CharField(max_length=20)
    source = models.CharField(max_length=200, help_text="File name or description of the source.")
    wording = models.JSONField(default=dict)  # item number (text) -> wording
    loaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "instrument_code"], name="one_wording_per_instrument"
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument_code} wording ({self.source})"


class ReliableChangeSetting(models.Model):
    """A clinic's reference SD for reliable change on one scale of one instrument."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    instrument_code = models.CharField(max_length=30)
    scale = models.CharField(max_length=40, default="total")
    reference_sd = models.FloatField()
    source = models.CharField(max_length=300)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "instrument_code", "scale"], name="one_sd_per_scale"
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument_code} {self.scale}: SD {self.reference_sd}"


# --- Schedule ----------------------------------------------------------------------------------


class AssessmentSettings(models.Model):
    """A clinic's questionnaire defaults. A clinic without a row uses the defaults."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="assessment_settings"
    )
    every_weeks = models.PositiveSmallIntegerField(
        "assess every (weeks)",
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(52)],
        help_text="The default SCS schedule; a client's own schedule overrides it.",
    )
    # Scheduled questionnaires (assessments.services.invitations_send_due).
    link_valid_days = models.PositiveSmallIntegerField(
        "link valid for (days)",
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text="How long the emailed link opens the questionnaire (1 to 30 days).",
    )
    reminder_count = models.PositiveSmallIntegerField(
        "reminders",
        default=1,
        validators=[MaxValueValidator(3)],
        help_text="How many reminders, while the questionnaire is not completed (0 to 3).",
    )
    remind_after_days = models.PositiveSmallIntegerField(
        "remind after (days)",
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(14)],
        help_text="Days after the email, and after each reminder, until the next (1 to 14).",
    )
    prorate_sum_totals = models.BooleanField(
        "prorate one blank PHQ-9 or GAD-7 item",
        default=False,
        help_text="Off (the default): a PHQ-9 or GAD-7 total needs every item. On: a total with "
        "one blank item is the mean of the answered items x the number of items, marked "
        "prorated. Applies to forms scored from now on.",
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "assessment settings"

    def __str__(self) -> str:
        return f"Assessment settings of {self.organisation_id}"

    @classmethod
    def for_organisation(cls, organisation_id: int) -> AssessmentSettings:
        """The clinic's settings, or the defaults (unsaved) when it has none."""
        found = cls.objects.filter(organisation_id=organisation_id).first()
        return found or cls(organisation_id=organisation_id)


class AssessmentSchedule(models.Model):
    """How often one client is to complete the SCS, overriding the clinic's default."""

    client = models.OneToOneField(
        Client, on_delete=models.CASCADE, related_name="assessment_schedule"
    )
    every_weeks = models.PositiveSmallIntegerField(
        "assess every (weeks)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(52)],
        help_text="Leave empty to pause the schedule (never overdue).",
    )
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    set_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Schedule of {self.client_id}: {self.every_weeks or 'paused'}"


class QuestionnaireInvitation(models.Model):
    """One scheduled questionnaire: made when the client's schedule fell due, with a one-time
    link emailed to the client, or the reason no email could go (`not_delivered`).

    Only what happened here is stored; everything else is read from the rows it points at when
    a page is shown (assessments.invitations): sent or failed from the outbox email and the mail
    server's answer, reminded from the last reminder's email, opened from the audit trail (the
    first view of the link's page), completed and expired from the link."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="questionnaire_invitations"
    )
    instrument_code = models.CharField(max_length=30)
    due_on = models.DateField(help_text="The due date of the schedule this answers.")
    scheduled_at = models.DateTimeField(default=timezone.now)
    not_delivered = models.CharField(
        max_length=120, blank=True, help_text="Why no email went, e.g. no email address."
    )
    link = models.OneToOneField(
        OneTimeLink, null=True, blank=True, on_delete=models.PROTECT, related_name="invitation"
    )
    email = models.OneToOneField(
        OutboxEmail, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The clinic's reminder plan when the invitation was made (a later change of the clinic's
    # settings applies to later invitations).
    reminders_planned = models.PositiveSmallIntegerField(default=0)
    remind_after_days = models.PositiveSmallIntegerField(default=2)
    reminders_queued = models.PositiveSmallIntegerField(default=0)
    last_reminder = models.ForeignKey(
        OutboxEmail, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # With the server's secret key, derives the link's token again for a reminder (only the
    # token's hash is stored, with the link): never shown, never exported.
    token_salt = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-scheduled_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "instrument_code", "due_on"], name="one_invitation_per_due_date"
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument_code} due {self.due_on} for {self.client_id}"


# --- Projections: derived from the rows above, kept by assessments.projections -----------------
#
# Never entered by anyone. Every service that writes administrations, scores or corrections
# calls assessments.projections in the same transaction, and `manage.py refresh_dashboard`
# recomputes them from the raw rows and reports any difference.


# The SCS's subscale codes, each with a typed change column on ScoreSummary and ScoreInterval.
SCS_SUBSCALES = tuple(scale.code for scale in get_instrument("scs").subscales)


class ScoreSummary(models.Model):
    """One client's scored administrations of one instrument, as the pages read them: the
    baseline (first scored) and the latest, their scale values, and the last totals."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="score_summaries")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    instrument_code = models.CharField(max_length=30)
    scored_count = models.PositiveIntegerField(default=0)
    baseline = models.ForeignKey(Administration, on_delete=models.CASCADE, related_name="+")
    baseline_on = models.DateField()
    baseline_method = models.CharField(max_length=30, blank=True)
    baseline_values = models.JSONField(default=dict)  # scale code ("total" too) -> value
    latest = models.ForeignKey(Administration, on_delete=models.CASCADE, related_name="+")
    latest_on = models.DateField()
    latest_method = models.CharField(max_length=30, blank=True)
    latest_values = models.JSONField(default=dict)
    latest_total = models.FloatField(null=True, blank=True)
    latest_band = models.CharField(max_length=30, blank=True)
    # latest - baseline total, only when both totals use one method and differ in time.
    total_change = models.FloatField(null=True, blank=True)
    # latest - baseline on each SCS subscale (SCS_SUBSCALES), when the two are
    # different administrations and both have the value; NULL for other instruments. Typed
    # columns for the dashboard's deterioration flag, which compares them for every client in
    # scope: read out of the JSON values above, they took a third of a clinic admin's page.
    change_self_kindness = models.FloatField(null=True, blank=True)
    change_self_judgment = models.FloatField(null=True, blank=True)
    change_common_humanity = models.FloatField(null=True, blank=True)
    change_isolation = models.FloatField(null=True, blank=True)
    change_mindfulness = models.FloatField(null=True, blank=True)
    change_over_identification = models.FloatField(null=True, blank=True)
    history = models.JSONField(default=list)  # [[iso day, total], ...] latest's method, last 12

    SUBSCALES = SCS_SUBSCALES

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "instrument_code"], name="one_score_summary_per_instrument"
            )
        ]
        indexes = [models.Index(fields=["organisation", "instrument_code"])]

    def __str__(self) -> str:
        return f"{self.instrument_code} scores of {self.client_id}"


class BaselineMoments(models.Model):
    """n, sum and sum of squares of a clinic's baseline values on one scale (one baseline per
    client): the clinic's own baseline SD for reliable change, without a cache."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    instrument_code = models.CharField(max_length=30)
    scale = models.CharField(max_length=40)
    n = models.IntegerField(default=0)
    total = models.FloatField(default=0.0)
    total_sq = models.FloatField(default=0.0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "instrument_code", "scale"], name="one_moments_per_scale"
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument_code} {self.scale} baselines of {self.organisation_id}"


class DoseDay(models.Model):
    """Practice minutes and reframes of one client on one clinic-local day.

    Written only by tracking's services (the app that owns practice and reframes), in the same
    transaction as the practice or reframe; kept here so that a questionnaire written by this
    app can carry the dose since the previous one without reading tracking's rows."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    practice_minutes = models.IntegerField(default=0)
    reframes = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "day"], name="one_dose_day_per_client")
        ]

    def __str__(self) -> str:
        return f"dose of {self.client_id} on {self.day}"


class ScoreInterval(models.Model):
    """Two consecutive scored SCS administrations of one client (on different days), the change
    on the total and each subscale, and the practice and reframes in between (start < day <=
    end: practice on a questionnaire's day counts towards the change up to it).

    Kept for the SCS (INTERVAL_INSTRUMENTS), the measure dose-response is about, with one typed
    column per number: a whole clinic's dose-response reads 190,000 of these rows, and numbers
    in columns read an order of magnitude faster than numbers inside JSON."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    instrument_code = models.CharField(max_length=30)
    start = models.ForeignKey(Administration, on_delete=models.CASCADE, related_name="+")
    end = models.ForeignKey(Administration, on_delete=models.CASCADE, related_name="+")
    start_on = models.DateField()
    end_on = models.DateField()
    days = models.PositiveIntegerField()  # end_on - start_on, at least 1
    # later - earlier; the total only when both totals use one method.
    change_total = models.FloatField(null=True, blank=True)
    change_self_kindness = models.FloatField(null=True, blank=True)
    change_self_judgment = models.FloatField(null=True, blank=True)
    change_common_humanity = models.FloatField(null=True, blank=True)
    change_isolation = models.FloatField(null=True, blank=True)
    change_mindfulness = models.FloatField(null=True, blank=True)
    change_over_identification = models.FloatField(null=True, blank=True)
    practice_minutes = models.IntegerField(default=0)
    reframes = models.IntegerField(default=0)

    SUBSCALES = SCS_SUBSCALES

    class Meta:
        indexes = [
            models.Index(fields=["organisation", "instrument_code"]),
            models.Index(fields=["client", "end_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_code} {self.start_on}..{self.end_on} of {self.client_id}"
