"""clinic.templatetags.tables: a chart's table rows written in one pass, exactly as the nested
template loops with localisation off wrote them. Pure tests (no database)."""

from __future__ import annotations

from django.template import Context, Template

from clinic.templatetags.tables import table_rows

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


def test_every_text_cell_is_escaped():
    html = table_rows(ROWS)
    assert "<b>" not in html and "<img" not in html
    assert "&lt;b&gt;Work&lt;/b&gt; &amp; &quot;family&quot;" in html


def test_no_rows_write_nothing():
    assert table_rows(()) == ""
