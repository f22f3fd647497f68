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
from django.db import models
from django.utils import timezone

from clinic.models import Client, Organisation, not_before_earliest

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

    def for_clients(self, clients) -> AdministrationQuerySet:
        return self.filter(client__in=clients)


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

    objects = AdministrationQuerySet.as_manager()

    class Meta:
        ordering = ["administered_on", "created_at", "pk"]
        constraints = [
            not_before_earliest(
                "administered_on", "Date administered", name="administered_on_plausible"
            )
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
    status = models.CharField(max_length=12)  # scored / incomplete
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
