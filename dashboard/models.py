"""The dashboard's own rows: a clinic's flag thresholds, per-client assessment schedules, flag
acknowledgements (kept for good) and a per-client summary derived from the other apps' data.

ClientSummary is derived data, never entered by anyone: `dashboard.services.summaries_refresh`
rebuilds it from assessments and tracking, and signal receivers (dashboard.signals) mark it stale
whenever its sources change, so a page never shows a summary older than its data. Everything
that depends on today's date (overdue, quiet for 14 days, the 14-day counts) is worked out when
a page is read, from the dates stored here.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clinic.models import Client, Organisation


class FlagKind(models.TextChoices):
    DETERIORATION = "deterioration", "Reliable deterioration"
    QUIET = "quiet", "Stopped logging"
    OVERDUE = "overdue", "Assessment overdue"
    RISING = "rising", "Rising critic intensity"


class FlagSettings(models.Model):
    """A clinic's thresholds for the dashboard flags. A clinic without a row uses the defaults."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="flag_settings"
    )
    assessment_every_weeks = models.PositiveSmallIntegerField(
        "assess every (weeks)",
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(52)],
        help_text="The default schedule; a client's own schedule overrides it.",
    )
    overdue_after_days = models.PositiveSmallIntegerField(
        "overdue after (days past due)",
        default=7,
        validators=[MaxValueValidator(90)],
    )
    quiet_days = models.PositiveSmallIntegerField(
        "quiet for (days)",
        default=14,
        validators=[MinValueValidator(3), MaxValueValidator(90)],
        help_text="No inner-critic entry or practice for this many days raises a flag.",
    )
    quiet_min_records = models.PositiveSmallIntegerField(
        "…by a client who logged at least (entries and practice sessions)",
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    rising_weeks = models.PositiveSmallIntegerField(
        "rising intensity over (weeks)",
        default=4,
        validators=[MinValueValidator(3), MaxValueValidator(12)],
    )
    rising_min_slope = models.FloatField(
        "…by at least (points a week)",
        default=0.5,
        validators=[MinValueValidator(0.1), MaxValueValidator(5)],
        help_text="Least-squares trend of the weekly mean intensity (0-10 scale).",
    )
    deterioration_subscales = models.BooleanField(
        "flag reliable deterioration on the negative subscales too",
        default=True,
        help_text="Self-judgment, isolation and over-identification, besides the SCS total.",
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Counted up whenever anything a dashboard page shows may have changed (a summary rebuilt,
    # a flag acknowledged, thresholds, programmes, staff names): cached fragments carry it in
    # their key, so a change is never served stale from any worker's cache.
    dashboard_version = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        verbose_name_plural = "flag settings"

    def __str__(self) -> str:
        return f"Flag settings of {self.organisation_id}"

    @classmethod
    def for_organisation(cls, organisation_id: int) -> FlagSettings:
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


class FlagAcknowledgement(models.Model):
    """A clinician saw a flag and noted what they will do. Kept for good, never edited.

    `episode` names the data behind the flag (the assessment, the last activity day, the due
    date, the week): the acknowledgement quiets that flag until its data changes."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=FlagKind.choices)
    episode = models.CharField(max_length=40)
    note = models.TextField(max_length=2000)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-acknowledged_at", "-id"]
        indexes = [models.Index(fields=["client", "kind", "-acknowledged_at"])]

    def __str__(self) -> str:
        return f"{self.kind} of {self.client_id} acknowledged ({self.episode})"


class ClientSummary(models.Model):
    """What the dashboard shows of one client, derived from assessments and tracking."""

    client = models.OneToOneField(
        Client, on_delete=models.CASCADE, primary_key=True, related_name="dashboard_summary"
    )
    # Marked stale (and `changes` counted up) in the same transaction as any change to the
    # client's data; a refresh clears `stale` only if no change came in while it read.
    stale = models.BooleanField(default=True)
    changes = models.PositiveBigIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    # SCS (26 items): baseline is the first final administration, latest the newest.
    scs_count = models.PositiveIntegerField(default=0)
    scs_baseline_on = models.DateField(null=True, blank=True)
    scs_baseline_total = models.FloatField(null=True, blank=True)
    scs_latest_id = models.PositiveBigIntegerField(null=True, blank=True)
    scs_latest_on = models.DateField(null=True, blank=True)
    scs_latest_total = models.FloatField(null=True, blank=True)
    scs_latest_band = models.CharField(max_length=30, blank=True)
    scs_change = models.FloatField(null=True, blank=True)  # latest - baseline, same method only
    scs_verdict = models.CharField(max_length=30, blank=True)  # reliable change of the total
    scs_history = models.JSONField(default=list, blank=True)  # [[iso day, total], ...] last 12
    deteriorated = models.JSONField(default=list, blank=True)  # scales reliably worse

    last_assessed_on = models.DateField(null=True, blank=True)  # the latest SCS
    next_due_on = models.DateField(null=True, blank=True)  # None: schedule paused

    last_entry_at = models.DateTimeField(null=True, blank=True)
    last_activity_on = models.DateField(null=True, blank=True)  # entry or practice, clinic day
    activity_count = models.PositiveIntegerField(default=0)  # entries + practice sessions

    rising_slope = models.FloatField(null=True, blank=True)  # points a week, None: too few weeks
    rising_through = models.DateField(null=True, blank=True)  # the last day of the windows
    rising_week = models.DateField(null=True, blank=True)  # its Monday: the flag's episode

    # Flags raised on stored data, and the episode last acknowledged for each kind. A flag is
    # open while its current episode differs from the acknowledged one (see dashboard.flags).
    deterioration = models.BooleanField(default=False)  # episode: scs_latest_id
    ack_deterioration = models.PositiveBigIntegerField(null=True, blank=True)
    ack_quiet = models.DateField(null=True, blank=True)  # episode: last_activity_on
    ack_overdue = models.DateField(null=True, blank=True)  # episode: next_due_on
    ack_rising = models.DateField(null=True, blank=True)  # episode: week of rising_through

    class Meta:
        verbose_name_plural = "client summaries"
        indexes = [
            models.Index(fields=["client"], name="summary_stale", condition=Q(stale=True)),
        ]

    def __str__(self) -> str:
        return f"Dashboard summary of {self.client_id}"
