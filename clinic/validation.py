"""The rules for what a person may type or a URL may carry: plausible dates and identifiers.

The ground floor: every app may import this module; it imports no other app. One place owns
each rule, and forms, services, model fields, the import and the lookups all call it.

Dates
    Every date a person types or a URL carries lies in a plausible range (`DateRule`):
    never before `EARLIEST` (1 January 1900), and never after a rule's latest day, counted
    from today in the clinic's time zone. The earliest day is a fixed date, not the day the
    clinic's Organisation row was created: a clinic joining Selfkind enters (and imports) paper
    forms and client records from long before that day, and the fixed bound can also be a
    database constraint. The latest day moves with today, so forms and services check it; the
    models carry the fixed lower bound as CheckConstraints.

    `PlausibleDateField` and `PlausibleDateTimeField` are the form fields of every date in
    every form; `DateQueryForm` is the one reader of dates from a query string (GET): a date
    that is malformed, outside its range, or a start after its end is left out with a message
    naming the field, and the page uses its default instead, never a 500.

Identifiers
    Client codes, login names, and the names of tags, trigger categories and programmes are
    normalised (Unicode NFC, or NFKC for login names, as Django's login form does; trimmed)
    before any uniqueness check or lookup, and refused when they hold a character that is
    invisible or changes how the text around it is displayed (`refused_characters`), so two
    different identifiers can never look the same on screen.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.deconstruct import deconstructible

# --- Dates ----------------------------------------------------------------------------------

EARLIEST = dt.date(1900, 1, 1)
"""No date anyone types is earlier: administrations, entries, intake, birth, programmes."""

EARLIEST_INSTANT = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
"""The same bound for moments (an inner-critic entry's time), as stored (UTC)."""


@dataclass(frozen=True)
class DateRule:
    """A plausible range: from EARLIEST to `ahead` after today in the clinic's time zone."""

    name: str
    ahead: dt.timedelta
    too_late: str  # the end of "{label} cannot be ...", e.g. "in the future"

    def bounds(self, today: dt.date) -> tuple[dt.date, dt.date]:
        return EARLIEST, today + self.ahead


HAPPENED = DateRule("happened", dt.timedelta(days=1), "in the future")
"""Something that has happened (an administration, an entry, practice, a discharge) or a day
a URL asks to see: at most tomorrow, a day's slack for a client in another time zone."""

INTAKE = DateRule("intake", dt.timedelta(days=365), "more than a year ahead")
"""An intake may be booked ahead, at most a year."""

BIRTH = DateRule("birth", dt.timedelta(days=0), "in the future")
"""A date of birth: never in the future."""

PLANNED = DateRule("planned", dt.timedelta(days=2 * 365), "more than two years ahead")
"""A programme's start and end: planned at most two years ahead."""


def clinic_today(organisation=None) -> dt.date:
    """Today in the clinic's time zone: the organisation's, else the active zone (each request
    runs in its user's clinic zone, see clinic.middleware)."""
    return organisation.today() if organisation is not None else timezone.localdate()


def long_date(day: dt.date) -> str:
    """'1 January 1900': day month year, for any year (strftime's %Y pads nothing below 1000)."""
    return f"{day.day} {day:%B} {day.year}"


def check_plausible_date(
    value: dt.date, rule: DateRule, *, label: str, today: dt.date | None = None
) -> dt.date:
    """`value` if it lies in `rule`'s range, else ValidationError naming `label`."""
    earliest, latest = rule.bounds(today or clinic_today())
    if value < earliest:
        raise ValidationError(
            f"{label} cannot be before {long_date(earliest)}.", code="implausible_date"
        )
    if value > latest:
        raise ValidationError(
            f"{label} cannot be {rule.too_late} (after {long_date(latest)}).",
            code="implausible_date",
        )
    return value


def check_plausible_instant(
    value: dt.datetime, rule: DateRule, *, label: str, now: dt.datetime | None = None
) -> dt.datetime:
    """`value` (aware) if it lies in `rule`'s range counted from now, else ValidationError."""
    if value < EARLIEST_INSTANT:
        raise ValidationError(
            f"{label} cannot be before {long_date(EARLIEST)}.", code="implausible_date"
        )
    if value > (now or timezone.now()) + rule.ahead:
        ahead = "a day" if rule.ahead.days == 1 else f"{rule.ahead.days} days"
        raise ValidationError(
            f"{label} cannot be more than {ahead} in the future.",
            code="implausible_date",
        )
    return value


class DateInput(forms.DateInput):
    """A browser date picker; it also refuses days before EARLIEST on the client side."""

    input_type = "date"

    def __init__(self, attrs=None, **kwargs):
        super().__init__(attrs={"min": EARLIEST.isoformat(), **(attrs or {})}, format="%Y-%m-%d")


class PlausibleDateField(forms.DateField):
    """A date in `rule`'s plausible range, counted from `today` (set by the form when it
    knows the clinic; else today in the active, i.e. the user's clinic's, time zone)."""

    widget = DateInput

    def __init__(self, *, rule: DateRule = HAPPENED, today: dt.date | None = None, **kwargs):
        kwargs.setdefault(
            "error_messages",
            {"invalid": f"{kwargs.get('label') or 'Date'}: enter a date as YYYY-MM-DD."},
        )
        super().__init__(**kwargs)
        self.rule = rule
        self.today = today

    def validate(self, value):
        super().validate(value)
        if value not in self.empty_values:
            check_plausible_date(value, self.rule, label=self.label or "Date", today=self.today)


class PlausibleDateTimeField(forms.DateTimeField):
    """A moment in `rule`'s plausible range (from 1 January 1900 to `rule.ahead` from now)."""

    def __init__(self, *, rule: DateRule = HAPPENED, **kwargs):
        super().__init__(**kwargs)
        self.rule = rule

    def to_python(self, value):
        try:
            return super().to_python(value)
        except (OverflowError, ValueError):
            # Making a far date aware in the clinic's zone can fall off the calendar.
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None

    def validate(self, value):
        super().validate(value)
        if value not in self.empty_values:
            check_plausible_instant(value, self.rule, label=self.label or "Time")


class DateQueryForm(forms.Form):
    """The one reader of dates a URL carries (GET parameters).

    Declare PlausibleDateFields (required=False) and, in `ordered`, the (start, end) pairs that
    must be in order. `dates()` never raises: each date that is absent, malformed, outside its
    range, or a start after its end comes back as None (the page then uses its default) and
    keeps its error, naming the field and saying that the default is shown, for the page to
    show beside the field.
    """

    ordered: tuple[tuple[str, str], ...] = ()
    fallback = "the default is shown instead"

    def __init__(self, query=None, *, today: dt.date | None = None, **kwargs):
        super().__init__(query or None, **kwargs)
        for field in self.fields.values():
            if isinstance(field, PlausibleDateField):
                field.today = today
                field.error_messages = {
                    **field.error_messages,
                    "invalid": f"{field.label}: enter a date as YYYY-MM-DD; {self.fallback}.",
                }

    def clean(self):
        cleaned = super().clean()
        for first, last in self.ordered:
            start, end = cleaned.get(first), cleaned.get(last)
            if start is not None and end is not None and start > end:
                cleaned.pop(first)
                self.add_error(
                    last,
                    f"{self.fields[last].label} cannot be before {self.fields[first].label}; "
                    f"{self.fallback}.",
                )
        return cleaned

    def add_error(self, field, error):
        if field is not None and getattr(error, "code", None) == "implausible_date":
            error = ValidationError(f"{error.message[:-1]}; {self.fallback}.", code=error.code)
        super().add_error(field, error)

    def dates(self) -> dict[str, dt.date | None]:
        if not self.is_bound:
            return dict.fromkeys(self.fields)
        self.is_valid()
        return {name: self.cleaned_data.get(name) for name in self.fields}


# --- Choices by id ---------------------------------------------------------------------------

LARGEST_ID = 2**63 - 1
"""The largest id a database row can have (a 64-bit signed integer)."""


class ChoicesByIdField(forms.ModelMultipleChoiceField):
    """Several rows chosen by id. An id that is not a whole number a database can hold is
    refused as an invalid choice before any query (Django's own field would pass a number
    beyond 64 bits to the database, which fails with a server error)."""

    def _check_values(self, value):
        for pk in value if isinstance(value, list | tuple) else []:
            text = str(pk).strip()
            if not (text.isascii() and text.isdigit() and int(text) <= LARGEST_ID):
                raise ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": pk},
                )
        return super()._check_values(value)


