"""tracking.analysis: weekly buckets in the clinic's time zone, breakdowns, heatmap, practice, SCS.

Pure tests: plain rows in, DataFrames out, no database.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from tracking import analysis

UTC = dt.UTC
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def at(tz: ZoneInfo, *parts: int) -> dt.datetime:
    """A wall-clock time in ``tz``, as the database hands it back: UTC."""
    return dt.datetime(*parts, tzinfo=tz).astimezone(UTC)


def entry(when: dt.datetime, intensity: int = 5, after: int | None = None, **extra) -> dict:
    return {"occurred_at": when, "intensity": intensity, "intensity_after": after, **extra}


def weeks_of(summary: pd.DataFrame) -> dict[dt.date, int]:
    return dict(zip(summary["week_start"], summary["entries"], strict=True))


# --- Weeks in the clinic's time zone ------------------------------------------------------------


def test_sunday_2330_after_the_clocks_go_forward_belongs_to_that_week_not_the_next():
    # London moves to BST at 01:00 UTC on Sunday 30 March 2025.
    sunday_night = at(LONDON, 2025, 3, 30, 23, 30)  # 22:30 UTC
    monday_early = at(LONDON, 2025, 3, 31, 0, 30)  # 23:30 UTC on Sunday
    summary = analysis.weekly_entry_summary([entry(sunday_night), entry(monday_early)], LONDON)
    assert weeks_of(summary) == {dt.date(2025, 3, 24): 1, dt.date(2025, 3, 31): 1}


def test_sunday_2330_after_the_clocks_go_back_belongs_to_that_week_not_the_next():
    # London returns to GMT at 01:00 UTC on Sunday 26 October 2025.
    saturday_bst = at(LONDON, 2025, 10, 25, 23, 30)  # 22:30 UTC
    sunday_night = at(LONDON, 2025, 10, 26, 23, 30)  # 23:30 UTC
    monday_early = at(LONDON, 2025, 10, 27, 0, 30)  # 00:30 UTC
    rows = [entry(saturday_bst), entry(sunday_night), entry(monday_early)]
    summary = analysis.weekly_entry_summary(rows, LONDON)
    assert weeks_of(summary) == {dt.date(2025, 10, 20): 2, dt.date(2025, 10, 27): 1}


def test_the_repeated_hour_when_the_clocks_go_back_counts_both_entries_in_one_hour():
    first = dt.datetime(2025, 10, 26, 0, 30, tzinfo=UTC)  # 01:30 BST
    second = dt.datetime(2025, 10, 26, 1, 30, tzinfo=UTC)  # 01:30 GMT
    heatmap = analysis.weekday_hour_heatmap([entry(first), entry(second)], LONDON)
    assert heatmap.loc[6, 1] == 2
    assert heatmap.to_numpy().sum() == 2


def test_0030_utc_on_monday_is_sunday_evening_in_new_york():
    monday_utc = dt.datetime(2025, 6, 2, 0, 30, tzinfo=UTC)  # 20:30 EDT on Sunday 1 June
    summary = analysis.weekly_entry_summary([entry(monday_utc)], NEW_YORK)
    assert weeks_of(summary) == {dt.date(2025, 5, 26): 1}
    heatmap = analysis.weekday_hour_heatmap([entry(monday_utc)], NEW_YORK)
    assert heatmap.loc[6, 20] == 1
    assert weeks_of(analysis.weekly_entry_summary([entry(monday_utc)], LONDON)) == {
        dt.date(2025, 6, 2): 1
    }


def test_noon_is_hour_12_in_winter_and_in_summer():
    rows = [entry(at(LONDON, 2025, 1, 15, 12, 0)), entry(at(LONDON, 2025, 7, 16, 12, 0))]
    heatmap = analysis.weekday_hour_heatmap(rows, LONDON)
    assert heatmap.loc[2, 12] == 2
    assert heatmap.shape == (7, 24)


def test_the_date_range_is_read_in_local_dates_and_is_inclusive():
    rows = [
        entry(at(NEW_YORK, 2025, 3, 3, 0, 15)),  # first minutes of the first day
        entry(at(NEW_YORK, 2025, 3, 9, 23, 45)),  # last minutes of the last day
        entry(at(NEW_YORK, 2025, 3, 10, 0, 15)),  # the day after: outside
        entry(at(NEW_YORK, 2025, 3, 2, 23, 45)),  # the day before: outside
    ]
    summary = analysis.weekly_entry_summary(
        rows, NEW_YORK, dt.date(2025, 3, 3), dt.date(2025, 3, 9)
    )
    assert weeks_of(summary) == {dt.date(2025, 3, 3): 2}


def test_a_start_after_the_end_is_refused():
    with pytest.raises(ValueError, match="after end"):
        analysis.weekly_entry_summary([], LONDON, dt.date(2025, 3, 9), dt.date(2025, 3, 3))


def test_naive_datetimes_are_refused_because_their_day_is_unknown():
    with pytest.raises(ValueError, match="timezone-aware"):
        analysis.weekly_entry_summary([entry(dt.datetime(2025, 3, 3, 12, 0))], LONDON)


# --- The weekly summary ---------------------------------------------------------------------------


def test_no_entries_and_no_range_give_an_empty_summary_with_the_documented_columns():
    summary = analysis.weekly_entry_summary([], LONDON)
    assert summary.empty
    assert tuple(summary.columns) == analysis.WEEKLY_COLUMNS


def test_no_entries_in_a_range_give_zero_counts_and_null_means_for_every_week():
    summary = analysis.weekly_entry_summary([], LONDON, dt.date(2025, 1, 1), dt.date(2025, 1, 31))
    assert list(summary["week_start"]) == [
        dt.date(2024, 12, 30) + dt.timedelta(weeks=w) for w in range(5)
    ]
    assert (summary["entries"] == 0).all()
    assert summary[["share_reframed", "mean_intensity", "mean_after_reframe"]].isna().all().all()


def test_one_entry_gives_one_week():
    summary = analysis.weekly_entry_summary([entry(at(LONDON, 2025, 5, 7, 9, 0), 7, 3)], LONDON)
    row = summary.iloc[0]
    assert len(summary) == 1
    assert (row.week_start, row.entries, row.reframed) == (dt.date(2025, 5, 5), 1, 1)
    assert (row.mean_intensity, row.mean_before_reframe, row.mean_after_reframe) == (7, 7, 3)
    assert row.share_reframed == 1


def test_empty_weeks_inside_the_range_appear_as_zero_with_null_means():
    rows = [entry(at(LONDON, 2025, 5, 5, 9, 0), 6), entry(at(LONDON, 2025, 5, 26, 9, 0), 4)]
    summary = analysis.weekly_entry_summary(rows, LONDON)
    assert list(summary["entries"]) == [1, 0, 0, 1]
    assert summary["mean_intensity"].isna().tolist() == [False, True, True, False]


def test_entries_without_a_reframe_have_a_mean_intensity_but_no_before_and_after():
    rows = [entry(at(LONDON, 2025, 5, 5, 9, 0), 6), entry(at(LONDON, 2025, 5, 6, 9, 0), 8)]
    row = analysis.weekly_entry_summary(rows, LONDON).iloc[0]
    assert (row.entries, row.reframed, row.share_reframed, row.mean_intensity) == (2, 0, 0, 7)
    assert np.isnan(row.mean_before_reframe) and np.isnan(row.mean_after_reframe)


def test_before_and_after_reframing_average_only_the_reframed_entries():
    monday = at(LONDON, 2025, 5, 5, 9, 0)
    rows = [entry(monday, 9, 4), entry(monday, 7, 2), entry(monday, 2), entry(monday, 2)]
    row = analysis.weekly_entry_summary(rows, LONDON).iloc[0]
    assert row.mean_intensity == 5
    assert (row.mean_before_reframe, row.mean_after_reframe) == (8, 3)
    assert row.share_reframed == 0.5


def test_a_range_longer_than_the_limit_keeps_the_latest_weeks():
    last = dt.date(2025, 6, 30)
    summary = analysis.weekly_entry_summary([], LONDON, dt.date(2015, 1, 1), last)
    assert len(summary) == analysis.MAX_WEEKS
    assert summary["week_start"].iloc[-1] == dt.date(2025, 6, 30)


def test_private_entries_count_like_any_other_and_their_words_never_reach_an_aggregate():
    monday = at(LONDON, 2025, 5, 5, 21, 0)
    words = {"critic_text": "You are useless", "reframe": "I am doing my best", "trigger": "Work"}
    shared = [entry(monday, 8, 3, pattern="isolation", private=False, **words)]
    private = [entry(monday, 8, 3, pattern="isolation", private=True, **words)]
    for summarise in (
        lambda rows: analysis.weekly_entry_summary(rows, LONDON),
        lambda rows: analysis.weekday_hour_heatmap(rows, LONDON),
        lambda rows: analysis.trigger_breakdown(rows, LONDON),
        lambda rows: analysis.pattern_breakdown(rows, LONDON),
        lambda rows: analysis.hourly_buckets(rows, LONDON),
    ):
        assert_frame_equal(summarise(private), summarise(shared))
        text = summarise(private).to_csv()
        assert "useless" not in text and "best" not in text and "private" not in text


def test_entries_frame_keeps_only_the_documented_columns():
    frame = analysis.entries_frame([entry(at(LONDON, 2025, 5, 5, 9, 0), critic_text="secret")])
    assert tuple(frame.columns) == analysis.ENTRY_COLUMNS


# --- Pre-aggregated hourly buckets (the database path) -----------------------------------------


def sql_like_buckets(rows: list[dict], tz: ZoneInfo) -> list[dict]:
    """What the view's SQL returns: one dict per local date and hour, dates as date objects."""
    frame = analysis.hourly_buckets(rows, tz)
    return [
        {**record, "local_date": record["local_date"].date(), "n": int(record["n"])}
        for record in frame.to_dict("records")
    ]


