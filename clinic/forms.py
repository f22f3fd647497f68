"""Forms validate and normalise; crispy forms only lay them out."""

from __future__ import annotations

import uuid

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.contrib.auth import get_user_model

from clinic.models import (
    RETENTION_MONTHS_MAX,
    RETENTION_MONTHS_MIN,
    Client,
    ClientStatus,
    CrisisContact,
    Organisation,
    Programme,
    Role,
    SignalAction,
    Tag,
)
from clinic.selectors import SORTS, STATUS_FILTERS, staff_of
from clinic.validation import (
    BIRTH,
    HAPPENED,
    INTAKE,
    PLANNED,
    ChoicesByIdField,
    DateInput,
    PlausibleDateField,
    clinic_today,
    normalise_client_code,
    normalise_name,
    normalise_username,
)

__all__ = ["DateInput"]  # other apps' forms take the date picker from here


class SubmissionKeyField(forms.CharField):
    """A hidden key, new each time a blank form is drawn (a callable initial). The service
    that saves the form's record saves one per key (clinic.models.saved_once), so a
    double click on Save, or a post a weak connection sends again, records nothing twice. A
    form sent back with errors keeps its key. A missing or damaged key cleans to None: the
    record is then saved without the guard, never refused (the key is ours, not the user's
    input, and what they recorded matters more)."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("initial", uuid.uuid4)
        super().__init__(**kwargs)

    def to_python(self, value) -> uuid.UUID | None:
        try:
            return uuid.UUID(str(value))
        except ValueError:
            return None


class ChecksOnWriteMixin:
    """For a ModelForm whose model's check constraints restate what its fields already check
    (ranges, lengths, not empty, plausible dates): the database enforces them on the write
    itself, so the form does not ask it first. Django asks once per constraint, a query and a
    savepoint each: on posting an inner-critic entry that was four of the request's queries
    for answers the fields had given. The service's write stays the last word: a value a field
    let through and a constraint refuses fails that write, whole (nothing partial is saved).
    Only for a model whose constraints are check constraints, or unique ones on fields the
    form does not edit (the form key's, which saved_once keeps): a unique constraint on the
    form's own fields would lose its message (tests/tracking/test_views_tracking.py holds the
    entry form to that)."""

    def _post_clean(self):
        instance = self.instance
        instance.validate_constraints = _no_constraint_queries
        try:
            super()._post_clean()
        finally:
            del instance.validate_constraints  # the model's own method again


def _no_constraint_queries(exclude=None) -> None:
    return None


class OneQueryChoiceIterator(forms.models.ModelChoiceIterator):
    """A select's options from one plain query, kept for the form. Django's own iterator asks
    for a COUNT when its length is wanted (a template's for loop wants it) and then reads the
    rows through a server-side cursor on PostgreSQL (DECLARE, FETCH, CLOSE): four round trips
    for a list of a few dozen rows, on every page with a filter form."""

    def _rows(self) -> list:
        columns = getattr(self.field, "option_columns", ())
        if not columns:
            return list(self.queryset)  # evaluated once: the field's queryset keeps its rows
        # Only the columns the labels need, read once per queryset the field is given.
        kept = self.field.__dict__.get("_option_rows")
        if kept is None or kept[0] is not self.queryset:
            kept = self.field._option_rows = (self.queryset, list(self.queryset.only(*columns)))
        return kept[1]

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self._rows():
            yield self.choice(obj)

    def __len__(self) -> int:
        return len(self._rows()) + (self.field.empty_label is not None)

    def __bool__(self) -> bool:
        return self.field.empty_label is not None or bool(self._rows())


class OneQueryModelChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField for short lists (programmes, staff, trigger categories): its options
    in one query (OneQueryChoiceIterator)."""

    iterator = OneQueryChoiceIterator


class StaffChoiceField(OneQueryModelChoiceField):
    # User.label's columns: a clinic admin's filter lists 200 staff, whose whole rows took
    # 3.8 ms to read and turn into options, 1.6 ms with these alone.
    option_columns = ("pk", "first_name", "last_name", "username")

    def label_from_instance(self, obj):
        return obj.label


class StaffMultipleChoiceField(ChoicesByIdField):
    def label_from_instance(self, obj):
        return obj.label


class VersionedForm(forms.Form):
    """Carries the record version the user started from (optimistic locking)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ClientForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    date_of_birth = PlausibleDateField(rule=BIRTH, label="Date of birth", required=False)
    intake_date = PlausibleDateField(rule=INTAKE, label="Intake date")

    class Meta:
        model = Client
        fields = [
            "code",
            "display_name",
            "pronouns",
            "date_of_birth",
            "email",
            "status",
            "intake_date",
            "primary_clinician",
            "tags",
            "programmes",
            "notes",
        ]
        widgets = {
            "tags": forms.CheckboxSelectMultiple,
            "programmes": forms.CheckboxSelectMultiple,
            "notes": forms.Textarea(attrs={"rows": 4}),
        }
        field_classes = {
            "primary_clinician": StaffChoiceField,
            "tags": ChoicesByIdField,
            "programmes": ChoicesByIdField,
        }
        labels = {"tags": "Presenting concerns"}

    def __init__(self, *args, organisation_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation_id = organisation_id
        self.fields["primary_clinician"].queryset = staff_of(organisation_id)
        self.fields["tags"].queryset = Tag.objects.available_to(organisation_id)
        self.fields["tags"].required = False
        self.fields["programmes"].queryset = Programme.objects.filter(
            organisation_id=organisation_id
        )
        self.fields["programmes"].required = False
        # Discharge and reactivation have their own actions (they record dates).
        self.fields["status"].choices = [
            (ClientStatus.ACTIVE, ClientStatus.ACTIVE.label),
            (ClientStatus.ON_HOLD, ClientStatus.ON_HOLD.label),
        ]
        if self.instance.pk and self.instance.status == ClientStatus.DISCHARGED:
            del self.fields["status"]
        if self.instance.pk:
            self.fields["version"].required = True
            self.fields["version"].initial = self.instance.version
        self.fields["code"].help_text = "Pseudonymous identifier, unique within the clinic."
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(Column("code", css_class="col-md-4"), Column("display_name", css_class="col-md-8")),
            Row(
                Column("pronouns", css_class="col-md-4"),
                Column("date_of_birth", css_class="col-md-4"),
                Column("email", css_class="col-md-4"),
            ),
            Row(
                Column("status", css_class="col-md-4"),
                Column("intake_date", css_class="col-md-4"),
                Column("primary_clinician", css_class="col-md-4"),
            ),
            Row(Column("tags", css_class="col-md-6"), Column("programmes", css_class="col-md-6")),
            "notes",
            "version",
        )
        if "status" not in self.fields:
            self.helper.layout[2].pop(0)

    def clean_code(self) -> str:
        code = normalise_client_code(self.cleaned_data["code"])
        if not code:
            raise forms.ValidationError("Enter a client code.")
        clash = Client.objects.filter(organisation_id=self.organisation_id, code__iexact=code)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(f"Another client of this clinic already has code {code}.")
        return code

    def clean_display_name(self) -> str:
        name = " ".join(self.cleaned_data["display_name"].split())
        if not name:
            raise forms.ValidationError("Enter a display name.")
        return name

    def clean(self):
        cleaned = super().clean()
        intake = cleaned.get("intake_date")
        born = cleaned.get("date_of_birth")
        if intake and born and intake < born:
            self.add_error("intake_date", "The intake date cannot be before the date of birth.")
        discharged_on = self.instance.discharge_date if self.instance.pk else None
        if intake and discharged_on and intake > discharged_on:
            self.add_error(
                "intake_date",
                f"The intake date cannot be after the discharge date ({discharged_on}).",
            )
        return cleaned

    def validate_unique(self):
        # The clinic-scoped code check lives in clean_code with a clearer message; the model's
        # own check would run a second query for the same thing.
        pass

    def service_data(self) -> dict:
        data = {
            name: self.cleaned_data[name]
            for name in self.Meta.fields
            if name not in ("tags", "programmes") and name in self.cleaned_data
        }
        return data


class DischargeForm(VersionedForm):
    discharge_date = PlausibleDateField(rule=HAPPENED, label="Discharge date")

    def __init__(self, *args, client: Client, **kwargs):
        super().__init__(*args, **kwargs)
        self.client = client
        self.fields["discharge_date"].initial = clinic_today()
        self.fields["version"].initial = client.version
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_discharge_date(self):
        discharged_on = self.cleaned_data["discharge_date"]
        if discharged_on < self.client.intake_date:
            raise forms.ValidationError(
                f"The discharge date cannot be before the intake date ({self.client.intake_date})."
            )
        if discharged_on > clinic_today():
            raise forms.ValidationError("The discharge date cannot be in the future.")
        return discharged_on


class CareTeamForm(VersionedForm):
    primary = StaffChoiceField(queryset=None, label="Primary clinician")
    others = StaffMultipleChoiceField(
        queryset=None,
        required=False,
        label="Others on the care team",
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, client: Client, **kwargs):
        super().__init__(*args, **kwargs)
        staff = staff_of(client.organisation_id)
        self.fields["primary"].queryset = staff
        self.fields["others"].queryset = staff
        self.fields["primary"].initial = client.primary_clinician_id
        self.fields["others"].initial = [m.clinician_id for m in client.care_team.all()]
        self.fields["version"].initial = client.version
        self.helper = FormHelper()
        self.helper.form_tag = False


class CaseloadFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search code or name")
    status = forms.ChoiceField(
        required=False,
        choices=[(key, key.replace("_", " ").capitalize()) for key in STATUS_FILTERS],
    )
    tag = OneQueryModelChoiceField(
        queryset=None, required=False, empty_label="Any concern", label="Concern"
    )
    programme = OneQueryModelChoiceField(queryset=None, required=False, empty_label="Any programme")
    clinician = StaffChoiceField(queryset=None, required=False, empty_label="Any clinician")
    sort = forms.ChoiceField(required=False, choices=[(key, key) for key in SORTS])

    def __init__(self, *args, organisation_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tag"].queryset = Tag.objects.available_to(organisation_id)
        self.fields["programme"].queryset = Programme.objects.filter(
            organisation_id=organisation_id
        )
        self.fields["clinician"].queryset = staff_of(organisation_id)
        self.fields["status"].choices = [
            ("open", "Open"),
            ("active", "Active"),
            ("on_hold", "On hold"),
            ("discharged", "Discharged"),
            ("all", "All"),
        ]


class PortalInviteForm(forms.Form):
    username = forms.CharField(
        max_length=150,
        help_text="The login name the client will use. Letters, digits and @ . + - _ only.",
    )
    by_email = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, client: Client, **kwargs):
        super().__init__(*args, **kwargs)
        if client.user_id is not None:  # renewing the link of an existing login
            del self.fields["username"]
        if client.email:
            self.fields["by_email"].label = f"Email the link to {client.email}"
        else:
            del self.fields["by_email"]

    def clean_username(self):
        username = normalise_username(self.cleaned_data["username"])
        get_user_model().username_validator(username)
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("That login name is taken; choose another.")
        return username


class StaffInviteForm(forms.Form):
    username = forms.CharField(max_length=150)
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(
        choices=[(Role.CLINICIAN, Role.CLINICIAN.label), (Role.CLINIC_ADMIN, "Clinic admin")]
    )
    by_email = forms.BooleanField(
        required=False, initial=True, label="Email the invitation link to this address"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_username(self):
        username = normalise_username(self.cleaned_data["username"])
        get_user_model().username_validator(username)
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("That login name is taken; choose another.")
        return username

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("by_email") and not cleaned.get("email") and "email" not in self.errors:
            self.add_error("email", "Enter the address to email the link to, or untick below.")
        return cleaned


class StaffUpdateForm(forms.Form):
    role = forms.ChoiceField(
        choices=[(Role.CLINICIAN, Role.CLINICIAN.label), (Role.CLINIC_ADMIN, "Clinic admin")]
    )
    is_active = forms.BooleanField(required=False, label="Active (may log in)")
    is_safety_contact = forms.BooleanField(
        required=False,
        label="Safety contact: sees every safety flag of the clinic and is told of each by email",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class TagForm(forms.Form):
    name = forms.CharField(max_length=60)

    def __init__(self, *args, organisation_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation_id = organisation_id

    def clean_name(self):
        name = normalise_name(self.cleaned_data["name"], label="Name")
        if Tag.objects.available_to(self.organisation_id).filter(name__iexact=name).exists():
            raise forms.ValidationError(f"A concern called {name!r} already exists.")
        return name


class ProgrammeForm(forms.Form):
    name = forms.CharField(max_length=120)
    starts_on = PlausibleDateField(rule=PLANNED, label="Starts on", required=False)
    ends_on = PlausibleDateField(rule=PLANNED, label="Ends on", required=False)

    def __init__(self, *args, organisation_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation_id = organisation_id
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(
                Column("name", css_class="col-md-6"),
                Column("starts_on", css_class="col-md-3"),
                Column("ends_on", css_class="col-md-3"),
            ),
            Submit("submit", "Add programme"),
        )

    def clean_name(self):
        name = normalise_name(self.cleaned_data["name"], label="Name")
        programmes = Programme.objects.filter(organisation_id=self.organisation_id)
        if programmes.filter(name__iexact=name).exists():
            raise forms.ValidationError(f"A programme called {name!r} already exists.")
        return name

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", "The end date cannot be before the start date.")
        return cleaned


# --- Accounts: second factors and the clinic's security settings ------------------------------


def _digits(value: str) -> str:
    return "".join(value.split())


class TotpEnrolForm(forms.Form):
    code = forms.CharField(
        label="The six-digit code your app shows now",
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_code(self) -> str:
        code = _digits(self.cleaned_data["code"])
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError("Enter the six digits your authenticator app shows.")
        return code


class SecondFactorForm(forms.Form):
    """A code from the authenticator app, or one recovery code."""

    METHODS = [("totp", "Authenticator app"), ("recovery_code", "Recovery code")]

    method = forms.ChoiceField(choices=METHODS, widget=forms.HiddenInput)
    code = forms.CharField(
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "none", "autofocus": True}
        ),
    )

    def clean(self):
        cleaned = super().clean()
        code = _digits(cleaned.get("code") or "").lower()
        if cleaned.get("method") == "totp" and not (code.isdigit() and len(code) == 6):
            self.add_error("code", "Enter the six digits your authenticator app shows.")
        elif cleaned.get("method") == "recovery_code" and not (code.isalnum() and len(code) == 8):
            self.add_error("code", "A recovery code has eight letters and digits.")
        cleaned["code"] = code
        return cleaned


class SecuritySettingsForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = ["two_factor_required", "retention_months"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["retention_months"].widget.attrs.update(
            {"min": RETENTION_MONTHS_MIN, "max": RETENTION_MONTHS_MAX}
        )
        self.helper = FormHelper()
        self.helper.form_tag = False


class ErasureForm(forms.Form):
    """Erasure is for good: the admin types the client's code to confirm."""

    confirm_code = forms.CharField(max_length=32, label="Type the client's code to confirm")

    def __init__(self, *args, client: Client, **kwargs):
        super().__init__(*args, **kwargs)
        self.client = client
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_confirm_code(self) -> str:
        typed = self.cleaned_data["confirm_code"].strip().upper()
        if typed != self.client.code:
            raise forms.ValidationError(
                f"That is not this client's code ({self.client.code}); nothing was erased."
            )
        return typed


class CrisisContactForm(forms.ModelForm):
    """One crisis contact of the clinic: a name and a phone number or a text line (or both)."""

    class Meta:
        model = CrisisContact
        fields = ["name", "phone", "text_line", "hours", "note", "position"]
        labels = {"position": "Order on the page"}
        help_texts = {
            "phone": "Digits, spaces and + ( ) -, e.g. 116 123.",
            "note": "A short line for clients, e.g. free from any phone, or who it is for.",
            "position": "Contacts are listed from the smallest number.",
        }
        error_messages = {
            "name": {"required": "Name is required (e.g. Samaritans)."},
            "position": {"max_value": "Order on the page must be at most 32767."},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["position"].min_value = 0
        self.fields["position"].widget.attrs.update(min=0, max=999)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_name(self) -> str:
        return normalise_name(self.cleaned_data["name"], label="Name")

    def clean_position(self) -> int:
        position = self.cleaned_data["position"]
        if not 0 <= position <= 999:
            raise forms.ValidationError("Order on the page must be between 0 and 999.")
        return position

    def clean(self):
        cleaned = super().clean()
        for name in ("phone", "text_line", "hours", "note"):
            if isinstance(cleaned.get(name), str):
                cleaned[name] = cleaned[name].strip()
        if not self.errors and not cleaned.get("phone") and not cleaned.get("text_line"):
            raise forms.ValidationError("Give a phone number or a text line (or both).")
        return cleaned


class SafetySignalAcknowledgeForm(forms.Form):
    """What was done about a safety flag, and why: both required."""

    action = forms.ChoiceField(
        choices=SignalAction.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        label="Action taken",
        error_messages={
            "required": "Action taken: choose what you did.",
            "invalid_choice": "Action taken: choose one of the actions listed.",
        },
    )
    note = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Note",
        help_text="What you saw and did; for no action needed, why. Kept with the flag for the "
        "care team.",
        error_messages={
            "required": "Note: write what you saw and did (for no action needed: why).",
            "max_length": "Note: at most 2,000 characters (it has %(show_value)d).",
        },
    )
