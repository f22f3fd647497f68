"""tracking.charts: small, escaped, JSON-safe figures with captions, tables and empty states;
and the static files that draw them (static/js/charts.js, plotly.min.js via PlotlyFinder).

Pure tests (no database); the finder tests override settings only.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from tracking import analysis, charts

UTC = dt.UTC
LONDON = ZoneInfo("Europe/London")
MARKUP = '<b>Work</b> & "family" <img src=x onerror=alert(1)>'
REPO = Path(__file__).resolve().parents[2]


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=LONDON).astimezone(UTC)


def entry(when, intensity=5, after=None, trigger=None, pattern=None, **extra) -> dict:
    return {
        "occurred_at": when,
        "intensity": intensity,
        "intensity_after": after,
        "trigger": trigger,
        "pattern": pattern,
        **extra,
    }


def all_charts(entries, practice=(), scs=(), tz=LONDON) -> list[charts.Chart]:
    summary = analysis.weekly_entry_summary(entries, tz)
    return [
        charts.entries_per_week_chart(summary),
        charts.intensity_chart(summary),
        charts.breakdown_chart(
            analysis.trigger_breakdown(entries, tz), analysis.pattern_breakdown(entries, tz)
        ),
        charts.heatmap_chart(analysis.weekday_hour_heatmap(entries, tz), tz.key),
        charts.practice_chart(analysis.practice_minutes_weekly(practice)),
        charts.scs_chart(analysis.scs_trend(scs)),
    ]


def figure_text(figure: dict) -> str:
    return json.dumps(figure, ensure_ascii=False)


def strings_in(value) -> list[str]:
    """Every string in a figure, keys excluded."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings_in(v)]
    return []


@pytest.fixture
def twelve_weeks() -> list[dict]:
    rng = np.random.default_rng(3)
    start = at(2025, 3, 3, 8, 0)
    return [
        entry(
            start + dt.timedelta(hours=int(h)),
            intensity=int(rng.integers(3, 11)),
            after=int(rng.integers(0, 5)) if i % 2 else None,
            trigger=["Work", "Family", MARKUP, None][i % 4],
            pattern=[*analysis.PATTERNS, None][i % 4],
        )
        for i, h in enumerate([0, *sorted(rng.integers(1, 83 * 24, 85)), 83 * 24])
    ]


# --- Captions, tables and empty states ------------------------------------------------------------


def test_the_weekly_chart_says_how_many_weeks_and_entries_it_shows(twelve_weeks):
    chart = all_charts(twelve_weeks)[0]
    assert chart.caption == "Entries per week, 12 weeks, 87 entries"
    assert chart.table.headers == ("Week starting", "Entries")
    assert chart.table.rows[0] == (
        "3 Mar 2025",
        sum(1 for e in twelve_weeks if e["occurred_at"] < at(2025, 3, 10, 0, 0)),
    )
    assert sum(n for _, n in chart.table.rows) == 87
    assert not chart.empty
    assert chart.element_id == "sk-chart-entries-weekly"


def test_one_entry_is_told_in_the_singular():
    chart = all_charts([entry(at(2025, 5, 7, 9, 0))])[0]
    assert chart.caption == "Entries per week, 1 week, 1 entry"
    assert chart.figure["data"][0]["y"] == [1]


def test_every_chart_without_data_is_empty_with_a_friendly_message_and_nothing_to_draw():
    for chart in all_charts([]):
        assert chart.empty, chart.key
        assert chart.empty_message.endswith("."), chart.key
        assert chart.figure["data"] == [], chart.key


def test_the_intensity_chart_waits_for_a_first_reframe():
    chart = all_charts([entry(at(2025, 5, 7, 9, 0), 8)])[1]
    assert chart.empty
    assert "No reframes yet" in chart.empty_message
    assert "0 of 1 entry reframed (0%)" in chart.caption


def test_the_intensity_chart_compares_before_and_after_and_leaves_gaps_for_weeks_without_reframes():
    rows = [entry(at(2025, 5, 5, 9, 0), 8, 3), entry(at(2025, 5, 19, 9, 0), 6)]
    chart = all_charts(rows)[1]
    before, after, share = chart.figure["data"]
    assert (before["name"], after["name"]) == ("Before reframing", "After reframing")
    assert before["y"] == [8.0, None, None] and after["y"] == [3.0, None, None]
    assert share["y"] == [100.0, None, 0.0]
    assert before["line"]["dash"] != after["line"].get("dash", "solid")
    assert chart.table.rows[0] == ("5 May 2025", 1, "1 (100%)", "8.0", "3.0")
    assert chart.table.rows[1] == ("12 May 2025", 0, "0", "none", "none")
    assert chart.caption.endswith("1 of 2 entries reframed (50%)")


