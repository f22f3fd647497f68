"""Validate and normalise tracking input; messages name the field and the problem."""

from __future__ import annotations

import datetime as dt

from crispy_forms.bootstrap import InlineCheckboxes
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Layout
from django import forms
from django.utils import timezone

from clinic.forms import ChecksOnWriteMixin, OneQueryModelChoiceField, SubmissionKeyField
from clinic.models import SignalSource
from clinic.validation import (
    HAPPENED,
    DateQueryForm,
    PlausibleDateField,
    PlausibleDateTimeField,
    normalise_name,
)
from tracking.models import (
    TEXT_LIMIT,
    Emotion,
    InnerCriticEntry,
    JournalEntry,
    PracticeSession,
    TriggerCategory,
)
from tracking.reminders import WEEKDAYS


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


SCALE = range(0, 11)


def _scale(label: str, *, required: bool = True) -> forms.IntegerField:
    """A 0-10 rating as a row of tap targets (radio buttons, tracking/_tap_scale.html): no
    number keyboard on a phone, and it works without JavaScript. An optional rating offers
    "Not rated", as a chosen radio button cannot be unchosen."""
    choices = [(n, str(n)) for n in SCALE]
    return forms.IntegerField(
        label=label,
        required=required,
        help_text="0 = none at all, 10 = the strongest you can imagine",
        min_value=0,
        max_value=10,
        widget=forms.RadioSelect(choices=choices if required else [("", "Not rated"), *choices]),
        error_messages={
            "min_value": f"{label} must be between 0 and 10.",
            "max_value": f"{label} must be between 0 and 10.",
            "invalid": f"{label} must be a whole number from 0 to 10.",
            "required": f"{label} is required (0 to 10).",
        },
    )


def _text(label: str, *, required: bool = False, rows: int = 2) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={
            "required": f"{label} is required.",
            "max_length": f"{label} is too long: at most {TEXT_LIMIT:,} characters "
            "(it has %(show_value)d).",
        },
    )


