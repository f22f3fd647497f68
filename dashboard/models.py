"""The dashboard's own rows: a clinic's flag thresholds, flag acknowledgements (kept for good)
and, per client, which episode of each flag was last acknowledged.

Everything else the dashboard shows is read from the projections the other apps keep on write
(assessments' ScoreSummary, ScoreInterval and BaselineMoments; tracking's ClientDay and
ClientActivity). Whatever depends on today's date (due, overdue, quiet, the 14-day counts) is
worked out when a page is read, from stored dates: nothing needs rebuilding at midnight.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clinic.models import Client, Organisation
from tracking.analysis import RISING_WEEKS


class FlagKind(models.TextChoices):
    """The flags acknowledged here. Safety and risk flags are acknowledged on their signal
    (clinic.SafetySignal), with the action taken."""

    DETERIORATION = "deterioration", "Reliable deterioration"
    DISTRESS = "distress", "Practice raising distress"
    RISING = "rising", "Rising critic intensity"
    QUIET = "quiet", "Stopped logging"
    OVERDUE = "overdue", "Assessment overdue"


class FlagSettings(models.Model):
    """A clinic's thresholds for the dashboard flags. A clinic without a row uses the defaults."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="flag_settings"
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
        validators=[MinValueValidator(min(RISING_WEEKS)), MaxValueValidator(max(RISING_WEEKS))],
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
    distress_min_rises = models.PositiveSmallIntegerField(
        "practice raising distress: in at least (of the last 3 rated practices)",
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(3)],
        help_text="Practices whose distress after exceeded distress before (rated 0-10).",
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name_plural = "flag settings"
        constraints = [
            # The projections keep a slope for these window lengths only (ClientActivity's
            # rising_wN columns): the dashboards have no column to compare for any other.
            models.CheckConstraint(
                condition=Q(rising_weeks__gte=min(RISING_WEEKS))
                & Q(rising_weeks__lte=max(RISING_WEEKS)),
                name="flag_settings_rising_weeks_kept",
                violation_error_message=(
                    f"Rising intensity is measured over {min(RISING_WEEKS)} to "
                    f"{max(RISING_WEEKS)} weeks."
                ),
            )
        ]

    def __str__(self) -> str:
        return f"Flag settings of {self.organisation_id}"

    @classmethod
    def for_organisation(cls, organisation_id: int) -> FlagSettings:
        """The clinic's settings, or the defaults (unsaved) when it has none."""
        found = cls.objects.filter(organisation_id=organisation_id).first()
        return found or cls(organisation_id=organisation_id)


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


class FlagState(models.Model):
    """Per client, the episode of each flag last acknowledged (written only by the dashboard's
    acknowledge service, beside the FlagAcknowledgement it records). A flag is open while its
    current episode, read from the other apps' projections, differs from this one."""

    client = models.OneToOneField(
        Client, on_delete=models.CASCADE, primary_key=True, related_name="flag_state"
    )
    ack_deterioration = models.PositiveBigIntegerField(null=True, blank=True)  # administration
    ack_quiet = models.DateField(null=True, blank=True)  # the last active day
    ack_overdue = models.DateField(null=True, blank=True)  # the due date
    ack_rising = models.DateField(null=True, blank=True)  # the Monday of the latest entry's week
    ack_distress = models.PositiveBigIntegerField(null=True, blank=True)  # latest rated practice

    def __str__(self) -> str:
        return f"Acknowledged flags of {self.client_id}"