def test_hourly_buckets_from_the_database_give_the_same_weekly_summary_as_raw_entries():
    rows = [
        entry(at(LONDON, 2025, 3, 30, 23, 30), 8, 5),
        entry(at(LONDON, 2025, 3, 31, 0, 30), 6),
        entry(at(LONDON, 2025, 4, 16, 7, 5), 3, 1),
    ]
    from_sql = analysis.weekly_summary_from_buckets(sql_like_buckets(rows, LONDON))
    assert_frame_equal(from_sql, analysis.weekly_entry_summary(rows, LONDON))
    assert_frame_equal(
        analysis.heatmap_from_buckets(sql_like_buckets(rows, LONDON)),
        analysis.weekday_hour_heatmap(rows, LONDON),
    )


def test_buckets_missing_sums_from_sql_count_as_zero():
    # SUM over no reframed rows is NULL in SQL.
    buckets = [
        {
            "local_date": dt.date(2025, 5, 5),
            "hour": 9,
            "n": 2,
            "sum_intensity": 10,
            "n_reframed": 0,
            "sum_intensity_reframed": None,
            "sum_intensity_after": None,
        }
    ]
    row = analysis.weekly_summary_from_buckets(buckets).iloc[0]
    assert (row.entries, row.reframed, row.mean_intensity) == (2, 0, 5)
    assert np.isnan(row.mean_after_reframe)