def test_the_heatmap_names_the_clinic_time_zone_and_has_168_cells(twelve_weeks):
    chart = all_charts(twelve_weeks)[3]
    assert "(Europe/London time)" in chart.caption
    assert chart.size.points == 7 * 24
    assert len(chart.table.rows) == 7 and len(chart.table.headers) == 25
    assert sum(sum(row[1:]) for row in chart.table.rows) == 87


def test_practice_minutes_are_stacked_by_type_with_readable_names():
    practice = [
        {"practised_on": dt.date(2025, 5, 5), "practice_type": "hand_on_heart", "minutes": 5},
        {"practised_on": dt.date(2025, 5, 6), "practice_type": "loving_kindness", "minutes": 12},
    ]
    chart = all_charts([], practice)[4]
    assert chart.figure["layout"]["barmode"] == "stack"
    assert [t["name"] for t in chart.figure["data"]] == ["Hand on heart", "Loving-kindness"]
    assert chart.caption == "Practice minutes per week by type, 1 week, 17 minutes in total"
    assert chart.table.rows == (("5 May 2025", 5, 12, 17),)


def test_the_scs_chart_shows_the_total_by_default_and_every_scale_in_its_table():
    assert all_charts([])[5].empty
    scores = [
        {"administered_on": dt.date(2025, m, 1), "subscale": code, "score": 2 + m / 4}
        for m in (1, 4)
        for code in ("self_kindness", "isolation", "total")
    ]
    chart = all_charts([], scs=scores)[5]
    assert [t["name"] for t in chart.figure["data"]] == ["Total"]
    assert chart.figure["data"][0]["y"] == [2.25, 3.0]
    assert "higher = more self-compassion" in chart.caption
    assert chart.caption.startswith("Self-Compassion Scale total over time")
    assert chart.table.headers == (
        "Date",
        "Total (higher is better)",
        "Self-Kindness (higher is better)",
        "Isolation (higher is worse)",
    )
    assert chart.table.rows == (
        ("1 Jan 2025", "2.2", "2.2", "2.2"),
        ("1 Apr 2025", "3.0", "3.0", "3.0"),
    )
    assert not chart.on_demand


def test_the_subscales_come_on_demand_in_two_panels_by_direction():
    codes = ("self_kindness", "self_judgment", "common_humanity", "isolation", "mindfulness",
             "over_identification", "total")  # fmt: skip
    scores = [
        {"administered_on": dt.date(2025, m, 1), "subscale": code, "score": 3.0}
        for m in (1, 4)
        for code in codes
    ]
    chart = charts.scs_subscales_chart(analysis.scs_trend(scores))
    assert chart.on_demand == "Show the six subscales"
    traces = {t["name"]: t for t in chart.figure["data"]}
    assert list(traces) == [
        "Self-Kindness",
        "Self-Judgment",
        "Common Humanity",
        "Isolation",
        "Mindfulness",
        "Over-Identification",
    ]  # the instrument's names: one spelling everywhere
    worse = {"Self-Judgment", "Isolation", "Over-Identification"}
    assert {name for name, t in traces.items() if t["yaxis"] == "y2"} == worse
    headings = [a["text"] for a in chart.figure["layout"]["annotations"]]
    assert headings == ["Compassionate: higher is better", "Uncompassionate: higher is worse"]
    assert "a fall there is an improvement" in chart.caption
    # within a panel no two lines share a colour, a dash or a marker
    for panel in ("y", "y2"):
        lines = [t for t in traces.values() if t["yaxis"] == panel]
        for part in (lambda t: t["line"]["color"], lambda t: t["line"]["dash"],
                     lambda t: t["marker"]["symbol"]):  # fmt: skip
            assert len({part(t) for t in lines}) == 3
    assert charts.scs_subscales_chart(analysis.scs_trend([])).empty


# --- Text safety ----------------------------------------------------------------------------------


def test_markup_in_trigger_names_is_escaped_in_tick_labels_and_hover_text(twelve_weeks):
    chart = all_charts(twelve_weeks)[2]
    triggers = chart.figure["data"][0]
    escaped = "&lt;b&gt;Work&lt;/b&gt; &amp; &quot;family&quot; &lt;img src=x onerror=alert(1)&gt;"
    assert escaped in triggers["customdata"]
    assert any(
        label.startswith("&lt;b&gt;Work&lt;/b&gt;")
        for label in chart.figure["layout"]["yaxis"]["ticktext"]
    )
    assert "<b>Work" not in figure_text(chart.figure)
    assert "onerror=alert(1)>" not in figure_text(chart.figure)


