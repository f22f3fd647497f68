"""assessments.projections.project: one client's scored questionnaires and dose per day ->
the summary and the intervals to store (pure: no database)."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from assessments.projections import ScoredRow, moment_values, project

D = dt.date
SM, IM = "subscale_mean", "item_mean"
_ids = iter(range(1, 10_000))


def scored(day, total, method=SM, **subscales) -> ScoredRow:
    return ScoredRow(
        id=next(_ids),
        client_id=7,
        organisation_id=1,
        instrument_code="scs",
        administered_on=day,
        total=total,
        total_method=method,
        band="moderate",
        subscales=subscales,
    )


def test_consecutive_pairs_never_compare_totals_of_different_methods():
    rows = [
        scored(D(2025, 1, 1), 2.5, SM, self_kindness=2.4, self_judgment=3.0),
        scored(D(2025, 2, 1), 2.8, IM, self_kindness=2.6, self_judgment=None),
        scored(D(2025, 3, 1), 3.0, SM, self_kindness=3.0, self_judgment=2.0),
        scored(D(2025, 4, 1), 3.4, SM, self_kindness=3.5, self_judgment=1.75),
    ]
    projection = project(rows, {})
    intervals = projection.intervals
    assert [(i.start_on, i.end_on, i.days) for i in intervals] == [
        (D(2025, 1, 1), D(2025, 2, 1), 31),
        (D(2025, 2, 1), D(2025, 3, 1), 28),
        (D(2025, 3, 1), D(2025, 4, 1), 31),
    ]
    # 2.5 (subscale mean) -> 2.8 (item mean) -> 3.0: not compared; 3.0 -> 3.4 = 0.4
    assert [i.change_total for i in intervals][:2] == [None, None]
    assert intervals[2].change_total == pytest.approx(0.4)
    assert [i.change_self_kindness for i in intervals] == pytest.approx([0.2, 0.4, 0.5])
    assert [i.change_self_judgment for i in intervals][:2] == [None, None]
    assert intervals[2].change_self_judgment == pytest.approx(-0.25)
    summary = projection.summary
    assert (summary.baseline_on, summary.latest_on, summary.scored_count) == (
        D(2025, 1, 1),
        D(2025, 4, 1),
        4,
    )
    assert summary.total_change == pytest.approx(0.9)  # 2.5 -> 3.4, both subscale means
    assert summary.history == [["2025-01-01", 2.5], ["2025-03-01", 3.0], ["2025-04-01", 3.4]]


def test_the_summary_keeps_each_subscale_change_since_baseline_where_both_have_it():
    rows = [
        scored(D(2025, 1, 1), 2.5, SM, self_kindness=2.4, self_judgment=3.0, isolation=None),
        scored(D(2025, 2, 1), 2.8, IM, self_kindness=2.6, self_judgment=None, isolation=2.0),
        scored(D(2025, 3, 1), 3.0, SM, self_kindness=3.0, self_judgment=3.5, isolation=2.5),
    ]
    summary = project(rows, {}).summary
    assert summary.change_self_kindness == pytest.approx(0.6)
    assert summary.change_self_judgment == pytest.approx(0.5)  # the middle one's gap is no matter
    assert summary.change_isolation is None  # no baseline value to compare with
    assert summary.change_mindfulness is None  # on neither


def test_one_questionnaire_has_no_subscale_change():
    summary = project([scored(D(2025, 1, 1), 3.0, self_judgment=2.0)], {}).summary
    assert summary.change_self_judgment is None


def test_two_questionnaires_on_one_day_measure_no_interval_and_the_later_starts_the_next():
    rows = [scored(D(2025, 1, 10), 3.1), scored(D(2025, 1, 10), 3.3), scored(D(2025, 1, 24), 3.6)]
    [interval] = project(rows, {}).intervals
    assert (interval.start_id, interval.end_id) == (rows[1].id, rows[2].id)
    assert interval.change_total == pytest.approx(0.3)


def test_one_questionnaire_is_a_baseline_and_the_latest_with_no_change():
    projection = project([scored(D(2025, 1, 1), 3.0)], {})
    assert projection.intervals == []
    assert projection.summary.total_change is None
    assert projection.summary.baseline_id == projection.summary.latest_id


def test_the_dose_counts_days_after_the_start_up_to_and_including_the_end():
    rows = [scored(D(2025, 1, 1), 2.5), scored(D(2025, 2, 1), 2.8), scored(D(2025, 3, 1), 3.0)]
    dose = {
        D(2025, 1, 1): (10, 1),  # the first questionnaire's day: before any interval
        D(2025, 1, 2): (5, 0),
        D(2025, 1, 15): (0, 1),
        D(2025, 2, 1): (20, 1),  # the end day: counted for the interval it ends
        D(2025, 2, 2): (7, 0),
        D(2025, 3, 1): (0, 1),
        D(2025, 3, 2): (30, 0),  # after the last questionnaire
    }
    first, second = project(rows, dose).intervals
    assert (first.practice_minutes, first.reframes) == (25, 2)
    assert (second.practice_minutes, second.reframes) == (7, 1)


def test_the_dose_agrees_with_a_day_by_day_reference_on_random_data():
    rng = random.Random(20250301)
    day, rows = D(2024, 1, 1), []
    for _ in range(40):
        day += dt.timedelta(days=rng.randrange(0, 20))
        rows.append(scored(day, rng.choice([2.0, 2.5, 3.0, 3.5])))
    dose = {
        D(2024, 1, 1) + dt.timedelta(days=rng.randrange(500)): (rng.randrange(60), rng.randrange(3))
        for _ in range(300)
    }
    for interval in project(rows, dose).intervals:
        inside = [v for d, v in dose.items() if interval.start_on < d <= interval.end_on]
        assert interval.practice_minutes == sum(minutes for minutes, _ in inside)
        assert interval.reframes == sum(reframes for _, reframes in inside)


def test_only_the_scs_keeps_intervals():
    rows = [
        ScoredRow(n, 7, 1, "fscrs", D(2025, 1, n), None, "", "", {"hated_self": 4.0})
        for n in (1, 2)
    ]
    assert project(rows, {}).intervals == []


def test_the_clinic_moments_count_a_total_only_by_the_default_method():
    by_default = project([scored(D(2025, 1, 1), 3.0, SM, self_kindness=2.0)], {}).summary
    by_item_mean = project([scored(D(2025, 1, 1), 3.1, IM, self_kindness=2.0)], {}).summary
    assert moment_values(by_default) == {"total": 3.0, "self_kindness": 2.0}
    assert moment_values(by_item_mean) == {"self_kindness": 2.0}
