"""The rules of clinic.validation by themselves: plausible dates, the query-string date reader,
and identifiers that cannot look alike."""

from __future__ import annotations

import datetime as dt
import inspect
import unicodedata

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict

import assessments.forms
import clinic.forms
import dashboard.forms
import tracking.forms
from clinic.validation import (
    BIRTH,
    EARLIEST,
    HAPPENED,
    INTAKE,
    PLANNED,
    DateQueryForm,
    PlausibleDateField,
    PlausibleDateTimeField,
    check_plausible_date,
    check_plausible_instant,
    normalise_client_code,
    normalise_identifier,
    normalise_name,
    normalise_username,
    refused_characters,
    search_text,
    validate_identifier,
)

TODAY = dt.date(2026, 3, 10)

NFC = unicodedata.normalize("NFC", "ZOË-01")
NFD = unicodedata.normalize("NFD", "ZOË-01")


# --- Dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "latest"),
    [
        (HAPPENED, dt.date(2026, 3, 11)),
        (INTAKE, dt.date(2027, 3, 10)),
        (BIRTH, TODAY),
        (PLANNED, dt.date(2028, 3, 9)),
    ],
)
def test_each_rule_runs_from_1900_to_its_latest_day_counted_from_the_clinics_today(rule, latest):
    assert rule.bounds(TODAY) == (EARLIEST, latest)
    assert check_plausible_date(EARLIEST, rule, label="X", today=TODAY) == EARLIEST
    assert check_plausible_date(latest, rule, label="X", today=TODAY) == latest
    with pytest.raises(ValidationError, match="X cannot be before 1 January 1900"):
        check_plausible_date(dt.date(1899, 12, 31), rule, label="X", today=TODAY)
    with pytest.raises(ValidationError, match=r"^\['X cannot be .* \(after "):
        check_plausible_date(latest + dt.timedelta(days=1), rule, label="X", today=TODAY)


def test_year_one_and_year_9999_are_refused_with_the_fields_name():
    with pytest.raises(ValidationError, match="Date administered cannot be before"):
        check_plausible_date(dt.date(1, 1, 1), HAPPENED, label="Date administered", today=TODAY)
    with pytest.raises(ValidationError, match="Intake date cannot be more than a year ahead"):
        check_plausible_date(dt.date(9999, 12, 31), INTAKE, label="Intake date", today=TODAY)


def test_a_moment_may_be_at_most_a_day_ahead_and_not_before_1900():
    now = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
    check_plausible_instant(now + dt.timedelta(hours=23), HAPPENED, label="When", now=now)
    with pytest.raises(ValidationError, match="When cannot be more than a day in the future"):
        check_plausible_instant(now + dt.timedelta(days=2), HAPPENED, label="When", now=now)
    with pytest.raises(ValidationError, match="When cannot be before 1 January 1900"):
        check_plausible_instant(dt.datetime(1, 1, 1, tzinfo=dt.UTC), HAPPENED, label="When")


def test_a_date_field_names_itself_in_every_message():
    field = PlausibleDateField(rule=BIRTH, label="Date of birth", today=TODAY)
    assert field.clean("1990-05-01") == dt.date(1990, 5, 1)
    for typed in ("0001-01-01", "2026-03-11", "not a date", "99999-01-01"):
        with pytest.raises(ValidationError) as refused:
            field.clean(typed)
        assert refused.value.messages[0].startswith("Date of birth")


@pytest.mark.parametrize("typed", ["0001-01-01T00:00", "9999-12-31T23:59", "1899-12-31T23:00"])
def test_a_far_moment_is_refused_not_a_crash(typed, settings):
    field = PlausibleDateTimeField(label="When")
    with pytest.raises(ValidationError, match="When"):
        field.clean(typed)


def form_classes():
    for module in (clinic.forms, assessments.forms, tracking.forms, dashboard.forms):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__:
                yield cls


def test_every_date_field_of_every_form_has_a_plausible_range():
    ordinary = [
        f"{cls.__name__}.{name}"
        for cls in form_classes()
        for name, field in cls.base_fields.items()
        if isinstance(field, forms.DateField | forms.DateTimeField)
        and not isinstance(field, PlausibleDateField | PlausibleDateTimeField)
    ]
    assert ordinary == []
    assert any("administered_on" in cls.base_fields for cls in form_classes())


