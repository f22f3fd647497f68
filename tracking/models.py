"""Between-session logs: inner-critic moments with reframes, practice sessions, weekly journal.

Every row belongs to one client. Reach them only through tracking.access, which joins through
clinic.access; clinician-facing reads go through tracking.selectors, which never load the text
of a private entry.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from clinic.models import (
    BuiltInOrOwnQuerySet,
    Client,
    Organisation,
    not_before_earliest,
    one_record_per_submission,
    submission_key,
)
from clinic.validation import EARLIEST_INSTANT, long_date, validate_identifier

TEXT_LIMIT = 2000


class TriggerCategory(models.Model):
    """What set the critic off. Built-ins have no organisation; a clinic may add its own."""

    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="trigger_categories",
    )
    name = models.CharField(max_length=60, validators=[validate_identifier])
    position = models.PositiveSmallIntegerField(default=100)

    objects = BuiltInOrOwnQuerySet.as_manager()

    BUILT_IN = [
        "Work",
        "Relationships",
        "Body and appearance",
        "Performance",
        "Parenting",
        "Health",
        "Money",
        "Other",
    ]

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "trigger categories"
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="trigger_name_unique_in_organisation"
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(organisation__isnull=True),
                name="builtin_trigger_name_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Pattern(models.TextChoices):
    """The uncompassionate side of the three SCS components."""

    SELF_JUDGMENT = "self_judgment", "Self-judgment"
    ISOLATION = "isolation", "Isolation"
    OVER_IDENTIFICATION = "over_identification", "Over-identification"


class Emotion(models.TextChoices):
    SHAME = "shame", "Shame"
    ANXIETY = "anxiety", "Anxiety"
    SADNESS = "sadness", "Sadness"
    ANGER = "anger", "Anger"
    GUILT = "guilt", "Guilt"
    LONELINESS = "loneliness", "Loneliness"
    FRUSTRATION = "frustration", "Frustration"


def _range(field: str, name: str, *, low: int = 0, high: int = 10, nullable: bool = False):
    condition = Q(**{f"{field}__gte": low, f"{field}__lte": high})
    if nullable:
        condition |= Q(**{f"{field}__isnull": True})
    return models.CheckConstraint(condition=condition, name=name)


def _text_within_limit(field: str, name: str):
    return models.CheckConstraint(condition=LessThanOrEqual(Length(field), TEXT_LIMIT), name=name)


class InnerCriticEntry(models.Model):
    """One moment the inner critic spoke, and (then or later) a self-compassionate reply."""

    # Fields a clinician never sees when the client has kept the entry private.
    TEXT_FIELDS = (
        "critic_text",
        "situation",
        "emotions_other",
        "body_location",
        "mindful_acknowledgement",
        "common_humanity",
        "self_kindness",
        "friend_response",
    )
    REFRAME_FIELDS = (
        "mindful_acknowledgement",
        "common_humanity",
        "self_kindness",
        "friend_response",
    )

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="critic_entries")
    occurred_at = models.DateTimeField(default=timezone.now)
    critic_text = models.TextField("what the critic said", max_length=TEXT_LIMIT)
    intensity = models.PositiveSmallIntegerField(help_text="0 (barely) to 10 (overwhelming).")
    situation = models.TextField(blank=True, max_length=TEXT_LIMIT)
    trigger = models.ForeignKey(
        TriggerCategory, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    emotions = models.JSONField(default=list, blank=True)
    emotions_other = models.CharField("other emotions", max_length=200, blank=True)
    body_location = models.CharField("where it is felt in the body", max_length=200, blank=True)
    pattern = models.CharField(max_length=30, choices=Pattern.choices, blank=True)
    mindful_acknowledgement = models.TextField(blank=True, max_length=TEXT_LIMIT)
    common_humanity = models.TextField(blank=True, max_length=TEXT_LIMIT)
    self_kindness = models.TextField(blank=True, max_length=TEXT_LIMIT)
    friend_response = models.TextField(
        "what I would say to a friend", blank=True, max_length=TEXT_LIMIT
    )
    intensity_after = models.PositiveSmallIntegerField(null=True, blank=True)
    reframed_at = models.DateTimeField(null=True, blank=True)
    is_private = models.BooleanField(
        "keep the words private",
        default=False,
        help_text="Your care team sees that this entry exists and its intensity, not its words.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    submission = submission_key()  # a form posted twice saves one entry

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "inner-critic entries"
        constraints = [
            one_record_per_submission("critic_one_entry_per_submission"),
            _range("intensity", "critic_intensity_0_10"),
            _range("intensity_after", "critic_intensity_after_0_10", nullable=True),
            models.CheckConstraint(condition=~Q(critic_text=""), name="critic_text_not_empty"),
            _text_within_limit("critic_text", "critic_text_within_limit"),
            models.CheckConstraint(
                condition=Q(intensity_after__isnull=True) | Q(reframed_at__isnull=False),
                name="critic_intensity_after_needs_reframe",
            ),
            models.CheckConstraint(
                condition=Q(occurred_at__gte=EARLIEST_INSTANT),
                name="critic_occurred_at_plausible",
                violation_error_message=f"When cannot be before {long_date(EARLIEST_INSTANT)}.",
            ),
        ]
        indexes = [
            models.Index(fields=["client", "occurred_at"], name="critic_client_time"),
        ]

    def __str__(self) -> str:
        return f"Entry {self.pk} of client {self.client_id}"

    @property
    def is_reframed(self) -> bool:
        return self.reframed_at is not None


class PracticeType(models.TextChoices):
    SELF_COMPASSION_BREAK = "self_compassion_break", "Self-compassion break"
    HAND_ON_HEART = "hand_on_heart", "Hand on heart"
    LOVING_KINDNESS = "loving_kindness", "Loving-kindness phrases"
    COMPASSIONATE_FRIEND = "compassionate_friend", "Compassionate friend"
    JOURNALING = "journaling", "Journaling"
    OTHER = "other", "Other"


class PracticeSession(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="practice_sessions")
    practised_on = models.DateField(default=timezone.localdate)
    practice_type = models.CharField(max_length=30, choices=PracticeType.choices)
    minutes = models.PositiveSmallIntegerField()
    distress_before = models.PositiveSmallIntegerField(null=True, blank=True)
    distress_after = models.PositiveSmallIntegerField(null=True, blank=True)
    note = models.TextField(blank=True, max_length=TEXT_LIMIT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    submission = submission_key()  # a form posted twice logs one practice

    class Meta:
        ordering = ["-practised_on", "-id"]
        constraints = [
            one_record_per_submission("practice_one_per_submission"),
            _range("minutes", "practice_minutes_1_600", low=1, high=600),
            _range("distress_before", "practice_distress_before_0_10", nullable=True),
            _range("distress_after", "practice_distress_after_0_10", nullable=True),
            not_before_earliest("practised_on", "Date", name="practice_date_plausible"),
        ]
        indexes = [
            models.Index(fields=["client", "practised_on"], name="practice_client_day"),
        ]

    def __str__(self) -> str:
        return f"Practice {self.pk} of client {self.client_id}"


class JournalEntry(models.Model):
    """One weekly reflection per client, for the week starting on a Monday (clinic time)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="journal_entries")
    week_start = models.DateField(help_text="The Monday of the week, in the clinic's time zone.")
    difficulty = models.TextField("something difficult this week", max_length=TEXT_LIMIT)
    mindfulness = models.TextField(blank=True, max_length=TEXT_LIMIT)
    common_humanity = models.TextField(blank=True, max_length=TEXT_LIMIT)
    self_kindness = models.TextField(blank=True, max_length=TEXT_LIMIT)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-week_start"]
        verbose_name_plural = "journal entries"
        constraints = [
            models.UniqueConstraint(fields=["client", "week_start"], name="journal_once_a_week"),
            models.CheckConstraint(
                condition=~Q(difficulty=""), name="journal_difficulty_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"Journal of client {self.client_id} for {self.week_start}"


class ReminderPurpose(models.TextChoices):
    PRACTICE = "practice", "Practice"
    LOG = "log", "Inner-critic log"


class Reminder(models.Model):
    """An email reminder the client chose in their portal: on these days of the week, at this
    time of day in the clinic's time zone (so 08:00 stays 08:00 across clock changes).

    Sent only while not paused, to a client in active care with an email address who has not
    unsubscribed (tracking.services.reminders_enqueue_due, clinic.outbox)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="reminders")
    purpose = models.CharField(max_length=20, choices=ReminderPurpose.choices)
    weekdays = models.JSONField(default=list, blank=True, help_text="0 = Monday ... 6 = Sunday.")
    local_time = models.TimeField()
    paused = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["client", "purpose"]
        constraints = [
            models.UniqueConstraint(fields=["client", "purpose"], name="reminder_once_per_purpose")
        ]

    def __str__(self) -> str:
        return f"{self.purpose} reminder of client {self.client_id}"

    @property
    def is_on(self) -> bool:
        return bool(self.weekdays) and not self.paused


# --- Projections: derived from the rows above, kept by tracking.projections --------------------
#
# Never entered by anyone. Every service that writes entries or practice calls
# tracking.projections in the same transaction; `manage.py refresh_dashboard` recomputes them
# from the raw rows and reports any difference. Counts and sums only: never a word.


def _hours() -> list[int]:
    return [0] * 24


class ClientDay(models.Model):
    """What one client logged on one day of the clinic's calendar (its time zone), summed.

    Entries count on the day they occurred (a reframe made later updates that day); practice on
    the day practised. `breakdown` counts entries per "trigger id|pattern" (0 for no trigger,
    "" for no pattern) and `private_breakdown` the same for entries whose words the client keeps
    private, so staff pages can count those as "Kept private". `practice_types` maps a practice
    type to [minutes, sessions]."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    entries = models.IntegerField(default=0)
    intensity_sum = models.IntegerField(default=0)
    reframed = models.IntegerField(default=0)
    reframed_intensity_sum = models.IntegerField(default=0)
    intensity_after_sum = models.IntegerField(default=0)
    hours = models.JSONField(default=_hours)  # 24 entry counts, local hour 0..23
    breakdown = models.JSONField(default=dict)
    private_breakdown = models.JSONField(default=dict)
    practice_sessions = models.IntegerField(default=0)
    practice_minutes = models.IntegerField(default=0)
    practice_types = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "day"], name="one_client_day"),
        ]

    def __str__(self) -> str:
        return f"day {self.day} of client {self.client_id}"

    @property
    def is_empty(self) -> bool:
        return not self.entries and not self.practice_sessions


