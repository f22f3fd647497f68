"""Forms of the assessments app. They validate and normalise; messages name the item and the
problem; on error every entered value is kept (bound forms re-render the submitted data)."""

from __future__ import annotations

import datetime as dt

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

from assessments.instruments import Instrument
from assessments.invitations import reminder_plan_problem
from assessments.models import STAFF_ENTRY_MODES, AssessmentSettings, Mode
from assessments.scoring import ScoringError, parse_answer, score_response
from clinic.forms import SubmissionKeyField
from clinic.validation import HAPPENED, DateInput, PlausibleDateField


class ItemGridMixin:
    """Adds one small text input per item (item_1 .. item_N) to a form."""

    instrument: Instrument
    allow_proration: bool = False  # the clinic prorates one blank PHQ-9 or GAD-7 item

    def add_item_fields(self, instrument: Instrument, *, autofocus: bool = False) -> None:
        """One input per item, in the page's natural tab order (no positive tabindex: that
        would put the items before the skip link and the navigation). `autofocus` puts the
        cursor in item 1 when the page opens, so a counselor can start typing at once."""
        self.instrument = instrument
        width = len(str(instrument.response_max))
        for item in instrument.items:
            self.fields[f"item_{item.number}"] = forms.CharField(
                required=False,
                max_length=width,
                strip=True,
                label=f"Item {item.number}",
                widget=forms.TextInput(
                    attrs={
                        "maxlength": width,
                        "inputmode": "numeric",
                        "autocomplete": "off",
                        "pattern": "[0-9]*",
                        "class": "form-control sk-item-input",
                        "data-item": item.number,
                        "aria-label": f"Item {item.number} ({item.label})",
                        **({"autofocus": True} if autofocus and item.number == 1 else {}),
                    }
                ),
            )

    def clean_items(self) -> dict[int, int | None]:
        answers: dict[int, int | None] = {}
        for item in self.instrument.items:
            name = f"item_{item.number}"
            if name not in self.cleaned_data:
                continue  # already has its own error (e.g. too long)
            raw = self.cleaned_data[name]
            try:
                answers[item.number] = parse_answer(self.instrument, item.number, raw or None)
            except ScoringError:
                self.add_error(
                    name,
                    f"Item {item.number}: {raw!r} is not an answer; enter a whole number from "
                    f"{self.instrument.response_min} to {self.instrument.response_max}, "
                    "or leave it blank.",
                )
        return answers

    def unscorable_reason(self, answers: dict[int, int | None]) -> str:
        """Why these answers cannot be scored under the missing-item rule ("" when they can):
        which items are blank and which scales that leaves unscored, in words."""
        result = score_response(self.instrument, answers, allow_proration=self.allow_proration)
        if result.is_scored:
            return ""
        instrument = self.instrument
        blank = result.missing_items
        if instrument.total_only:
            allowed = (
                "one may be blank (the clinic prorates it)"
                if self.allow_proration
                else ("every item must be answered")
            )
            return (
                f"{len(blank)} of {instrument.item_count} items are blank ({_item_list(blank)}), "
                f"so the {instrument.short_name} total cannot be scored: {allowed}."
            )
        unscored = [s.name for s in instrument.subscales if not result.subscales[s.code].scored]
        scales = ", ".join(unscored) + (" and so the total" if instrument.has_total else "")
        return (
            f"{len(blank)} of {instrument.item_count} items are blank "
            f"({_item_list(blank)}), so {scales} cannot be scored: a subscale of four or "
            "more items may lack one answer, a shorter one none."
        )

    def _post_clean(self):
        super()._post_clean()
        for name in self.errors:
            if name.startswith("item_") and name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["class"] = attrs.get("class", "") + " is-invalid"
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"id_{name}_error"

    def item_fields(self):
        return [self[f"item_{item.number}"] for item in self.instrument.items]


def _item_list(numbers) -> str:
    return ("item " if len(numbers) == 1 else "items ") + ", ".join(map(str, numbers))