class PeriodForm(DateQueryForm):
    start = PlausibleDateField(label="From", required=False)
    end = PlausibleDateField(label="To", required=False)
    ordered = (("start", "end"),)


def read(query: str) -> tuple[PeriodForm, dict]:
    form = PeriodForm(QueryDict(query), today=TODAY)
    return form, form.dates()


def test_the_query_reader_keeps_good_dates_and_drops_each_bad_one_with_a_message():
    assert read("")[1] == {"start": None, "end": None}
    assert read("start=2026-01-05&end=2026-02-01")[1] == {
        "start": dt.date(2026, 1, 5),
        "end": dt.date(2026, 2, 1),
    }
    form, dates = read("start=0001-01-01&end=2026-02-01")
    assert dates == {"start": None, "end": dt.date(2026, 2, 1)}
    assert form.errors["start"] == [
        "From cannot be before 1 January 1900; the default is shown instead."
    ]
    form, dates = read("start=2026-01-01&end=9999-12-31")
    assert dates == {"start": dt.date(2026, 1, 1), "end": None}
    assert "To cannot be in the future" in form.errors["end"][0]
    form, dates = read("start=yesterday&end=2026-13-45")
    assert dates == {"start": None, "end": None}
    assert form.errors["start"] == [
        "From: enter a date as YYYY-MM-DD; the default is shown instead."
    ]


def test_the_query_reader_drops_a_range_whose_start_is_after_its_end():
    form, dates = read("start=2026-02-01&end=2026-01-01")
    assert dates == {"start": None, "end": None}
    assert form.errors["end"] == ["To cannot be before From; the default is shown instead."]


# --- Identifiers ----------------------------------------------------------------------------


def test_nfc_and_nfd_spellings_of_a_code_become_one_code():
    assert NFC != NFD
    assert normalise_client_code(NFC) == normalise_client_code(NFD) == NFC
    assert normalise_client_code("  zoë-01 ") == NFC


@pytest.mark.parametrize(
    ("code", "named"),
    [
        ("ZOE\u200b-01", "U+200B ZERO WIDTH SPACE"),
        ("\u202e\u200fABC\u202c", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("AB\u2066C\u2069", "U+2066 LEFT-TO-RIGHT ISOLATE"),
        ("A\u00a0B", "U+00A0 NO-BREAK SPACE"),
        ("A\u0000B", "U+0000"),
        ("A\tB", "U+0009"),
        ("A\u2028B", "U+2028 LINE SEPARATOR"),
        ("A\ufeffB", "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
        ("A\u00adB", "U+00AD SOFT HYPHEN"),
        ("A\u3164B", "U+3164 HANGUL FILLER"),
        ("A\ufe0fB", "U+FE0F VARIATION SELECTOR-16"),
        ("A\ue000B", "U+E000"),
    ],
)
def test_invisible_control_and_direction_characters_are_refused_by_name(code, named):
    with pytest.raises(ValidationError) as refused:
        normalise_client_code(code)
    message = refused.value.messages[0]
    assert message.startswith("Client code contains")
    assert named in message


def test_letters_of_every_script_and_their_combining_marks_are_kept():
    for text in ("Zoë", "Ægir", "Łukasz", "Đặng", "Ясна", "नमस्ते", "さくら", "O'Neil-2"):
        assert normalise_identifier(text, label="Name") == unicodedata.normalize("NFC", text)
        assert refused_characters(text) == []


def test_login_names_take_the_form_djangos_login_form_gives_a_typed_name():
    assert normalise_username(" ﬁona ") == "fiona"  # NFKC, as AuthenticationForm does
    with pytest.raises(ValidationError, match="Login name contains U\\+200D"):
        normalise_username("sa\u200dm")


def test_names_collapse_white_space_then_follow_the_identifier_rule():
    assert normalise_name("  Body \n image ", label="Name") == "Body image"
    with pytest.raises(ValidationError, match="Name contains U\\+202E"):
        normalise_name("\u202eemahS", label="Name")


def test_a_search_drops_what_no_stored_code_can_hold():
    assert search_text(f" {NFD} ") == NFC
    assert search_text("ZOE\u200b-01") == "ZOE-01"
    assert search_text("ada \u00a0 lovelace") == "ada lovelace"


def test_the_model_validator_accepts_only_normalised_identifiers():
    validate_identifier(NFC)
    for stored in (NFD, " RC-1", "ZOE\u200b-01"):
        with pytest.raises(ValidationError):
            validate_identifier(stored)