class ClientActivity(models.Model):
    """One client's logging as the dashboard reads it: counts, last days, and the trend of the
    weekly mean intensity up to the latest entry for each window length a clinic may choose
    (`rising_w3` to `rising_w12`: points a week over that many weeks, or None when too many
    weeks are empty; see tracking.analysis.rising_slope). One typed column per length: the
    dashboard compares the clinic's one for every client in scope, and a number read out of
    JSON cost a clinic admin's page of 10,000 clients some 7 ms.

    The last three rated practices (distress before and after both given, latest by the day
    practised, then the order logged) as [iso day, before, after], oldest first, and how many
    of them raised distress (after > before): the "practice raising distress" flag reads these.
    `last_rated_id` names the latest, the episode an acknowledgement quiets."""

    client = models.OneToOneField(
        Client, on_delete=models.CASCADE, primary_key=True, related_name="activity"
    )
    entries = models.IntegerField(default=0)
    practice_sessions = models.IntegerField(default=0)
    last_entry_on = models.DateField(null=True, blank=True)
    last_practice_on = models.DateField(null=True, blank=True)
    last_activity_on = models.DateField(null=True, blank=True)
    rising_w3 = models.FloatField(null=True, blank=True)
    rising_w4 = models.FloatField(null=True, blank=True)
    rising_w5 = models.FloatField(null=True, blank=True)
    rising_w6 = models.FloatField(null=True, blank=True)
    rising_w7 = models.FloatField(null=True, blank=True)
    rising_w8 = models.FloatField(null=True, blank=True)
    rising_w9 = models.FloatField(null=True, blank=True)
    rising_w10 = models.FloatField(null=True, blank=True)
    rising_w11 = models.FloatField(null=True, blank=True)
    rising_w12 = models.FloatField(null=True, blank=True)
    rated_practices = models.JSONField(default=list)
    distress_rises = models.IntegerField(default=0)
    last_rated_id = models.BigIntegerField(null=True, blank=True)
    last_rated_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "client activity"

    def __str__(self) -> str:
        return f"activity of client {self.client_id}"

    @property
    def activity_count(self) -> int:
        return self.entries + self.practice_sessions