class PaperEntryForm(ItemGridMixin, forms.Form):
    submission = SubmissionKeyField()  # a double click on Save enters the form once
    administered_on = PlausibleDateField(
        rule=HAPPENED,
        label="Date administered",
        widget=DateInput(),
    )
    mode = forms.ChoiceField(
        choices=[(m.value, m.label) for m in STAFF_ENTRY_MODES],
        initial=Mode.PAPER,
        widget=forms.Select(),
    )
    # A form the missing-item rule cannot score is saved only when asked for in so many words:
    # Enter after a few items must not replace the client's score with an unscored one.
    save_unscored = forms.BooleanField(
        required=False,
        label="Save it unscored: keep the answers as entered, as an incomplete form that does "
        "not count as a score",
    )

    def __init__(
        self, *args, instrument: Instrument, today: dt.date, allow_proration=False, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.allow_proration = allow_proration
        self.today = today
        self.needs_confirmation = False
        self.fields["administered_on"].initial = today
        self.fields["administered_on"].today = today
        self.add_item_fields(instrument, autofocus=not self.is_bound)

    def clean_administered_on(self):
        value = self.cleaned_data["administered_on"]
        if value > self.today:
            raise forms.ValidationError("Date administered: it cannot be in the future.")
        return value

    def clean(self):
        cleaned = super().clean()
        answers = self.clean_items()
        if answers and all(value is None for value in answers.values()) and not self.errors:
            raise forms.ValidationError("Every item is blank: enter the answers from the form.")
        cleaned["answers"] = answers
        if not self.errors and not cleaned.get("save_unscored"):
            reason = self.unscorable_reason(answers)
            if reason:
                self.needs_confirmation = True
                raise forms.ValidationError(
                    f"Not saved: this {self.instrument.short_name} cannot be scored. {reason} "
                    'Enter the missing answers, or tick "Save it unscored" below: an unscored '
                    "form never counts as the client's latest score, never satisfies the "
                    "assessment schedule and never clears a flag."
                )
        return cleaned

    @property
    def unscored(self) -> bool:
        """The form was saved unscored on purpose (valid, and the box was ticked)."""
        return bool(self.cleaned_data.get("save_unscored")) and bool(
            self.unscorable_reason(self.cleaned_data["answers"])
        )


class SelfCompletionForm(ItemGridMixin, forms.Form):
    """The client's own answers; 'save for later' keeps a draft, 'finish' submits.

    Finishing with so many items unanswered that the answers cannot be scored needs a second,
    explicit "finish anyway" (the button `finish_unscored`); nothing is lost meanwhile: the
    page offers to save the answers for later too."""

    submission = SubmissionKeyField()  # a double tap on Finish sends the answers once

    def __init__(self, *args, instrument: Instrument, allow_proration=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.allow_proration = allow_proration
        self.add_item_fields(instrument)
        self.needs_confirmation = False

    @property
    def finishing(self) -> bool:
        return "finish" in self.data or "finish_unscored" in self.data

    def clean(self):
        cleaned = super().clean()
        answers = self.clean_items()
        if self.finishing and all(value is None for value in answers.values()):
            raise forms.ValidationError("Please answer the items before finishing.")
        cleaned["answers"] = answers
        if self.finishing and not self.errors and "finish_unscored" not in self.data:
            reason = self.unscorable_reason(answers)
            if reason:
                self.needs_confirmation = True
                raise forms.ValidationError(
                    "Not sent yet: some questions are unanswered, so your answers cannot be "
                    f"scored. {reason} You can answer them now, save and finish later, or send "
                    "your answers as they are."
                )
        return cleaned


class CorrectionForm(ItemGridMixin, forms.Form):
    # How many corrections the form was loaded with (optimistic locking).
    corrections_seen = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why the answers change (e.g. 'item 8 misread from the paper form').",
    )

    def __init__(self, *args, instrument: Instrument, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_item_fields(instrument, autofocus=not self.is_bound)

    def clean(self):
        cleaned = super().clean()
        cleaned["answers"] = self.clean_items()
        return cleaned


class ReliableChangeSettingsForm(forms.Form):
    """A reference SD with its source for each scale that has a test-retest reliability.

    Both blank: no configured SD (the clinic's own baseline SD is used once it has enough).
    """

    def __init__(self, *args, instruments, current, **kwargs):
        super().__init__(*args, **kwargs)
        self.scales = []
        for instrument in instruments:
            for reliability in instrument.reliability:
                if reliability.retest_r is None or instrument.change_threshold(reliability.scale):
                    continue  # no r, or a threshold in points (PHQ-9, GAD-7) needs no SD
                key = f"{instrument.code}__{reliability.scale}"
                setting = current.get((instrument.code, reliability.scale))
                label = f"{instrument.short_name} {instrument.scale_name(reliability.scale)}"
                self.fields[f"{key}__sd"] = forms.FloatField(
                    required=False,
                    min_value=0.0001,
                    max_value=100,
                    label=f"{label}: reference SD",
                    initial=setting.reference_sd if setting else None,
                    widget=forms.NumberInput(attrs={"step": "any"}),
                )
                self.fields[f"{key}__source"] = forms.CharField(
                    required=False,
                    max_length=300,
                    label=f"{label}: source of the SD",
                    initial=setting.source if setting else "",
                )
                self.scales.append(
                    {
                        "key": key,
                        "instrument": instrument,
                        "scale": reliability.scale,
                        "label": label,
                        "retest_r": reliability.retest_r,
                        "retest_source": reliability.retest_source,
                        "verified": reliability.retest_verified,
                    }
                )

    def rows(self):
        return [
            {**scale, "sd": self[f"{scale['key']}__sd"], "source": self[f"{scale['key']}__source"]}
            for scale in self.scales
        ]

    def clean(self):
        cleaned = super().clean()
        settings = {}
        for scale in self.scales:
            sd = cleaned.get(f"{scale['key']}__sd")
            source = (cleaned.get(f"{scale['key']}__source") or "").strip()
            if sd is not None and not source:
                self.add_error(
                    f"{scale['key']}__source",
                    f"{scale['label']}: say where the SD comes from (e.g. a paper and table).",
                )
            elif sd is None and source:
                self.add_error(f"{scale['key']}__sd", f"{scale['label']}: enter the SD too.")
            settings[(scale["instrument"].code, scale["scale"])] = (sd, source)
        cleaned["settings"] = settings
        return cleaned


MAX_IMPORT_BYTES = 10 * 1024 * 1024


class QuestionnaireDeliveryForm(forms.ModelForm):
    """How the clinic's scheduled questionnaires are delivered: each value within its range
    (the model's validators), and reminders that come while the link still opens."""

    class Meta:
        model = AssessmentSettings
        fields = ["link_valid_days", "reminder_count", "remind_after_days"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", "Save"))

    def clean(self):
        cleaned = super().clean()
        values = [cleaned.get(name) for name in self.Meta.fields]
        if None not in values:
            valid_days, count, after_days = values
            problem = reminder_plan_problem(count, after_days, valid_days)
            if problem:
                self.add_error("remind_after_days", problem)
        return cleaned


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns client_code, instrument, administered_on, item_1, item_2, ...",
    )
    skip_invalid = forms.BooleanField(
        required=False,
        label="Import the valid rows even if some rows are invalid",
    )

    def clean_file(self):
        """The file's bytes, in cleaned_data["data"]: what is in them (encoding, delimiter,
        header, rows) is checked by the CSV reader, with the same messages as the command."""
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError("File: it is larger than 10 MB; split it up.")
        self.cleaned_data["data"] = upload.read()
        return upload


class ProrationForm(forms.Form):
    """The clinic's choice for a PHQ-9 or GAD-7 with one blank item."""

    prorate_sum_totals = forms.BooleanField(
        required=False,
        label="Prorate one blank PHQ-9 or GAD-7 item (the mean of the answered items x the "
        "number of items, marked prorated)",
        help_text="Off by default: a total then needs every item. Forms scored from now on follow.",
    )
