"""Markup and values that templates write many times a page, written in Python.

A chart's table alternative can hold hundreds of rows, and a clinic admin's filter lists every
clinician (200 in a large clinic). Written as template loops, each cell or option cost several
microseconds of template machinery, more than the rest of the page. These filters write the
same markup in Python, every value escaped. `day` and `day_month` write a date as the date
filter's "j M Y" and "j M" do, without its format parser (a dashboard page writes some 125).
`signed` writes a change with its sign.
"""

import html
from decimal import Decimal, InvalidOperation

from django import template
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import floatformat
from django.utils.dates import MONTHS_3
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

register = template.Library()


def _cell(value) -> str:
    """A cell as `{% localize off %}{{ value }}` writes it: text escaped, numbers as Python
    writes them. Plain text and a float Python writes without an exponent take a short way
    (Django's number formatting writes those as str() does, and escaping plain text is
    html.escape): a cohort's tables hold some 2,400 cells."""
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is str:
        return html.escape(value)
    if kind is float:
        text = repr(value)
        if "e" not in text:
            return text
    return conditional_escape(localize(value, use_l10n=False))


@register.filter
def table_rows(rows) -> str:
    """`<tr><td>…</td>…</tr>` for each row of cells."""
    return mark_safe(  # noqa: S308 - every cell is escaped by _cell
        "".join(
            "<tr>" + "".join(f"<td>{_cell(value)}</td>" for value in row) + "</tr>" for row in rows
        )
    )


@register.filter
def select_options(field) -> str:
    """The `<option>`s of a bound form field's choices, the field's value selected (compared as
    text, so a model choice's id matches the submitted string)."""
    current = "%s" % (field.value(),)  # noqa: UP031 - as the template's stringformat:"s" did
    return mark_safe(  # noqa: S308 - every value and label is escaped
        "".join(
            f'<option value="{conditional_escape(value)}"'
            f"{' selected' if str(value) == current else ''}>{conditional_escape(label)}</option>"
            for value, label in field.field.choices
        )
    )


@register.filter(is_safe=True)
def signed(value, places=2) -> str:
    """A change as text with its sign: "+0.25", "-1.50", and "0.00" for no change (or one that
    rounds to none); rounded as floatformat rounds. "" when the value is not a number, as
    floatformat gives (so `|default:` still applies). Django's floatformat:"+2" reads "+2" as 2
    and writes no plus sign."""
    text = floatformat(value, int(places))
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    return f"+{text}" if number.is_finite() and number > 0 else text


def _day_month(value) -> str:
    return f"{value.day} {MONTHS_3[value.month].title()}"


@register.filter(expects_localtime=True)
def day(value) -> str:
    """A date (or an aware datetime, in the current time zone) as "3 Nov 2026": the date
    filter's "j M Y"."""
    try:
        return f"{_day_month(value)} {value.year:04d}"
    except (AttributeError, KeyError, TypeError):
        return date_filter(value, "j M Y")


@register.filter(expects_localtime=True)
def day_month(value) -> str:
    """A date (or an aware datetime, in the current time zone) as "3 Nov": the date filter's
    "j M"."""
    try:
        return _day_month(value)
    except (AttributeError, KeyError, TypeError):
        return date_filter(value, "j M")