def test_trigger_names_never_enter_a_hovertemplate_where_percent_braces_would_expand():
    rows = [entry(at(2025, 5, 5, 9, 0), trigger="%{x} <br> %{customdata}")]
    chart = all_charts(rows)[2]
    for trace in chart.figure["data"]:
        assert trace["hovertemplate"] == "%{customdata}: %{x}<extra></extra>"
    assert "%{x} &lt;br&gt; %{customdata}" in chart.figure["data"][0]["customdata"]


def test_the_table_alternative_holds_plain_text_for_the_template_to_escape(twelve_weeks):
    chart = all_charts(twelve_weeks)[2]
    assert ("Trigger", MARKUP, 22) in chart.table.rows


def test_long_trigger_names_are_shortened_on_the_axis_but_whole_in_the_hover_text():
    name = "Comparing myself with colleagues at the weekly team meeting"
    chart = all_charts([entry(at(2025, 5, 5, 9, 0), trigger=name)])[2]
    assert chart.figure["layout"]["yaxis"]["ticktext"][0] == "Comparing myself with c…"
    assert chart.figure["data"][0]["customdata"][0] == name


def test_figures_use_no_plotly_markup_that_needs_inline_style_attributes(twelve_weeks):
    # Plotly draws <b>, <i>, <span style> and colour bars with style="" attributes, which a
    # Content-Security-Policy without 'unsafe-inline' refuses; line breaks are fine.
    for chart in all_charts(
        twelve_weeks,
        scs=[{"administered_on": dt.date(2025, 1, 1), "subscale": "total", "score": 3}],
    ):
        tags = {tag for text in strings_in(chart.figure) for tag in re.findall(r"<[^>]*>", text)}
        assert tags <= {"<br>", "<extra>", "</extra>"}, (chart.key, tags)
        assert all(
            trace.get("showscale") is False
            for trace in chart.figure["data"]
            if trace["type"] == "heatmap"
        )


def test_private_entries_change_nothing_and_no_words_reach_any_figure_caption_or_table():
    when = at(2025, 5, 5, 21, 0)
    words = {"critic_text": "You are useless", "reframe_text": "I am doing my best"}
    shared = all_charts([entry(when, 8, 3, "Work", "isolation", private=False, **words)])
    private = all_charts([entry(when, 8, 3, "Work", "isolation", private=True, **words)])
    assert [c.figure for c in private] == [c.figure for c in shared]
    for chart in private:
        everything = figure_text(chart.figure) + chart.caption + repr(chart.table)
        assert "useless" not in everything and "my best" not in everything


# --- Payload: small and bounded ----------------------------------------------------------------


def test_every_figure_is_valid_json_without_nan(twelve_weeks):
    for chart in all_charts(twelve_weeks):
        json.loads(json.dumps(chart.figure, allow_nan=False))
        assert chart.size == charts.payload_size(chart.figure)


def test_two_years_and_a_hundred_thousand_entries_give_figures_of_a_few_hundred_points():
    rng = np.random.default_rng(11)
    n = 100_000
    entries = pd.DataFrame(
        {
            "occurred_at": pd.Timestamp("2023-07-03", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 730 * 86400, n), unit="s"),
            "intensity": rng.integers(0, 11, n),
            "intensity_after": np.where(rng.random(n) < 0.5, rng.integers(0, 11, n), np.nan),
            "trigger": rng.choice([f"Trigger {i}" for i in range(40)] + [MARKUP], n),
            "pattern": rng.choice(list(analysis.PATTERNS), n),
        }
    )
    practice = pd.DataFrame(
        {
            "practised_on": pd.Timestamp("2023-07-03")
            + pd.to_timedelta(rng.integers(0, 730, 5000), unit="D"),
            "practice_type": rng.choice(list(analysis.PRACTICE_TYPES), 5000),
            "minutes": rng.integers(1, 30, 5000),
        }
    )
    scs = [
        {
            "administered_on": dt.date(2023, 7, 3) + dt.timedelta(weeks=2 * k),
            "subscale": code,
            "score": 3.0,
        }
        for k in range(52)
        for code in analysis.SCS_SUBSCALES
    ]
    built = all_charts(entries, practice, scs)
    for chart in built:
        size = charts.check_payload(chart.figure)
        assert size.points <= charts.MAX_POINTS and size.json_bytes <= 48 * 1024, (chart.key, size)
    weekly = built[0]
    assert weekly.size.points <= analysis.MAX_WEEKS
    shown = sum(weekly.figure["data"][0]["y"])
    assert weekly.caption == f"Entries per week, {analysis.MAX_WEEKS} weeks, {shown} entries"
    assert len(built[2].figure["data"][0]["y"]) == analysis.MAX_CATEGORIES + 1


