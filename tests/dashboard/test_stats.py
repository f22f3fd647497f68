"""dashboard.stats: every statistic against numbers worked out by hand (arithmetic in comments).

Pure tests: no database, no Django models.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from assessments.reliable_change import (
    DETERIORATED,
    IMPROVED,
    NO_RELIABLE_CHANGE,
    NOT_ENOUGH_DATA,
    NOT_INTERPRETABLE,
)
from dashboard import stats

D = dt.date
SM, IM = "subscale_mean", "item_mean"


def adm(client_id, day, total, method=SM, **subscales) -> dict:
    return {
        "client_id": client_id,
        "administered_on": day,
        "total": total,
        "total_method": method,
        "subscales": subscales,
    }


small_ints = st.lists(st.integers(0, 8), min_size=3, max_size=25)


# --- paired_change ------------------------------------------------------------------------------


def test_paired_change_matches_hand_computed_values():
    # diffs 1, 2, 3 -> mean 2; deviations -1, 0, 1 -> SS 2, sd sqrt(2/2) = 1
    # t(0.975, 2) = 4.302653 -> half width 4.302653 * 1 / sqrt(3) = 2.484138 -> CI 2 +/- 2.4841
    # d_z = 2 / 1 = 2; pre mean (1+2+3)/3 = 2, post mean (2+4+6)/3 = 4
    result = stats.paired_change([1, 2, 3], [2, 4, 6])
    assert result.n == 3
    assert result.pre_mean == pytest.approx(2) and result.post_mean == pytest.approx(4)
    assert result.mean_change == pytest.approx(2) and result.sd_change == pytest.approx(1)
    assert result.ci_low == pytest.approx(-0.484138, abs=1e-6)
    assert result.ci_high == pytest.approx(4.484138, abs=1e-6)
    assert result.cohens_dz == pytest.approx(2)
    assert result.confidence == 0.95


def test_paired_change_uses_the_requested_confidence_level():
    # diffs 0.2, 0.4, 0.1, 0.5, 0.3 -> mean 0.3; deviations -0.1, 0.1, -0.2, 0.2, 0
    # SS = 0.01 + 0.01 + 0.04 + 0.04 = 0.10 -> var 0.10 / 4 = 0.025 -> sd 0.158114
    # 90%: t(0.95, 4) = 2.131847; se = 0.158114 / sqrt(5) = 0.070711
    # half width 2.131847 * 0.070711 = 0.150744
    # CI 0.149256 to 0.450744; d_z = 0.3 / 0.158114 = 1.897367
    # pre mean 14.6 / 5 = 2.92; post mean 16.1 / 5 = 3.22
    pre = [3.0, 2.5, 3.2, 2.8, 3.1]
    post = [3.2, 2.9, 3.3, 3.3, 3.4]
    result = stats.paired_change(pre, post, confidence=0.90)
    assert result.pre_mean == pytest.approx(2.92) and result.post_mean == pytest.approx(3.22)
    assert result.mean_change == pytest.approx(0.3)
    assert result.sd_change == pytest.approx(0.158114, abs=1e-6)
    assert result.ci_low == pytest.approx(0.149256, abs=1e-6)
    assert result.ci_high == pytest.approx(0.450744, abs=1e-6)
    assert result.cohens_dz == pytest.approx(1.897367, abs=1e-6)
    assert result.confidence == 0.90


def test_paired_change_agrees_with_scipys_paired_t_interval():
    pre, post = [3.0, 2.5, 3.2, 2.8, 3.1, 2.2], [3.2, 2.9, 3.3, 3.3, 3.4, 2.1]
    interval = scipy_stats.ttest_rel(post, pre).confidence_interval(0.95)
    result = stats.paired_change(pre, post)
    assert (result.ci_low, result.ci_high) == pytest.approx((interval.low, interval.high))


def test_no_pairs_give_no_statistics_at_all():
    result = stats.paired_change([], [])
    assert result.n == 0
    assert result.pre_mean is result.post_mean is result.mean_change is None
    assert result.sd_change is result.ci_low is result.ci_high is result.cohens_dz is None


def test_one_pair_gives_the_change_but_no_spread_interval_or_effect_size():
    # 2.5 -> 3.25: change 0.75
    result = stats.paired_change([2.5], [3.25])
    assert (result.n, result.pre_mean, result.post_mean, result.mean_change) == (1, 2.5, 3.25, 0.75)
    assert result.sd_change is result.ci_low is result.ci_high is result.cohens_dz is None


def test_identical_changes_give_a_point_interval_and_no_effect_size():
    # diffs 0.5, 0.5, 0.5 (exact in binary) -> sd 0, CI [0.5, 0.5], d_z undefined
    result = stats.paired_change([1, 2, 3], [1.5, 2.5, 3.5])
    assert result.sd_change == 0
    assert result.ci_low == result.ci_high == 0.5
    assert result.cohens_dz is None


def test_changes_equal_up_to_rounding_count_as_no_spread():
    # 3.0 - 2.9 = 0.10000000000000009 but 2.8 - 2.7 = 0.09999999999999964: the SD (2.6e-16)
    # is floating-point noise, not a real spread; d_z would be about 4e14
    result = stats.paired_change([2.9, 3.1, 2.7], [3.0, 3.2, 2.8])
    assert result.sd_change == 0 and result.cohens_dz is None
    assert result.ci_low == result.ci_high == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("pre", "post", "match"),
    [
        ([1, 2], [1], "differ in length"),
        ([1, None], [1, 2], "missing"),
        ([1, 2], [1, float("nan")], "NaN"),
    ],
)
def test_paired_change_refuses_mismatched_or_missing_values(pre, post, match):
    with pytest.raises(ValueError, match=match):
        stats.paired_change(pre, post)


def test_paired_change_refuses_a_confidence_outside_zero_to_one():
    with pytest.raises(ValueError, match="confidence"):
        stats.paired_change([1, 2], [2, 3], confidence=95)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=2, max_size=30))
def test_swapping_pre_and_post_mirrors_the_change_and_its_interval(pairs):
    pre = [a / 10 for a, _ in pairs]
    post = [b / 10 for _, b in pairs]
    forward, backward = stats.paired_change(pre, post), stats.paired_change(post, pre)
    assert backward.mean_change == pytest.approx(-forward.mean_change, abs=1e-12)
    assert backward.ci_low == pytest.approx(-forward.ci_high, abs=1e-9)
    assert backward.ci_high == pytest.approx(-forward.ci_low, abs=1e-9)
    assert forward.ci_low <= forward.mean_change <= forward.ci_high
    if forward.cohens_dz is not None:
        assert forward.cohens_dz * forward.mean_change >= 0


# --- count_verdicts -----------------------------------------------------------------------------


def test_verdicts_are_counted_and_percentages_use_only_clients_with_a_verdict():
    verdicts = [
        IMPROVED,
        IMPROVED,
        NO_RELIABLE_CHANGE,
        DETERIORATED,
        NOT_ENOUGH_DATA,
        NOT_INTERPRETABLE,
        None,
    ]
    counts = stats.count_verdicts(verdicts)
    assert counts == stats.VerdictCounts(improved=2, unchanged=1, deteriorated=1, no_verdict=3)
    assert counts.with_verdict == 4 and counts.total == 7
    # 2 of the 4 with a verdict improved: 50%; 1 of 4: 25% each
    assert counts.percent("improved") == 50.0
    assert counts.percent("unchanged") == counts.percent("deteriorated") == 25.0


def test_percentages_are_none_when_nobody_has_a_verdict():
    counts = stats.count_verdicts([NOT_ENOUGH_DATA, None])
    assert counts.with_verdict == 0 and counts.total == 2
    assert counts.percent("improved") is None
    with pytest.raises(ValueError, match="unknown"):
        counts.percent("better")


# --- spearman, least_squares, association -------------------------------------------------------


def test_spearman_matches_a_hand_computed_example_with_ties():
    # x = 1, 2, 2, 3 -> ranks 1, 2.5, 2.5, 4 (the tied 2s share ranks 2 and 3); y ranks 1, 2, 3, 4
    # mean rank 2.5 on both sides; dx = -1.5, 0, 0, 1.5; dy = -1.5, -0.5, 0.5, 1.5
    # sum dx dy = 2.25 + 0 + 0 + 2.25 = 4.5; sum dx^2 = 4.5; sum dy^2 = 5
    # rho = 4.5 / sqrt(4.5 * 5) = 4.5 / 4.743416 = 0.948683
    assert stats.spearman([1, 2, 2, 3], [10, 20, 30, 40]) == pytest.approx(0.948683, abs=1e-6)


def test_spearman_matches_a_hand_computed_negative_example_with_ties_on_both_sides():
    # x = 1, 1, 2, 3, 4 -> ranks 1.5, 1.5, 3, 4, 5; y = 5, 3, 3, 2, 1 -> ranks 5, 3.5, 3.5, 2, 1
    # both mean 3; dx = -1.5, -1.5, 0, 1, 2; dy = 2, 0.5, 0.5, -1, -2
    # sum dx dy = -3 - 0.75 + 0 - 1 - 4 = -8.75; sum dx^2 = sum dy^2 = 9.5
    # rho = -8.75 / 9.5 = -0.921053
    assert stats.spearman([1, 1, 2, 3, 4], [5, 3, 3, 2, 1]) == pytest.approx(-0.921053, abs=1e-6)


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_spearman_agrees_with_scipy(data):
    x = data.draw(small_ints)
    y = data.draw(st.lists(st.integers(0, 8), min_size=len(x), max_size=len(x)))
    rho = stats.spearman(x, y)
    assume(rho is not None)
    assert rho == pytest.approx(scipy_stats.spearmanr(x, y).statistic, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from([0.0, -0.0, 1.0, -1.5, 1e-300, -1e300, math.inf, -math.inf]),
            st.floats(allow_nan=False),
        ),
        max_size=40,
    )
)
def test_average_ranks_are_scipys_average_ranks(values):
    # Ties (0.0 and -0.0 are one value) share the mean of the ranks they span; infinities rank
    # first and last.
    array = np.array(values, dtype=float)
    assert stats.average_ranks(array).tolist() == scipy_stats.rankdata(array).tolist()


def test_average_ranks_by_hand_and_of_nothing():
    # 3, 1, 3, 2, 3: 1 is rank 1, 2 is rank 2, the three 3s span ranks 3..5 and share 4
    assert stats.average_ranks(np.array([3.0, 1, 3, 2, 3])).tolist() == [4, 1, 4, 2, 4]
    assert stats.average_ranks(np.array([])).tolist() == []


def test_average_ranks_refuse_a_missing_value():
    with pytest.raises(ValueError, match="missing value"):
        stats.average_ranks(np.array([1.0, math.nan, 2.0]))


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_spearman_lies_in_minus_one_to_one_and_ignores_monotone_transforms(data):
    x = data.draw(small_ints)
    y = data.draw(st.lists(st.integers(0, 8), min_size=len(x), max_size=len(x)))
    rho = stats.spearman(x, y)
    assume(rho is not None)
    assert -1 <= rho <= 1
    # strictly increasing transforms keep every rank, so rho is exactly the same
    assert stats.spearman([v**3 + 5 * v for v in x], [math.exp(v) for v in y]) == rho
    # a decreasing transform of one side flips the sign
    assert stats.spearman([-v for v in x], y) == pytest.approx(-rho, abs=1e-12)


def test_spearman_needs_three_pairs_and_variation_on_both_sides():
    assert stats.spearman([1, 2], [3, 4]) is None
    assert stats.spearman([1, 1, 1], [1, 2, 3]) is None
    assert stats.spearman([1, 2, 3], [5, 5, 5]) is None
    with pytest.raises(ValueError, match="differ in length"):
        stats.spearman([1, 2, 3], [1, 2])


def test_least_squares_matches_hand_computed_slope_and_intercept():
    # x 1..4 (mean 2.5), y 2, 3, 5, 6 (mean 4); dx = -1.5, -0.5, 0.5, 1.5; dy = -2, -1, 1, 2
    # Sxy = 3 + 0.5 + 0.5 + 3 = 7; Sxx = 2.25 + 0.25 + 0.25 + 2.25 = 5
    # slope = 7 / 5 = 1.4; intercept = 4 - 1.4 * 2.5 = 0.5
    slope, intercept = stats.least_squares([1, 2, 3, 4], [2, 3, 5, 6])
    assert slope == pytest.approx(1.4) and intercept == pytest.approx(0.5)


def test_least_squares_needs_two_points_and_more_than_one_x():
    assert stats.least_squares([1], [2]) is None
    assert stats.least_squares([3, 3, 3], [1, 2, 3]) is None


def test_association_drops_incomplete_pairs_and_counts_the_pairs_it_used():
    # kept: (1, 2), (2, 3), (3, 5), (4, 6): the hand example above; dropped: None, NaN
    x = [1, None, 2, 3, 7, 4]
    y = [2, 9, 3, 5, float("nan"), 6]
    result = stats.association(x, y)
    assert result.n == 4
    assert result.slope == pytest.approx(1.4) and result.intercept == pytest.approx(0.5)
    # y ranks follow x ranks exactly: rho = 1
    assert result.rho == pytest.approx(1.0)


def test_association_reads_numeric_columns_as_they_are_and_agrees_with_values_one_by_one():
    x = [1, None, 2, 3, 7, 4]
    y = [2, 9, 3, 5, float("nan"), 6]
    frame = pd.DataFrame({"x": x, "y": y})  # float columns, None as NaN
    as_columns = stats.association(frame["x"], frame["y"])
    assert as_columns == stats.association(x, y)
    assert as_columns == stats.association(frame["x"].to_numpy(), np.array(y))
    ints = pd.Series([1, 2, 3, 4], dtype="int64")
    assert stats.association(ints, ints).rho == pytest.approx(1.0)


MAYBE = st.one_of(st.none(), st.integers(-5, 5).map(float))


@given(st.data())
def test_associations_of_one_x_are_association_column_by_column(data):
    n = data.draw(st.integers(0, 25))
    x = data.draw(st.lists(MAYBE, min_size=n, max_size=n))
    ys = {name: data.draw(st.lists(MAYBE, min_size=n, max_size=n)) for name in ("a", "b", "c")}
    ys["same_rows_as_a"] = [None if v is None else -2 * v for v in ys["a"]]
    together = stats.associations(pd.Series(x, dtype=float), ys)
    for name, y in ys.items():
        # The oracle: spearman and least_squares on the complete pairs, each ranked afresh.
        pairs = [(a, b) for a, b in zip(x, y, strict=True) if a is not None and b is not None]
        xs, ys_ = [a for a, _ in pairs], [b for _, b in pairs]
        fit = stats.least_squares(xs, ys_)
        expected = {
            "rho": stats.spearman(xs, ys_),
            "slope": None if fit is None else fit[0],
            "intercept": None if fit is None else fit[1],
        }
        assert together[name].n == len(pairs)
        for field, b in expected.items():
            a = getattr(together[name], field)
            assert (a is None) == (b is None) and (a is None or a == pytest.approx(b))


def test_association_refuses_a_value_that_is_not_a_number():
    with pytest.raises(ValueError):
        stats.association(["1", "two", "3"], [1, 2, 3])


def test_association_with_too_few_pairs_has_no_correlation_or_line():
    assert stats.association([1, None], [2, 3]) == stats.Association(1, None, None, None)
    two = stats.association([1, 2], [2, 4])
    assert two.n == 2 and two.rho is None and two.slope == pytest.approx(2)


# --- pre_post and cohort_outcomes ---------------------------------------------------------------

STARTS, ENDS = D(2025, 3, 3), D(2025, 4, 28)
# pre window: 3 Mar - 42 days = 20 Jan to 3 Mar + 14 days = 17 Mar
# post window: 28 Apr - 14 days = 14 Apr to 28 Apr + 42 days = 9 Jun


def cohort_fixture() -> list[dict]:
    return [
        # 1: pre = latest in the pre window (10 Mar), post = earliest in the post window (5 May)
        adm(1, D(2025, 1, 5), 2.0, self_kindness=2.0),  # before the pre window
        adm(1, D(2025, 2, 24), 3.0, self_kindness=2.8),
        adm(1, D(2025, 3, 10), 3.1, self_kindness=3.0),
        adm(1, D(2025, 5, 26), 3.8, self_kindness=3.9),
        adm(1, D(2025, 5, 5), 3.6, self_kindness=3.5),
        # 2: nothing in the pre window (18 Mar is a day too late)
        adm(2, D(2025, 3, 18), 3.2, self_kindness=3.0),
        adm(2, D(2025, 4, 20), 3.5, self_kindness=3.1),
        # 3: a pair, but the totals were computed by different methods
        adm(3, D(2025, 2, 20), 2.8, SM, self_kindness=2.5),
        adm(3, D(2025, 5, 1), 3.4, IM, self_kindness=3.5),
        # 4: no questionnaire at all
        # 5: pre on the start day, post on the end day; no self-kindness after
        adm(5, D(2025, 3, 3), 2.0, self_kindness=2.2),
        adm(5, D(2025, 4, 28), 2.9, self_kindness=None),
        adm(5, D(2025, 6, 20), 3.9, self_kindness=4.0),  # after the post window
        # 99: not a member
        adm(99, D(2025, 3, 1), 1.0, self_kindness=1.0),
        adm(99, D(2025, 5, 1), 5.0, self_kindness=5.0),
    ]


def test_pre_post_picks_the_questionnaires_in_each_window_for_every_member():
    frame = stats.pre_post(cohort_fixture(), [1, 2, 3, 4, 5], STARTS, ENDS)
    assert list(frame.columns) == [
        *stats.PRE_POST_COLUMNS,
        "pre_self_kindness",
        "post_self_kindness",
        "status",
    ]
    assert frame["client_id"].tolist() == [1, 2, 3, 4, 5]
    assert frame["pre_on"].tolist() == [D(2025, 3, 10), None, D(2025, 2, 20), None, D(2025, 3, 3)]
    assert frame["post_on"].tolist() == [D(2025, 5, 5), D(2025, 4, 20), D(2025, 5, 1), None, ENDS]
    assert frame["status"].tolist() == ["paired", "missing pre", "paired", "missing both", "paired"]
    assert frame["total_comparable"].tolist() == [True, False, False, False, True]
    assert frame["pre_total"].tolist()[0] == 3.1 and frame["post_total"].tolist()[0] == 3.6
    assert math.isnan(frame["pre_total"].tolist()[1])
    assert frame["pre_self_kindness"].tolist()[2] == 2.5
    assert math.isnan(frame["post_self_kindness"].tolist()[4])


def test_without_programme_dates_pre_is_the_first_and_post_the_last_questionnaire():
    frame = stats.pre_post(cohort_fixture(), [5, 2, 4], None, ENDS)
    assert frame["client_id"].tolist() == [5, 2, 4]
    assert frame["pre_on"].tolist() == [D(2025, 3, 3), D(2025, 3, 18), None]
    assert frame["post_on"].tolist() == [D(2025, 6, 20), D(2025, 4, 20), None]
    assert frame["status"].tolist() == ["paired", "paired", "missing both"]


def test_one_questionnaire_or_two_on_the_same_day_leave_the_post_missing():
    rows = [adm(1, D(2025, 1, 1), 3.0), adm(2, D(2025, 1, 1), 3.0), adm(2, D(2025, 1, 1), 3.5)]
    frame = stats.pre_post(rows, [1, 2], None, None)
    assert frame["status"].tolist() == ["missing post", "missing post"]


def test_one_questionnaire_is_never_both_pre_and_post():
    # a 4-week programme (1 to 29 Mar, grace 14): pre window up to 1 + 14 = 15 Mar, post window
    # from 29 - 14 = 15 Mar; they share 15 Mar, so they are split at 1 Mar + 28 // 2 = 15 Mar:
    # a questionnaire on 15 Mar is pre only
    frame = stats.pre_post([adm(1, D(2025, 3, 15), 3.0)], [1], D(2025, 3, 1), D(2025, 3, 29))
    assert frame["status"].tolist() == ["missing post"]


def test_overlapping_windows_of_a_short_programme_are_split_at_its_midpoint():
    # 3 to 17 Mar with grace 14: pre window to 17 Mar, post window from 3 Mar: they overlap.
    # Split at 3 Mar + 14 // 2 = 10 Mar: pre 20 Jan to 10 Mar, post 11 Mar to 28 Apr.
    rows = [adm(1, D(2025, 3, 1), 2.5), adm(1, D(2025, 3, 17), 3.0), adm(2, D(2025, 3, 10), 3)]
    frame = stats.pre_post(rows, [1, 2], D(2025, 3, 3), D(2025, 3, 17))
    assert frame["pre_on"].tolist() == [D(2025, 3, 1), D(2025, 3, 10)]
    assert frame["post_on"].tolist() == [D(2025, 3, 17), None]


def test_pre_post_refuses_a_programme_that_ends_before_it_starts():
    with pytest.raises(ValueError, match="before it starts"):
        stats.pre_post([], [1], D(2025, 3, 3), D(2025, 3, 1))


def test_members_without_questionnaires_still_get_a_row():
    frame = stats.pre_post([], [3, 1, 3], STARTS, ENDS)
    assert frame["client_id"].tolist() == [3, 1]
    assert frame["status"].tolist() == ["missing both", "missing both"]


def small_change_verdict(scale: str, pre: float, post: float) -> str:
    """A stand-in for reliable_change_for: a change of at least 0.51 is reliable."""
    return IMPROVED if post - pre >= 0.51 else NO_RELIABLE_CHANGE


def test_cohort_outcomes_for_a_five_member_cohort_match_hand_computed_values():
    frame = stats.pre_post(cohort_fixture(), [1, 2, 3, 4, 5], STARTS, ENDS)
    total, kindness, absent = stats.cohort_outcomes(
        frame, ["total", "self_kindness", "isolation"], small_change_verdict
    )
    # total: member 1 (3.1 -> 3.6, +0.5) and 5 (2.0 -> 2.9, +0.9); 2 has no pre, 3 has totals by
    # different methods, 4 has nothing -> n 2, missing 3.
    # mean change 0.7; sd = sqrt((0.2^2 + 0.2^2) / 1) = 0.282843; t(0.975, 1) = 12.706205
    # half width 12.706205 * 0.282843 / sqrt(2) = 12.706205 * 0.2 = 2.541241
    # CI -1.841241 to 3.241241; d_z = 0.7 / 0.282843 = 2.474874
    # pre mean (3.1 + 2.0) / 2 = 2.55; post mean (3.6 + 2.9) / 2 = 3.25
    assert total.scale == "total" and total.missing == 3
    change = total.change
    assert change.n == 2
    assert (change.pre_mean, change.post_mean) == pytest.approx((2.55, 3.25))
    assert change.mean_change == pytest.approx(0.7)
    assert change.sd_change == pytest.approx(0.282843, abs=1e-6)
    assert change.ci_low == pytest.approx(-1.841241, abs=1e-6)
    assert change.ci_high == pytest.approx(3.241241, abs=1e-6)
    assert change.cohens_dz == pytest.approx(2.474874, abs=1e-6)
    # verdicts: +0.5 is below 0.51 (unchanged), +0.9 improved
    assert total.verdicts == stats.VerdictCounts(improved=1, unchanged=1)

    # self-kindness: member 1 (3.0 -> 3.5, +0.5) and 3 (2.5 -> 3.5, +1.0): subscales have no
    # method, so member 3 counts here; 5 has no post score -> n 2, missing 3
    # mean 0.75; sd = sqrt((0.25^2 + 0.25^2) / 1) = 0.353553; half width 12.706205 * 0.25
    # = 3.176551 -> CI -2.426551 to 3.926551; d_z = 0.75 / 0.353553 = 2.121320
    assert kindness.missing == 3 and kindness.change.n == 2
    assert kindness.change.mean_change == pytest.approx(0.75)
    assert kindness.change.ci_low == pytest.approx(-2.426551, abs=1e-6)
    assert kindness.change.ci_high == pytest.approx(3.926551, abs=1e-6)
    assert kindness.change.cohens_dz == pytest.approx(2.121320, abs=1e-6)
    assert kindness.verdicts == stats.VerdictCounts(improved=1, unchanged=1)

    # a scale nobody answered: no pairs, every member missing, never dropped silently
    assert absent.change.n == 0 and absent.missing == 5
    assert absent.verdicts.total == 0


def test_cohort_outcomes_pass_each_pair_to_the_verdict_function():
    frame = stats.pre_post(cohort_fixture(), [1, 5], STARTS, ENDS)
    seen = []

    def record(scale, pre, post):
        seen.append((scale, pre, post))
        return DETERIORATED

    (outcome,) = stats.cohort_outcomes(frame, ["total"], record)
    assert seen == [("total", 3.1, 3.6), ("total", 2.0, 2.9)]
    assert outcome.verdicts == stats.VerdictCounts(deteriorated=2)


def test_frames_keep_missing_values_as_nan_not_zero():
    frame = stats.pre_post(cohort_fixture(), [2], STARTS, ENDS)
    assert np.isnan(frame.loc[0, "pre_total"]) and frame.loc[0, "post_total"] == 3.5


def test_an_effect_size_or_correlation_from_fewer_than_ten_pairs_is_not_a_finding():
    nine = stats.paired_change([1, 2, 3, 4, 5, 6, 7, 8, 9], [2, 2, 4, 5, 5, 7, 9, 8, 10])
    assert nine.cohens_dz is not None and not nine.dz_interpretable
    ten = stats.paired_change([*range(1, 11)], [2, 2, 4, 5, 5, 7, 9, 8, 10, 12])
    assert ten.dz_interpretable
    three = stats.association([15, 140, 145], [0.63, 0.33, 0.08])
    assert three.rho == -1.0 and not three.rho_interpretable and not three.line_drawn
    five = stats.association(range(5), [0.1, 0.0, 0.3, 0.2, 0.5])
    assert five.line_drawn and not five.rho_interpretable
    assert stats.association(range(10), range(10)).rho_interpretable


# --- Depression and anxiety outcomes (NHS Talking Therapies, shared/instruments.md) -------------

PHQ = stats.MeasureFacts("PHQ-9", threshold=6, case_at=10)
GAD = stats.MeasureFacts("GAD-7", threshold=4, case_at=8)


def test_a_change_of_exactly_the_threshold_is_reliable_and_one_less_is_not():
    outcome = stats.symptom_outcome([(16, 10), (16, 11), (10, 16), (10, 15)], PHQ)
    assert (outcome.pairs, outcome.improved, outcome.deteriorated, outcome.unchanged) == (
        4,
        1,
        1,
        2,
    )


def test_recovery_counts_only_cases_at_the_start_and_needs_the_last_score_below_caseness():
    outcome = stats.symptom_outcome(
        [
            (15, 9),  # case -> not a case, 6 down: recovered and reliably recovered
            (11, 9),  # case -> not a case, 2 down: recovered only
            (10, 10),  # the threshold score is a case, at the end too: not recovered
            (9, 2),  # not a case at the start: left out of the denominator
        ],
        PHQ,
    )
    assert (outcome.cases, outcome.recovered, outcome.reliably_recovered) == (3, 2, 1)
    assert outcome.rates["recovered"] == pytest.approx(200 / 3)
    assert outcome.rates["improved"] == 50.0


def test_no_pairs_gives_counts_of_zero_and_no_percentages():
    outcome = stats.symptom_outcome([], GAD)
    assert (outcome.pairs, outcome.cases) == (0, 0)
    assert outcome.rates["improved"] is None and outcome.rates["recovered"] is None


def test_the_two_measures_together_count_mixed_change_as_deterioration_not_improvement():
    members = [
        {"PHQ-9": (18, 10), "GAD-7": (12, 12)},  # better on one, no worse: improved
        {"PHQ-9": (18, 10), "GAD-7": (6, 10)},  # better on one, worse on the other: mixed
        {"PHQ-9": (8, 9), "GAD-7": (5, 5)},  # neither: unchanged, not a case
        {"PHQ-9": (12, 12)},  # no GAD-7 pair: left out
    ]
    outcome = stats.combined_outcome(members, [PHQ, GAD])
    assert outcome.measure == "PHQ-9 and GAD-7"
    assert (outcome.pairs, outcome.improved, outcome.deteriorated, outcome.mixed) == (3, 1, 1, 1)
    assert outcome.unchanged == 1


def test_together_a_member_recovers_only_when_a_case_on_neither_measure_at_the_end():
    members = [
        {"PHQ-9": (12, 4), "GAD-7": (9, 3)},  # both cases -> neither: reliably recovered
        {"PHQ-9": (12, 4), "GAD-7": (5, 8)},  # GAD-7 becomes a case: not recovered
        {"PHQ-9": (9, 5), "GAD-7": (8, 7)},  # a case on the GAD-7 only -> neither: recovered
    ]
    outcome = stats.combined_outcome(members, [PHQ, GAD])
    assert (outcome.cases, outcome.recovered, outcome.reliably_recovered) == (3, 2, 1)