# --- Identifiers ----------------------------------------------------------------------------

REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
"""Unicode general categories refused in identifiers: controls (Cc, e.g. NUL, tab, newline),
format characters (Cf: zero-width space and joiners, the bidirectional marks, embeddings,
overrides and isolates U+200E-U+200F, U+202A-U+202E, U+2066-U+2069, word joiner, byte-order
mark, soft hyphen, tags), surrogates (Cs), private use (Co), unassigned code points (Cn), and
line and paragraph separators (Zl, Zp). Every space separator (Zs) but the plain space U+0020
is refused too (a no-break space looks like a space)."""

DEFAULT_IGNORABLE = (
    (0x034F, 0x034F),  # combining grapheme joiner (Mn)
    (0x115F, 0x1160),  # Hangul choseong and jungseong fillers (Lo)
    (0x17B4, 0x17B5),  # Khmer inherent vowels (Mn)
    (0x180B, 0x180F),  # Mongolian free variation selectors (Mn) and vowel separator
    (0x3164, 0x3164),  # Hangul filler (Lo)
    (0xFE00, 0xFE0F),  # variation selectors (Mn)
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler (Lo)
    (0xE0100, 0xE01EF),  # variation selectors supplement (Mn)
)
"""Unicode's Default_Ignorable_Code_Point characters (DerivedCoreProperties.txt) that are not
already in a refused category: they draw nothing, so they are refused as well."""