def test_check_payload_refuses_a_figure_over_the_bounds():
    figure = {"data": [{"type": "scatter", "x": list(range(1000)), "y": list(range(1000))}]}
    with pytest.raises(ValueError, match="too big"):
        charts.check_payload(figure)
    with pytest.raises(ValueError):
        charts.payload_size({"data": [{"y": [float("nan")]}]})


# --- Layout -------------------------------------------------------------------------------------


def test_layouts_are_responsive_without_a_fixed_width_zoom_or_title(twelve_weeks):
    practice = [{"practised_on": dt.date(2025, 5, 5), "practice_type": "other", "minutes": 5}]
    scs = [{"administered_on": dt.date(2025, 1, 1), "subscale": "total", "score": 3}]
    for chart in all_charts(twelve_weeks, practice, scs):
        assert not chart.empty
        layout = chart.figure["layout"]
        assert layout["autosize"] is True and "width" not in layout, chart.key
        assert layout["dragmode"] is False and "title" not in layout, chart.key
        axes = [value for key, value in layout.items() if key.startswith(("xaxis", "yaxis"))]
        assert axes and all(axis["fixedrange"] for axis in axes), chart.key


# --- Static files: the chart script and plotly.js -------------------------------------------------


def test_the_chart_script_draws_every_figure_without_the_plotly_logo_or_inline_code():
    script = (REPO / "static" / "js" / "charts.js").read_text()
    assert "Plotly.newPlot(" in script and "displaylogo: false" in script
    assert 'querySelectorAll(".sk-chart[data-figure]")' in script
    assert "JSON.parse(source.textContent)" in script
    for forbidden in (
        "eval(",
        "new Function",
        "innerHTML",
        "document.write",
        'setAttribute("style"',
    ):
        assert forbidden not in script


PLOTLY_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "config.staticfinders.PlotlyFinder",
]


@pytest.fixture
def plotly_finder(settings):
    from django.contrib.staticfiles import finders

    settings.STATICFILES_FINDERS = PLOTLY_FINDERS
    finders.get_finder.cache_clear()
    yield finders
    finders.get_finder.cache_clear()


def test_plotly_min_js_is_found_as_a_static_file_from_the_installed_package(plotly_finder):
    from config.staticfinders import plotly_js_path

    found = plotly_finder.find("vendor/plotly/plotly.min.js")
    assert found == str(plotly_js_path())
    assert Path(found).read_bytes().startswith(b"/**\n* plotly.js v")
    assert plotly_finder.find("vendor/plotly/plotly.min.js", find_all=True) == [found]


def test_the_plotly_finder_offers_nothing_else_from_the_plotly_package(plotly_finder):
    from config.staticfinders import PlotlyFinder

    finder = PlotlyFinder()
    assert finder.check() == []
    assert [(path, storage.prefix) for path, storage in finder.list([])] == [
        ("plotly.min.js", "vendor/plotly")
    ]
    assert list(finder.list(["*.js"])) == []
    assert plotly_finder.find("vendor/plotly/widgetbundle.js") is None
    assert plotly_finder.find("vendor/plotly/datasets/iris.csv.gz") is None


def test_the_csp_style_hashes_match_the_installed_plotly():
    from config.staticfinders import PLOTLY_STYLE_HASHES, plotly_style_hashes

    assert plotly_style_hashes() == PLOTLY_STYLE_HASHES, (
        "plotly was upgraded: put the new hashes in PLOTLY_STYLE_HASHES (and the CSP style-src)"
    )


def test_the_symptom_chart_draws_each_measure_with_its_caseness_and_a_table():
    rows = [
        {
            "instrument": "PHQ-9",
            "administered_on": dt.date(2026, 3, 1),
            "total": 16.0,
            "case_at": 10,
        },
        {"instrument": "GAD-7", "administered_on": dt.date(2026, 3, 1), "total": 9.0, "case_at": 8},
        {
            "instrument": "PHQ-9",
            "administered_on": dt.date(2026, 4, 1),
            "total": 8.0,
            "case_at": 10,
        },
    ]
    chart = charts.symptom_chart(rows)
    assert not chart.empty
    names = [trace["name"] for trace in chart.figure["data"]]
    assert names == ["PHQ-9", "PHQ-9 caseness (10)", "GAD-7", "GAD-7 caseness (8)"]
    assert chart.table.headers == ("Date", "PHQ-9", "GAD-7")
    assert chart.table.rows[1][2] == "none"  # no GAD-7 on 1 April
    assert "higher = more severe" in chart.caption


def test_without_a_phq_9_or_gad_7_the_symptom_chart_says_so():
    chart = charts.symptom_chart([])
    assert chart.empty and "No PHQ-9 or GAD-7 yet" in chart.empty_message