class EntryForm(ChecksOnWriteMixin, forms.ModelForm):
    """Quick capture (the first three fields) plus optional detail. The fields check what the
    model's constraints do (text not empty and within its limit, intensity 0-10, a plausible
    time), so the constraints are left to the write (ChecksOnWriteMixin)."""

    critic_text = _text("What the critic said", required=True, rows=3)
    intensity = _scale("Intensity")
    occurred_at = PlausibleDateTimeField(
        rule=HAPPENED,
        label="When",
        widget=DateTimeLocalInput(),
        error_messages={"invalid": "When must be a date and time, e.g. 2026-03-14 09:30."},
    )
    situation = _text("Situation")
    emotions = forms.MultipleChoiceField(
        label="Emotions",
        required=False,
        choices=Emotion.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    # A double tap or a re-sent post logs the moment once. Not on the edit form: an entry's
    # key never changes.
    submission = SubmissionKeyField()

    class Meta:
        model = InnerCriticEntry
        fields = [
            "critic_text",
            "intensity",
            "occurred_at",
            "situation",
            "trigger",
            "emotions",
            "emotions_other",
            "body_location",
            "pattern",
            "is_private",
        ]
        field_classes = {"trigger": OneQueryModelChoiceField}

    def __init__(self, *args, organisation_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trigger"].queryset = TriggerCategory.objects.available_to(organisation_id)
        self.fields["trigger"].label = "Trigger"
        self.fields["trigger"].empty_label = "Not noted"
        self.fields["pattern"].label = "Pattern"
        self.fields["pattern"].choices = [("", "Not sure"), *self.fields["pattern"].choices[1:]]
        if self.instance.pk:
            del self.fields["submission"]
        elif not self.is_bound:
            self.initial.setdefault("occurred_at", timezone.localtime().replace(second=0))

    def clean_critic_text(self) -> str:
        text = self.cleaned_data["critic_text"].strip()
        if not text:
            raise forms.ValidationError("What the critic said is required.")
        return text


class ReframeForm(forms.ModelForm):
    mindful_acknowledgement = _text("Mindful acknowledgement")
    common_humanity = _text("Common humanity")
    self_kindness = _text("Self-kindness")
    friend_response = _text("What I would say to a friend")
    intensity_after = _scale("Intensity after reframing")

    class Meta:
        model = InnerCriticEntry
        fields = [
            "mindful_acknowledgement",
            "common_humanity",
            "self_kindness",
            "friend_response",
            "intensity_after",
        ]

    def clean(self):
        cleaned = super().clean()
        answers = [(cleaned.get(name) or "").strip() for name in InnerCriticEntry.REFRAME_FIELDS]
        if not any(answers) and not self.errors:
            raise forms.ValidationError(
                "Write at least one response (mindful acknowledgement, common humanity, "
                "self-kindness or what you would say to a friend)."
            )
        return cleaned


class PracticeForm(forms.ModelForm):
    minutes = forms.IntegerField(
        label="Minutes",
        min_value=1,
        max_value=600,
        error_messages={
            "min_value": "Minutes must be between 1 and 600.",
            "max_value": "Minutes must be between 1 and 600.",
            "required": "Minutes is required.",
        },
    )
    practised_on = PlausibleDateField(rule=HAPPENED, label="Date")
    distress_before = _scale("Distress before", required=False)
    distress_after = _scale("Distress after", required=False)
    note = _text("Note")
    submission = SubmissionKeyField()  # a double tap or a re-sent post logs the practice once

    class Meta:
        model = PracticeSession
        fields = [
            "practised_on",
            "practice_type",
            "minutes",
            "distress_before",
            "distress_after",
            "note",
        ]
        labels = {"practice_type": "Practice"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = self.fields["practice_type"].choices
        self.fields["practice_type"].choices = [("", "Choose a practice"), *choices[1:]]


class JournalForm(forms.ModelForm):
    difficulty = _text("Something difficult this week", required=True, rows=3)
    mindfulness = _text("Mindfulness: what was it like, without judging it?", rows=3)
    common_humanity = _text("Common humanity: who else might feel this way?", rows=3)
    self_kindness = _text("Self-kindness: what do you need to hear?", rows=3)

    class Meta:
        model = JournalEntry
        fields = ["difficulty", "mindfulness", "common_humanity", "self_kindness"]

    def clean_difficulty(self) -> str:
        text = self.cleaned_data["difficulty"].strip()
        if not text:
            raise forms.ValidationError("Something difficult this week is required.")
        return text


class RangeForm(DateQueryForm):
    """The days a log or chart page shows (?start=&end=); see DateQueryForm."""

    start = PlausibleDateField(label="From", required=False)
    end = PlausibleDateField(label="To", required=False)
    ordered = (("start", "end"),)
    fallback = "the default range is shown instead"


class WeekForm(DateQueryForm):
    """The week the client's log shows (?week=, any day of it; without it, the last 7 days);
    see DateQueryForm."""

    week = PlausibleDateField(label="Week", required=False)
    fallback = "the last 7 days are shown instead"


class TriggerCategoryForm(forms.Form):
    """A clinic's own trigger category, beside the built-in ones it cannot remove."""

    name = forms.CharField(max_length=60, label="New trigger category")

    def __init__(self, *args, organisation_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation_id = organisation_id

    def clean_name(self) -> str:
        name = normalise_name(self.cleaned_data["name"], label="New trigger category")
        available = TriggerCategory.objects.available_to(self.organisation_id)
        if available.filter(name__iexact=name).exists():
            raise forms.ValidationError(f"A trigger category called {name!r} already exists.")
        return name


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class ReminderForm(forms.Form):
    """One reminder: days of the week and a time of day in the clinic's time zone."""

    weekdays = forms.TypedMultipleChoiceField(
        label="Days",
        choices=list(enumerate(WEEKDAYS)),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Days must be days of the week, Monday to Sunday."},
    )
    local_time = forms.TimeField(
        label="Time",
        widget=TimeInput(),
        input_formats=["%H:%M", "%H:%M:%S"],
        error_messages={
            "required": "Time is required, e.g. 08:00.",
            "invalid": "Time must be a time of day such as 08:00.",
        },
    )
    paused = forms.BooleanField(label="Paused", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(InlineCheckboxes("weekdays"), "local_time", "paused")

    def clean_local_time(self) -> dt.time:
        return self.cleaned_data["local_time"].replace(second=0, microsecond=0)


class DifficultForm(forms.Form):
    """ "This brought up something difficult" on one of the client's own records, in one tap:
    the page's two buttons send `contact` or not."""

    SIGNAL_SOURCES = {
        "entry": SignalSource.CRITIC_ENTRY,
        "practice": SignalSource.PRACTICE,
        "journal": SignalSource.JOURNAL,
    }

    source = forms.ChoiceField(
        choices=[(key, value.label) for key, value in SIGNAL_SOURCES.items()],
        error_messages={"invalid_choice": "This could not be sent: reload the page and try again."},
    )
    record = forms.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        error_messages={
            "invalid": "This could not be sent: reload the page and try again.",
            "min_value": "This could not be sent: reload the page and try again.",
            "max_value": "This could not be sent: reload the page and try again.",
            "required": "This could not be sent: reload the page and try again.",
        },
    )
    contact = forms.BooleanField(required=False)

    @property
    def signal_source(self) -> str:
        return self.SIGNAL_SOURCES[self.cleaned_data["source"]]
