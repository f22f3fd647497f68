"""Dashboard forms: they validate and normalise; crispy only lays them out."""

from __future__ import annotations

import datetime as dt

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from assessments.models import AssessmentSchedule
from clinic.forms import OneQueryModelChoiceField, StaffChoiceField
from clinic.models import Programme
from clinic.selectors import staff_of
from clinic.validation import DateQueryForm, PlausibleDateField
from dashboard import flags
from dashboard.models import FlagKind, FlagSettings
from dashboard.selectors import FLAG_FILTERS, SORT_KEYS, SORT_LABELS


class DashboardFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search code or name")
    flag = forms.ChoiceField(required=False, choices=list(FLAG_FILTERS.items()), label="Flags")
    programme = OneQueryModelChoiceField(queryset=None, required=False, empty_label="Any programme")
    clinician = StaffChoiceField(queryset=None, required=False, empty_label="Any clinician")
    sort = forms.ChoiceField(required=False, choices=[(key, key) for key in SORT_KEYS])

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        organisation_id = user.organisation_id
        self.fields["programme"].queryset = Programme.objects.filter(
            organisation_id=organisation_id
        )
        if user.is_clinic_admin:
            self.fields["clinician"].queryset = staff_of(organisation_id)
        else:
            # A clinician's table is their own caseload already.
            del self.fields["clinician"]

    @staticmethod
    def sort_labels() -> dict[str, str]:
        return SORT_LABELS


class FlagAcknowledgeForm(forms.Form):
    kind = forms.ChoiceField(choices=FlagKind.choices, widget=forms.HiddenInput)
    episode = forms.CharField(max_length=40, widget=forms.HiddenInput)
    note = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="What you saw and will do",
        help_text="Kept with the acknowledgement for the care team.",
        error_messages={"required": "Write a short note: what you saw and what you will do."},
    )

    def clean(self):
        cleaned = super().clean()
        kind, episode = cleaned.get("kind"), cleaned.get("episode")
        if kind and episode:
            try:
                flags.parse_episode(kind, episode)
            except ValueError:
                raise forms.ValidationError(
                    "This flag could not be read; reload the page and try again."
                ) from None
        return cleaned


class FlagSettingsForm(forms.ModelForm):
    # Stored with the clinic's assessment settings (the schedule belongs to assessments).
    assessment_every_weeks = forms.IntegerField(
        label="Assess every (weeks)",
        min_value=1,
        max_value=52,
        help_text="The default schedule; a client's own schedule overrides it.",
    )
    field_order = ["assessment_every_weeks"]

    class Meta:
        model = FlagSettings
        fields = [
            "overdue_after_days",
            "quiet_days",
            "quiet_min_records",
            "rising_weeks",
            "rising_min_slope",
            "deterioration_subscales",
            "distress_min_rises",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", "Save thresholds"))


class ScheduleForm(forms.ModelForm):
    class Meta:
        model = AssessmentSchedule
        fields = ["every_weeks"]

    def __init__(self, *args, default_weeks: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["every_weeks"].help_text = (
            f"Leave empty to pause the schedule. The clinic's default is every {default_weeks} "
            "weeks."
        )
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", "Save schedule"))


MAX_BRIEF_DAYS = 3653


class BriefForm(DateQueryForm):
    """The brief's period (?since=); see DateQueryForm."""

    since = PlausibleDateField(required=False, label="Since")
    fallback = "the default period is shown instead"

    def __init__(self, query=None, *, today: dt.date, **kwargs):
        super().__init__(query, today=today, **kwargs)
        self.today = today

    def clean_since(self):
        since = self.cleaned_data.get("since")
        if since is not None and since > self.today:
            raise forms.ValidationError("Since must be today or earlier.")
        if since is not None and (self.today - since).days > MAX_BRIEF_DAYS:
            raise forms.ValidationError("Since must be within the last 10 years.")
        return since
