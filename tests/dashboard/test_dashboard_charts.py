"""dashboard.charts: cohort figures with captions that state n, table alternatives, empty states,
escaped text and bounded payloads. Pure tests (no database).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dashboard import charts, stats
from tracking.charts import MAX_JSON_BYTES, MAX_POINTS, check_payload

MARKUP = '<b>C-1</b> & "x" <img src=x onerror=alert(1)>'
LABELS = {"total": "Total", "self_kindness": "Self-kindness", "isolation": "Isolation"}


def strings_in(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings_in(v)]
    return []


def assert_house_style(chart) -> None:
    layout = chart.figure["layout"]
    assert layout["autosize"] is True and "width" not in layout
    assert layout["dragmode"] is False and "title" not in layout
    axes = [v for k, v in layout.items() if k.startswith(("xaxis", "yaxis"))]
    assert all(axis["fixedrange"] for axis in axes)
    check_payload(chart.figure)


# --- Trajectories -------------------------------------------------------------------------------


def two_clients() -> list[dict]:
    return [
        {"client_code": "B-02", "weeks": 8.0, "total": 2.9},
        {"client_code": "A-01", "weeks": 0.0, "total": 3.0},
        {"client_code": "B-02", "weeks": 0.4, "total": 2.0},
        {"client_code": "A-01", "weeks": 4.2, "total": 3.4},
        {"client_code": "B-02", "weeks": 3.6, "total": 2.6},
        {"client_code": "C-03", "weeks": 2.0, "total": None},  # no total: left out
    ]


def test_trajectories_draw_one_grey_line_per_client_and_no_mean_without_pairs():
    chart = charts.trajectories_chart(two_clients())
    assert not chart.empty
    lines = chart.figure["data"]
    assert [t["name"] for t in lines] == ["A-01", "B-02"]
    assert lines[1]["x"] == [0.4, 3.6, 8.0] and lines[1]["y"] == [2.0, 2.6, 2.9]
    assert all(t["line"] == {"color": charts.GREY, "width": 1} for t in lines)
    assert {t["mode"] for t in lines} == {"lines"}
    assert chart.caption.startswith(
        "SCS total over time for 2 clients (5 administrations), weeks since the programme started."
    )
    assert "thick line" not in chart.caption
    assert chart.table.headers == ("Client", "Week", "SCS total")
    assert chart.table.rows[:2] == (("A-01", 0.0, 3.0), ("A-01", 4.2, 3.4))
    assert len(chart.table.rows) == 5
    assert_house_style(chart)


def pairs(*rows) -> list[dict]:
    return [
        {"pre_weeks": a, "pre_total": b, "post_weeks": c, "post_total": d} for a, b, c, d in rows
    ]


def test_the_average_joins_the_same_members_before_and_after_never_a_weekly_mix():
    # Weekly means of whoever answered zig-zag with who answered: group A (about 4) answers in
    # even weeks, group B (about 2) in odd weeks. The average is of the same members instead.
    points = [
        {"client_code": f"{group}-{i}", "weeks": week, "total": level + 0.01 * week}
        for group, level, weeks in (("A", 4.0, (0, 2, 8)), ("B", 2.0, (1, 3, 9)))
        for i in range(3)
        for week in weeks
    ]
    chart = charts.trajectories_chart(
        points, pairs=pairs((0, 4.0, 8, 4.1), (1, 2.0, 9, 2.5), (-1, 3.0, 7, 3.3))
    )
    *lines, mean = chart.figure["data"]
    assert len(lines) == 6
    # before: weeks (0 + 1 - 1) / 3 = 0, totals 9.0 / 3 = 3.0; after: weeks 8, totals 9.9 / 3
    assert mean["x"] == [0.0, 8.0] and mean["y"] == pytest.approx([3.0, 3.3])
    assert mean["customdata"] == [["before", 3], ["after", 3]]
    assert mean["line"]["width"] > 1 and "3 members" in mean["name"]
    assert "The thick line joins the average before and the average after of the same 3" in (
        chart.caption
    )
    assert "a weekly average of whoever answered is not drawn" in chart.caption


def test_one_pair_is_no_average_and_incomplete_pairs_are_left_out():
    one = charts.trajectories_chart(two_clients(), pairs=pairs((0, 3.0, 4.2, 3.4)))
    assert [t["name"] for t in one.figure["data"]] == ["A-01", "B-02"]
    assert "One member has both a before and an after score: no average is drawn." in (one.caption)
    partial = charts.trajectories_chart(
        two_clients(), pairs=pairs((0, 3.0, 4.2, 3.4), (0.4, 2.0, 8.0, None))
    )
    assert len(partial.figure["data"]) == 2  # the incomplete pair does not count
    alone = charts.trajectories_chart(two_clients()[:1], label="FSCRS reassured self")
    assert len(alone.figure["data"]) == 1 and alone.figure["data"][0]["mode"] == "markers"
    assert alone.caption.startswith(
        "FSCRS reassured self over time for 1 client (1 administration)"
    )


def test_trajectories_draw_at_most_max_lines_clients_by_code_and_say_so():
    points = [
        {"client_code": f"C-{i}", "weeks": w, "total": 3.0} for i in (5, 1, 4, 2, 3) for w in (0, 6)
    ]
    chart = charts.trajectories_chart(points, pairs=pairs(*[(0, 3.0, 6, 3.0)] * 5), max_lines=3)
    names = [t["name"] for t in chart.figure["data"][:-1]]
    assert names == ["C-1", "C-2", "C-3"]
    assert "Lines are drawn for the first 3 of 5 clients by code" in chart.caption
    assert "the mean change uses every member with both scores" in chart.caption
    assert chart.figure["data"][-1]["customdata"] == [["before", 5], ["after", 5]]
    assert {row[0] for row in chart.table.rows} == {"C-1", "C-2", "C-3"}


def test_a_large_cohort_stays_within_the_payload_bounds():
    rng = np.random.default_rng(7)
    points = [
        {
            "client_code": f"SK-{i:04d}",
            "weeks": w + rng.uniform(-0.4, 0.4),
            "total": rng.normal(3, 0.5),
        }
        for i in range(300)
        for w in range(0, 24, 4)
    ]
    chart = charts.trajectories_chart(points, pairs=pairs(*[(0, 3.0, 20, 3.2)] * 300))
    size = check_payload(chart.figure)
    assert size.points <= MAX_POINTS and size.json_bytes <= MAX_JSON_BYTES
    drawn = len(chart.figure["data"]) - 1
    assert 100 < drawn < 300
    assert f"Lines are drawn for the first {drawn} of 300 clients by code" in chart.caption


def test_a_realistic_group_fits_easily():
    # twelve clients, four questionnaires each over an eight-week programme and follow-up
    points = [
        {"client_code": f"G-{i:02d}", "weeks": w, "total": 2.5 + 0.1 * w / 4 + 0.05 * i}
        for i in range(12)
        for w in (0, 4, 8, 12)
    ]
    chart = charts.trajectories_chart(points, pairs=pairs(*[(0, 2.5, 12, 2.8)] * 12))
    assert len(chart.figure["data"]) == 13
    assert "12 clients (48 administrations)" in chart.caption
    assert check_payload(chart.figure).json_bytes < 16 * 1024


def test_client_codes_are_escaped_and_never_reach_a_hovertemplate():
    chart = charts.trajectories_chart([{"client_code": MARKUP, "weeks": 1, "total": 3}])
    trace = chart.figure["data"][0]
    assert "<b>" not in json.dumps(chart.figure) and "&lt;b&gt;" in trace["name"]
    assert "C-1" not in trace["hovertemplate"]
    assert chart.table.rows[0][0] == MARKUP  # plain text: the template escapes it


def test_no_results_give_an_empty_chart_with_a_friendly_message():
    chart = charts.trajectories_chart([{"client_code": "A", "weeks": None, "total": 3}])
    assert chart.empty and chart.figure["data"] == []
    assert "No questionnaire results" in chart.empty_message
    assert "0 clients (0 administrations)" in chart.caption
    assert chart.table.rows == ()


# --- Before and after ---------------------------------------------------------------------------


def outcomes() -> list[stats.ScaleOutcome]:
    # the five-member cohort of test_stats: total pairs (3.1 -> 3.6) and (2.0 -> 2.9),
    # self-kindness pairs (3.0 -> 3.5) and (2.5 -> 3.5), nobody answered isolation
    counts = stats.VerdictCounts(improved=1, unchanged=1)
    return [
        stats.ScaleOutcome("total", stats.paired_change([3.1, 2.0], [3.6, 2.9]), counts, 3),
        stats.ScaleOutcome("self_kindness", stats.paired_change([3.0, 2.5], [3.5, 3.5]), counts, 3),
        stats.ScaleOutcome("isolation", stats.paired_change([], []), stats.VerdictCounts(), 5),
    ]


def test_pre_post_bars_show_the_before_and_after_averages_per_scale():
    chart = charts.pre_post_chart(outcomes(), LABELS)
    before, after = chart.figure["data"]
    # total: (3.1 + 2.0) / 2 = 2.55 -> (3.6 + 2.9) / 2 = 3.25
    # self-kindness: (3.0 + 2.5) / 2 = 2.75 -> (3.5 + 3.5) / 2 = 3.5; isolation: not drawn
    assert before["y"] == [2.55, 2.75] and after["y"] == [3.25, 3.5]
    assert chart.figure["layout"]["xaxis"]["ticktext"] == ["Total", "Self-kindness"]
    assert before["customdata"] == [["Total", 2], ["Self-kindness", 2]]
    # change 0.7, CI 0.7 +/- 12.706205 * 0.2 = -1.84 to 3.24 (see test_stats)
    assert after["customdata"][0] == ["Total", 2, "+0.70 (95% CI -1.84 to 3.24)"]
    assert "n = %{customdata[1]}" in after["hovertemplate"]
    assert before["marker"]["pattern"]["shape"]  # not colour alone
    assert_house_style(chart)


def test_pre_post_table_lists_every_scale_with_n_change_interval_and_d_z():
    chart = charts.pre_post_chart(outcomes(), LABELS)
    assert chart.table.headers == ("Scale", "n", "Before", "After", "Change", "95% CI", "d_z")
    # d_z: 0.7 / 0.282843 = 2.47; 0.75 / 0.353553 = 2.12
    # self-kindness CI 0.75 +/- 12.706205 * 0.25 = -2.43 to 3.93
    # two pairs: d_z is shown but marked, as it is below stats.MIN_PAIRS_EFFECT_SIZE
    assert chart.table.rows == (
        (
            "Total",
            2,
            "2.55",
            "3.25",
            "+0.70",
            "-1.84 to 3.24",
            "2.47 (too few to interpret: n = 2)",
        ),
        (
            "Self-kindness",
            2,
            "2.75",
            "3.50",
            "+0.75",
            "-2.43 to 3.93",
            "2.12 (too few to interpret: n = 2)",
        ),
        ("Isolation", 0, "none", "none", "none", "none", "none"),
    )


def test_pre_post_caption_states_n_and_how_many_members():
    chart = charts.pre_post_chart(outcomes(), LABELS)
    assert "n = 0 to 2 of 5 members, depending on the scale" in chart.caption
    one = charts.pre_post_chart(outcomes()[:1], LABELS)
    assert "(n = 2 of 5 members)" in one.caption
    same = charts.pre_post_chart(outcomes()[:2], LABELS)
    assert "(n = 2 of 5 members per scale)" in same.caption


def test_pre_post_without_any_pair_is_empty():
    chart = charts.pre_post_chart(outcomes()[2:], LABELS)
    assert chart.empty and "No client has both" in chart.empty_message
    assert len(chart.table.rows) == 1


def test_scale_labels_are_escaped_in_the_figure():
    chart = charts.pre_post_chart(outcomes()[:1], {"total": MARKUP})
    assert "<b>" not in json.dumps(chart.figure)
    assert all("C-1" not in t["hovertemplate"] for t in chart.figure["data"])


# --- Dose-response ------------------------------------------------------------------------------


def dose_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "minutes": [0, 30, 60, 90, 120, 45],
            "change_total": [0.1, 0.0, 0.3, 0.2, 0.5, np.nan],
        }
    )


def dose_chart(frame: pd.DataFrame, **extra):
    return charts.dose_response_chart(
        frame,
        x_label="Practice minutes",
        y_label="Change in SCS total",
        association=stats.association(frame["minutes"], frame["change_total"]),
        **extra,
    )


def test_dose_response_plots_the_pairs_and_the_least_squares_line():
    chart = dose_chart(dose_frame())
    points, line = chart.figure["data"]
    assert points["x"] == [0, 30, 60, 90, 120] and points["y"] == [0.1, 0.0, 0.3, 0.2, 0.5]
    # x mean 60, y mean 0.22; Sxy = 7.2 + 6.6 + 0 - 0.6 + 16.8 = 30; Sxx = 9000
    # slope 30 / 9000 = 1/300, intercept 0.22 - 60/300 = 0.02 -> line from (0, 0.02) to (120, 0.42)
    assert line["x"] == [0, 120] and line["y"] == pytest.approx([0.02, 0.42])
    assert_house_style(chart)


def test_an_axis_label_inside_a_sentence_starts_lower_case_unless_it_opens_with_an_acronym():
    assert charts.in_sentence("Practice minutes between questionnaires") == (
        "practice minutes between questionnaires"
    )
    assert charts.in_sentence("SCS total") == "SCS total"
    assert charts.in_sentence("PHQ-9 total") == "PHQ-9 total"
    assert charts.in_sentence("X") == "X"
    assert charts.in_sentence("") == ""


def test_dose_response_title_reads_as_one_phrase():
    assert dose_chart(dose_frame()).title == "Change in SCS total and practice minutes"


def test_dose_response_caption_states_n_rho_and_the_caution():
    chart = dose_chart(dose_frame())
    # y ranks 2, 1, 4, 3, 5 against x ranks 1..5: d = -1, 1, -1, 1, 0, sum d^2 = 4, no ties
    # rho = 1 - 6 * 4 / (5 * 24) = 0.8
    assert chart.caption == (
        "Change in SCS total against practice minutes, 5 pairs of consecutive questionnaires; "
        "Spearman's rho = 0.80, too few to interpret (fewer than 10 pairs). "
        + charts.CAUSATION_CAUTION
    )
    assert chart.caption.endswith(
        "Correlational: clients who practise more may differ in other ways; "
        "this does not show that practice causes change."
    )
    assert chart.table.headers == ("Practice minutes", "Change in SCS total")
    assert chart.table.rows[0] == (0, "0.10") and len(chart.table.rows) == 5


def test_dose_response_with_too_few_pairs_has_no_correlation_or_line():
    chart = dose_chart(dose_frame().iloc[:2])
    assert "2 pairs of consecutive questionnaires; too few pairs for a correlation." in (
        chart.caption
    )
    # two pairs still give a slope, but a line through fewer than five points is not drawn
    assert len(chart.figure["data"]) == 1
    assert "No fitted line: a line needs at least 5 pairs." in chart.caption
    one = dose_chart(dose_frame().iloc[:1])
    assert len(one.figure["data"]) == 1 and "1 pair of" in one.caption


def test_three_points_on_a_line_draw_no_fitted_line_and_rho_is_too_few_to_interpret():
    # The session brief's case: three intervals of one client, rho = -1.00 exactly.
    frame = pd.DataFrame({"minutes": [15, 140, 145], "change_total": [0.63, 0.33, 0.08]})
    chart = dose_chart(frame)
    assert [t["name"] for t in chart.figure["data"]] == ["Pairs of questionnaires"]
    assert "Spearman's rho = -1.00, too few to interpret (fewer than 10 pairs)." in chart.caption
    assert "No fitted line" in chart.caption


def test_ten_pairs_are_enough_for_rho_and_five_for_the_line():
    assert (stats.MIN_PAIRS_CORRELATION, stats.MIN_POINTS_LINE) == (10, 5)
    frame = pd.DataFrame({"minutes": range(10), "change_total": [0.1 * v for v in range(10)]})
    chart = dose_chart(frame)
    assert "Spearman's rho = 1.00." in chart.caption and "too few" not in chart.caption
    assert [t["name"] for t in chart.figure["data"]][-1] == "Least-squares line"
    nine = dose_chart(frame.iloc[:9])
    assert "too few to interpret" in nine.caption and len(nine.figure["data"]) == 2


def test_dose_response_without_pairs_is_empty():
    chart = dose_chart(dose_frame().iloc[5:])
    assert chart.empty and "two questionnaires on different days" in chart.empty_message
    assert "0 pairs" in chart.caption and chart.caption.endswith(charts.CAUSATION_CAUTION)


def test_many_pairs_are_sampled_the_same_way_every_time_and_the_caption_says_so():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {"minutes": rng.integers(0, 600, 2_000), "change_total": rng.normal(0, 0.4, 2_000)}
    )
    first, second = dose_chart(frame), dose_chart(frame)
    assert first.figure == second.figure
    assert len(first.figure["data"][0]["x"]) == charts.MAX_SCATTER_POINTS
    assert "a random sample of 750 of the 2000 pairs; the statistics use all of them" in (
        first.caption
    )
    assert "2000 pairs of consecutive questionnaires" in first.caption
    rows = first.table.rows
    assert len(rows) == charts.MAX_TABLE_ROWS + 1
    assert rows[-1] == ("1800 more pairs not listed", "")
    # the fitted line spans every pair, not only the sample
    assert first.figure["data"][1]["x"] == [
        float(frame["minutes"].min()),
        float(frame["minutes"].max()),
    ]


def test_fifty_thousand_pairs_stay_within_the_payload_bounds():
    rng = np.random.default_rng(11)
    n = 50_000
    frame = pd.DataFrame(
        {"minutes": rng.integers(0, 900, n), "change_total": rng.normal(0, 0.4, n).round(2)}
    )
    frame["minutes_per_week"] = frame["minutes"] / rng.integers(7, 60, n) * 7
    chart = charts.dose_response_chart(
        frame,
        x="minutes_per_week",
        x_label="Minutes of practice per week",
        y_label="Change in SCS total",
        association=stats.association(frame["minutes_per_week"], frame["change_total"]),
    )
    size = check_payload(chart.figure)
    assert size.points == charts.MAX_SCATTER_POINTS + 2
    assert chart.key == "dose-minutes-per-week-change-total"
    assert len(chart.table.rows) == charts.MAX_TABLE_ROWS + 1
    assert all(isinstance(row[0], str) for row in chart.table.rows)  # "12.34": not whole minutes


def test_axis_labels_are_escaped_and_kept_out_of_hovertemplates():
    frame = dose_frame()
    chart = charts.dose_response_chart(
        frame,
        x_label=MARKUP,
        y_label="Change",
        association=stats.association(frame["minutes"], frame["change_total"]),
    )
    assert "<b>" not in " ".join(strings_in(chart.figure)).replace("<br>", "")
    points = chart.figure["data"][0]
    assert points["meta"][0].startswith("&lt;b&gt;")
    assert "C-1" not in points["hovertemplate"]