# Entries at most 100 weeks apart: the summary keeps only the latest MAX_WEEKS (104) weeks, so a
# wider range would (rightly) leave the oldest entries out and the count would not add up.
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.datetimes(
                dt.datetime(2024, 1, 1), dt.datetime(2025, 11, 30), timezones=st.just(UTC)
            ),
            st.integers(0, 10),
            st.one_of(st.none(), st.integers(0, 10)),
        ),
        max_size=60,
    ),
    st.sampled_from([LONDON, NEW_YORK, ZoneInfo("Australia/Sydney"), ZoneInfo("UTC")]),
)
def test_every_entry_lands_in_exactly_one_week_whichever_path_is_taken(samples, tz):
    rows = [entry(when, intensity, after) for when, intensity, after in samples]
    summary = analysis.weekly_entry_summary(rows, tz)
    assert summary["entries"].sum() == len(rows)
    assert summary["reframed"].sum() == sum(after is not None for _, _, after in samples)
    assert all(week.weekday() == 0 for week in summary["week_start"])
    assert_frame_equal(analysis.weekly_summary_from_buckets(sql_like_buckets(rows, tz)), summary)


def test_a_hundred_thousand_entries_reduce_to_bounded_buckets_and_weeks():
    rng = np.random.default_rng(7)
    moments = pd.Timestamp("2023-07-01", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 730 * 24 * 3600, 100_000), unit="s"
    )
    rows = pd.DataFrame(
        {
            "occurred_at": moments,
            "intensity": rng.integers(0, 11, 100_000),
            "intensity_after": np.where(
                rng.random(100_000) < 0.4, rng.integers(0, 11, 100_000), np.nan
            ),
        }
    )
    buckets = analysis.hourly_buckets(rows, LONDON)
    summary = analysis.weekly_summary_from_buckets(buckets)
    assert len(buckets) <= 731 * 24
    assert len(summary) <= analysis.MAX_WEEKS
    assert analysis.weekday_hour_heatmap(rows, LONDON).to_numpy().sum() == 100_000


# --- Triggers and patterns ----------------------------------------------------------------------


def test_triggers_are_counted_largest_first_with_unrecorded_ones_last():
    monday = at(LONDON, 2025, 5, 5, 9, 0)
    rows = [entry(monday, trigger=t) for t in ["Work", "Family", "Work", None, "  ", "Work"]]
    breakdown = analysis.trigger_breakdown(rows, LONDON)
    assert breakdown.values.tolist() == [
        ["Work", 3, "named"],
        ["Family", 1, "named"],
        [None, 2, "unrecorded"],
    ]