def is_refused(char: str) -> bool:
    """Is `char` refused in an identifier (see REFUSED_CATEGORIES and DEFAULT_IGNORABLE)?"""
    category = unicodedata.category(char)
    if category in REFUSED_CATEGORIES or (category == "Zs" and char != " "):
        return True
    point = ord(char)
    return any(low <= point <= high for low, high in DEFAULT_IGNORABLE)


def refused_characters(text: str) -> list[str]:
    """The refused characters of `text`, each once, as 'U+200B ZERO WIDTH SPACE'."""
    found = dict.fromkeys(char for char in text if is_refused(char))
    return [f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed character')}" for char in found]


def normalise_identifier(value: str, *, label: str, form: str = "NFC") -> str:
    """`value` in Unicode normal form `form`, trimmed; ValidationError naming `label` and the
    characters when it holds a refused one (see REFUSED_CATEGORIES and DEFAULT_IGNORABLE).
    An empty result is returned as "": whether a value is required is the caller's rule."""
    text = unicodedata.normalize(form, str(value)).strip()
    refused = refused_characters(text)
    if refused:
        raise ValidationError(
            f"{label} contains {', '.join(refused)}: invisible, control and text-direction "
            "characters are not allowed, as they make different names look the same.",
            code="refused_character",
        )
    return text


def normalise_client_code(value: str) -> str:
    """A client code as stored: NFC, trimmed, upper case, no refused character (else
    ValidationError). The import and every lookup by code normalise what they are given with
    this before comparing it with stored codes (compare case-insensitively: codes stored
    before codes were upper-cased may be in lower case)."""
    code = normalise_identifier(value, label="Client code").upper()
    return unicodedata.normalize("NFC", code)


def client_code_key(value: str) -> str:
    """What two codes that are the same code have in common: normalise_client_code, then
    case-folded. For matching a typed or imported code against stored ones (see
    clinic.selectors.clients_by_code); ValidationError when it holds a refused character."""
    return normalise_client_code(value).casefold()


def normalise_username(value: str) -> str:
    """A login name as stored: NFKC (the form Django's login form turns a typed name into,
    so the name typed at login finds it), trimmed, no refused character."""
    return normalise_identifier(value, label="Login name", form="NFKC")


def normalise_name(value: str, *, label: str) -> str:
    """A name (tag, trigger category, programme): runs of white space become one space, then
    as normalise_identifier."""
    return normalise_identifier(" ".join(str(value).split()), label=label)


def search_text(value: str) -> str:
    """A search query as the stored identifiers are: NFC, refused characters dropped (no
    stored code or name holds one), runs of white space made one space, trimmed."""
    text = unicodedata.normalize("NFC", str(value))
    return " ".join(
        "".join(char for char in text if not is_refused(char) or char.isspace()).split()
    )


@deconstructible
class IdentifierValidator:
    """Model-field validator: the stored value is already normalised (NFC or NFKC, trimmed,
    no refused character). full_clean() on a stored row proves it."""

    def __init__(self, form: str = "NFC"):
        self.form = form

    def __call__(self, value: str) -> None:
        normalised = normalise_identifier(value, label="This name", form=self.form)
        if normalised != value:
            raise ValidationError(
                "This name is not normalised (Unicode normal form, no spaces around it).",
                code="not_normalised",
            )

    def __eq__(self, other) -> bool:
        return isinstance(other, IdentifierValidator) and other.form == self.form


validate_identifier = IdentifierValidator()
