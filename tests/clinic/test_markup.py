"""clinic.templatetags.markup: a chart's table rows, a filter's options and dates written in
one pass, exactly as the template loops and the date filter wrote them (the table rows with
localisation off), and changes written with their sign. The option tests build a real filter
form; the others need no database."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from clinic.templatetags.markup import select_options, signed, table_rows

ROWS = (
    ("Work", 3, 2.5, -0.125, 1e-05, 12345678),
    ('<b>Work</b> & "family" <img src=x onerror=alert(1)>', 0, -7, 3.0, True, "2026-11-30"),
    ("3 Nov 2026", 1.2345678901234567, 1e20, float("nan"), -0.0, ""),
)
LOOPS = Template(
    "{% load l10n %}{% localize off %}{% for row in rows %}<tr>{% for cell in row %}"
    "<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}{% endlocalize %}"
)


def test_rows_read_as_the_template_loops_with_localisation_off_wrote_them():
    assert table_rows(ROWS) == LOOPS.render(Context({"rows": ROWS}))


CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e-3, max_value=1e-3),
    st.integers(-(10**20), 10**20),
    st.text(),
    st.booleans(),
    st.none(),
    st.dates(min_value=dt.date(1900, 1, 1)),
)


@given(st.lists(st.lists(CELLS, max_size=4), max_size=3))
def test_any_cells_read_as_the_template_loops_wrote_them(rows):
    assert table_rows(rows) == LOOPS.render(Context({"rows": rows}))


def test_every_text_cell_is_escaped():
    html = table_rows(ROWS)
    assert "<b>" not in html and "<img" not in html
    assert "&lt;b&gt;Work&lt;/b&gt; &amp; &quot;family&quot;" in html


def test_no_rows_write_nothing():
    assert table_rows(()) == ""


OPTION_LOOP = Template(
    '{% for value, label in field.field.choices %}<option value="{{ value }}"'
    '{% if field.value|stringformat:"s" == value|stringformat:"s" %} selected{% endif %}>'
    "{{ label }}</option>{% endfor %}"
)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [None, {}, {"flag": "open"}, {"flag": "nonsense"}, "programme", "clinician"],
    ids=["unbound", "empty", "a flag", "a bad flag", "a programme", "a clinician"],
)
def test_options_read_as_the_template_loop_wrote_them(world, data):
    from clinic.models import Programme
    from dashboard.forms import DashboardFilterForm

    programme = Programme.objects.create(organisation=world.clinic, name='Group <8> & "9"')
    if data == "programme":
        data = {"programme": str(programme.pk)}
    elif data == "clinician":
        data = {"clinician": str(world.colleague.pk)}
    form = DashboardFilterForm(data, user=world.clinic_admin)
    for name in ("flag", "programme", "clinician"):
        field = form[name]
        assert select_options(field) == OPTION_LOOP.render(Context({"field": field})), name
    if data and "programme" in data:
        assert f'value="{programme.pk}" selected>Group &lt;8&gt; &amp; &quot;9&quot;' in (
            select_options(form["programme"])
        )


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        (0.254, 2, "+0.25"),
        (0.255, 2, "+0.26"),  # half up, as floatformat rounds
        (-0.255, 2, "-0.26"),
        (-1.5, 2, "-1.50"),
        (0.001, 2, "0.00"),  # rounds to no change: no sign
        (-0.001, 2, "0.00"),
        (0, 2, "0.00"),
        (3, 0, "+3"),
        (-4.0, 0, "-4"),
        (None, 2, ""),  # not a number: empty, so |default: applies
        ("", 2, ""),
        (float("nan"), 2, "nan"),
        (float("inf"), 2, "inf"),
    ],
)
def test_a_change_is_written_with_its_sign(value, places, text):
    assert signed(value, places) == text


def test_a_template_writes_an_increase_with_a_plus_sign():
    template = Template("{% load markup %}{{ up|signed:2 }} {{ none|signed:2|default:'—' }}")
    assert template.render(Context({"up": 0.4, "none": None})) == "+0.40 —"


DATES = Template(
    '{% load markup %}{{ d|day }}|{{ d|date:"j M Y" }}|{{ d|day_month }}|{{ d|date:"j M" }}'
)


@given(
    st.one_of(
        st.dates(dt.date(1000, 1, 1), dt.date(9999, 12, 31)),
        st.datetimes(dt.datetime(1900, 1, 2), dt.datetime(9999, 12, 30), timezones=st.just(dt.UTC)),
        st.none(),
        st.just(""),
    ),
    st.sampled_from(["Europe/London", "America/New_York", "Pacific/Kiritimati", "UTC"]),
)
def test_a_date_reads_as_the_date_filter_writes_it(value, zone):
    with timezone.override(zone):
        ours, django_day, ours_short, django_short = DATES.render(Context({"d": value})).split("|")
    assert (ours, ours_short) == (django_day, django_short)