def test_triggers_past_the_limit_are_summed_into_one_other_row():
    counts = [{"category": f"Trigger {i:02d}", "n": 100 - i} for i in range(20)]
    breakdown = analysis.breakdown_from_counts(counts, limit=5)
    assert len(breakdown) == 6
    assert breakdown.iloc[-1].tolist() == [None, sum(100 - i for i in range(5, 20)), "other"]


def test_counts_from_sql_can_repeat_a_category_and_are_added_up():
    rows = [{"category": "Work", "n": 2}, {"category": "Work", "n": 3}, {"category": None, "n": 1}]
    assert analysis.breakdown_from_counts(rows).values.tolist() == [
        ["Work", 5, "named"],
        [None, 1, "unrecorded"],
    ]


def test_the_three_patterns_always_appear_in_their_order_even_with_no_entries():
    breakdown = analysis.pattern_breakdown([], LONDON)
    assert breakdown.values.tolist() == [[p, 0, "named"] for p in analysis.PATTERNS]


def test_patterns_are_counted_with_unrecorded_ones_last():
    monday = at(LONDON, 2025, 5, 5, 9, 0)
    rows = [entry(monday, pattern=p) for p in ["isolation", "isolation", None, "self_judgment"]]
    assert analysis.pattern_breakdown(rows, LONDON).values.tolist() == [
        ["self_judgment", 1, "named"],
        ["isolation", 2, "named"],
        ["over_identification", 0, "named"],
        [None, 1, "unrecorded"],
    ]


# --- Practice -------------------------------------------------------------------------------------


def test_practice_minutes_are_summed_per_week_and_type_with_empty_weeks_as_zero():
    rows = [
        {"practised_on": dt.date(2025, 5, 5), "practice_type": "journaling", "minutes": 10},
        {"practised_on": dt.date(2025, 5, 11), "practice_type": "hand_on_heart", "minutes": 3},
        {"practised_on": dt.date(2025, 5, 12), "practice_type": "hand_on_heart", "minutes": 4},
        {"practised_on": dt.date(2025, 5, 26), "practice_type": "something new", "minutes": 5},
    ]
    minutes = analysis.practice_minutes_weekly(rows)
    assert list(minutes.columns) == ["week_start", "hand_on_heart", "journaling", "other", "total"]
    assert minutes.values.tolist() == [
        [dt.date(2025, 5, 5), 3, 10, 0, 13],
        [dt.date(2025, 5, 12), 4, 0, 0, 4],
        [dt.date(2025, 5, 19), 0, 0, 0, 0],
        [dt.date(2025, 5, 26), 0, 0, 5, 5],
    ]


def test_no_practice_in_a_range_gives_zero_total_weeks_and_no_type_columns():
    minutes = analysis.practice_minutes_weekly([], dt.date(2025, 5, 5), dt.date(2025, 5, 18))
    assert list(minutes.columns) == ["week_start", "total"]
    assert minutes["total"].tolist() == [0, 0]


# --- Self-Compassion Scale ------------------------------------------------------------------------


def test_no_scs_scores_yet_give_an_empty_trend_with_the_documented_columns():
    trend = analysis.scs_trend([])
    assert trend.empty
    assert list(trend.columns) == ["subscale", "administered_on", "score"]


def test_scs_scores_become_one_tidy_series_per_subscale_in_scale_order():
    rows = [
        {"administered_on": dt.date(2025, 2, 1), "subscale": "isolation", "score": 3.0},
        {"administered_on": dt.date(2025, 1, 1), "subscale": "self_kindness", "score": 2.5},
        {"administered_on": dt.date(2025, 2, 1), "subscale": "self_kindness", "score": 3.0},
        {"administered_on": dt.date(2025, 2, 1), "subscale": "self_kindness", "score": 4.0},
        {"administered_on": dt.date(2025, 3, 1), "subscale": "isolation", "score": None},
    ]
    assert analysis.scs_trend(rows).values.tolist() == [
        ["self_kindness", dt.date(2025, 1, 1), 2.5],
        ["self_kindness", dt.date(2025, 2, 1), 3.5],
        ["isolation", dt.date(2025, 2, 1), 3.0],
    ]


def test_the_scs_trend_keeps_the_latest_administrations_per_subscale():
    rows = [
        {
            "administered_on": dt.date(2020, 1, 1) + dt.timedelta(weeks=w),
            "subscale": "total",
            "score": 3,
        }
        for w in range(100)
    ]
    trend = analysis.scs_trend(rows, max_points=10)
    assert len(trend) == 10
    assert trend["administered_on"].iloc[-1] == dt.date(2020, 1, 1) + dt.timedelta(weeks=99)
