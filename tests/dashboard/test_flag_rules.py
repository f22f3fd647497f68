"""The flag rules as pure functions, checked on crafted values (no database)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assessments.instruments import get_instrument
from assessments.reliable_change import SDChoice
from dashboard import flags
from tracking import analysis

TODAY = dt.date(2026, 11, 22)  # a Sunday
RULES = flags.Rules()
SCS = get_instrument("scs")
NO_SD: dict = {}


def summary(**values) -> flags.FlagInput:
    return flags.FlagInput(**values)


def kinds(row, rules=RULES, today=TODAY, sds=NO_SD):
    return [(flag.kind, flag.acknowledged) for flag in flags.flags_for(row, rules, today, SCS, sds)]


def test_a_client_who_logged_and_went_quiet_for_14_days_is_flagged():
    row = summary(last_activity_on=TODAY - dt.timedelta(days=14), activity_count=3)
    assert kinds(row) == [(flags.QUIET, False)]


def test_13_quiet_days_or_too_little_logging_before_raise_no_flag():
    assert kinds(summary(last_activity_on=TODAY - dt.timedelta(days=13), activity_count=9)) == []
    assert kinds(summary(last_activity_on=TODAY - dt.timedelta(days=40), activity_count=2)) == []
    assert kinds(summary(last_activity_on=None, activity_count=0)) == []


def test_an_assessment_is_overdue_only_after_the_grace_days():
    assert kinds(summary(next_due_on=TODAY - dt.timedelta(days=7))) == []
    assert kinds(summary(next_due_on=TODAY - dt.timedelta(days=8))) == [(flags.OVERDUE, False)]
    assert flags.is_due(summary(next_due_on=TODAY), TODAY)
    assert not flags.is_due(summary(next_due_on=None), TODAY)


def test_next_due_counts_from_the_last_assessment_else_intake_and_pauses():
    intake = dt.date(2026, 1, 5)
    assert flags.next_due(None, intake, 4) == dt.date(2026, 2, 2)
    assert flags.next_due(dt.date(2026, 3, 1), intake, 6) == dt.date(2026, 4, 12)
    assert flags.next_due(dt.date(2026, 3, 1), intake, None) is None


def test_window_means_are_seven_day_windows_ending_on_the_last_entry_day():
    through = dt.date(2026, 11, 20)
    daily = {
        dt.date(2026, 10, 24): (1, 2.0),  # window 1 (24-30 Oct)
        dt.date(2026, 11, 1): (2, 6.0),  # window 2 (31 Oct - 6 Nov): mean 3
        dt.date(2026, 11, 13): (1, 5.0),  # window 3 (7-13 Nov)
        dt.date(2026, 11, 14): (1, 7.0),  # window 4 (14-20 Nov): 7, with 20 Nov's 5 -> 6
        dt.date(2026, 11, 20): (1, 5.0),
        dt.date(2026, 10, 23): (4, 40.0),  # before the first window: ignored
    }
    assert analysis.window_means(daily, through, 4) == [2.0, 3.0, 5.0, 6.0]
    # Least squares over x = 0..3, y = 2, 3, 5, 6: slope = sum(dx*dy)/sum(dx^2)
    # dx = -1.5, -0.5, 0.5, 1.5; dy = -2, -1, 1, 2 -> (3 + 0.5 + 0.5 + 3) / 5 = 1.4
    assert analysis.rising_slope(daily, through, 4) == pytest.approx(1.4)


def test_rising_needs_entries_in_all_but_one_window():
    through = dt.date(2026, 11, 20)
    two_windows = {dt.date(2026, 11, 13): (1, 2.0), dt.date(2026, 11, 20): (1, 9.0)}
    assert analysis.rising_slope(two_windows, through, 4) is None
    three = {**two_windows, dt.date(2026, 10, 24): (1, 1.0)}
    assert analysis.rising_slope(three, through, 4) is not None
    assert analysis.rising_slope(three, None, 4) is None


@given(
    st.dictionaries(
        st.integers(0, analysis.RISING_DAYS + 10).map(lambda back: TODAY - dt.timedelta(back)),
        st.integers(1, 20).flatmap(
            lambda n: st.tuples(st.just(n), st.integers(0, 10 * n).map(float))
        ),
        max_size=60,
    ),
    st.integers(0, 9).map(lambda back: TODAY - dt.timedelta(back)),
)
def test_every_window_length_gives_the_slope_its_own_window_gives(daily, through):
    # rising_slopes works the weekly means out once, for the longest window.
    expected = {
        analysis.rising_key(weeks): analysis.rising_slope(daily, through, weeks)
        for weeks in analysis.RISING_WEEKS
    }
    assert analysis.rising_slopes(daily, through) == expected
    assert set(analysis.rising_slopes(daily, None).values()) == {None}


def _window_means_day_by_day(daily, through, weeks):
    """The windows' definition, day by day: the oracle for window_means' single pass."""
    means = []
    for back in range(weeks - 1, -1, -1):
        days = [through - dt.timedelta(days=7 * back + offset) for offset in range(7)]
        n = sum(daily.get(day, (0, 0.0))[0] for day in days)
        total = sum(daily.get(day, (0, 0.0))[1] for day in days)
        means.append(total / n if n else None)
    return means


@given(
    st.dictionaries(
        st.integers(-5, analysis.RISING_DAYS + 10).map(lambda back: TODAY - dt.timedelta(back)),
        # counts below zero too: day rows stored past the services, which the trend still reads
        st.integers(-3, 20)
        .filter(bool)
        .flatmap(
            lambda n: st.tuples(st.just(n), st.integers(min(0, 10 * n), max(0, 10 * n)).map(float))
        ),
        max_size=90,
    ),
    st.sampled_from(analysis.RISING_WEEKS),
)
def test_window_means_and_slope_match_the_day_by_day_windows_and_numpy(daily, weeks):
    means = analysis.window_means(daily, TODAY, weeks)
    assert means == _window_means_day_by_day(daily, TODAY, weeks)
    points = [(x, y) for x, y in enumerate(means) if y is not None]
    fit = analysis.least_squares(
        np.array([x for x, _ in points], dtype=float), np.array([y for _, y in points], dtype=float)
    )
    slope = analysis.rising_slope(daily, TODAY, weeks)
    if len(points) < max(weeks - 1, 2) or fit is None:
        assert slope is None
    else:
        assert slope == pytest.approx(fit[0], abs=1e-12)


def test_rising_intensity_flags_only_while_the_last_entry_is_under_a_week_old():
    row = summary(rising_slope=0.8, last_entry_on=TODAY - dt.timedelta(days=6))
    assert kinds(row) == [(flags.RISING, False)]
    assert kinds(dataclasses.replace(row, last_entry_on=TODAY - dt.timedelta(days=7))) == []
    assert kinds(dataclasses.replace(row, last_entry_on=TODAY, rising_slope=0.4)) == []


def test_an_acknowledged_flag_stays_listed_as_acknowledged_until_its_episode_changes():
    last = TODAY - dt.timedelta(days=20)
    row = summary(last_activity_on=last, activity_count=5, ack_quiet=last)
    assert kinds(row) == [(flags.QUIET, True)]
    again = dataclasses.replace(row, last_activity_on=last + dt.timedelta(days=1))
    assert kinds(again) == [(flags.QUIET, False)]  # new activity, quiet again


def scores(administration_id, on, total, self_judgment):
    return flags.ScoreValues(
        administration_id, on, total, "subscale_mean", {"self_judgment": self_judgment}
    )


SDS = {
    "total": SDChoice(0.7, "test", "configured"),
    "self_judgment": SDChoice(0.5, "test", "configured"),
}


def test_deterioration_names_the_scales_and_is_about_the_latest_assessment():
    row = summary(
        baseline=scores(40, dt.date(2026, 6, 1), 4.0, 2.0),
        latest=scores(41, dt.date(2026, 11, 2), 3.0, 4.0),
    )
    names = {"self_judgment": "self-judgment"}
    [flag] = flags.flags_for(row, RULES, TODAY, SCS, SDS, names)
    assert (flag.kind, flag.episode, flag.acknowledged) == (flags.DETERIORATION, "41", False)
    assert "total, self-judgment" in flag.detail
    acked = dataclasses.replace(row, ack_deterioration=41)
    assert flags.flags_for(acked, RULES, TODAY, SCS, SDS)[0].acknowledged


def test_deterioration_needs_an_sd_and_two_different_assessments():
    row = summary(
        baseline=scores(40, dt.date(2026, 6, 1), 4.0, 2.0),
        latest=scores(41, dt.date(2026, 11, 2), 3.0, 4.0),
    )
    assert kinds(row, sds=NO_SD) == []
    same = summary(baseline=row.latest, latest=row.latest)
    assert kinds(same, sds=SDS) == []


def test_the_limits_the_database_compares_with_are_the_reliable_change_thresholds():
    limits = flags.deterioration_limits(SCS, SDS)
    s_diff, direction = limits["total"]
    # SD .70, r .93: 1.96 * S_diff = 0.51 (shared/instruments.md)
    assert 1.96 * s_diff == pytest.approx(0.513, abs=1e-3)
    assert direction == "higher_is_better"
    assert "self_kindness" not in limits  # only the total and the negative subscales


def test_the_thresholds_come_from_the_clinic_settings():
    rules = flags.Rules(quiet_days=7, quiet_min_records=1)
    row = summary(last_activity_on=TODAY - dt.timedelta(days=7), activity_count=1)
    assert kinds(row, rules) == [(flags.QUIET, False)]
    assert "7 days" in rules.explanations()[flags.QUIET]


def test_episodes_round_trip_and_malformed_ones_are_refused():
    assert flags.parse_episode(flags.DETERIORATION, "12") == 12
    assert flags.parse_episode(flags.OVERDUE, "2026-11-02") == dt.date(2026, 11, 2)
    with pytest.raises(ValueError):
        flags.parse_episode(flags.QUIET, "yesterday")
    with pytest.raises(ValueError):
        flags.parse_episode("unknown", "1")


# --- Safety, risk and practice raising distress; severity order ------------------------------

AT = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)


def signal(pk, kind=flags.SAFETY, hours=0, asked=False):
    return flags.Signal(pk, kind, AT + dt.timedelta(hours=hours), asked, "a practice")


def test_an_open_signal_is_a_flag_of_its_kind_named_by_the_newest():
    row = summary(signals=(signal(3, hours=2, asked=True), signal(1), signal(2, flags.RISK)))
    [safety, risk] = flags.flags_for(row, RULES, TODAY, SCS, NO_SD)
    assert (safety.kind, safety.episode, safety.acknowledged) == (flags.SAFETY, "3", False)
    assert safety.detail.startswith("2 open; the latest: a practice")
    assert "the client asked to be contacted" in safety.detail
    assert (risk.kind, risk.episode, risk.at) == (flags.RISK, "2", AT)


def rated(*pairs):
    days = [dt.date(2026, 11, 10 + n) for n in range(len(pairs))]
    return {
        "rated_practices": tuple(
            (d.isoformat(), b, a) for d, (b, a) in zip(days, pairs, strict=True)
        ),
        "distress_rises": sum(a > b for b, a in pairs),
        "last_rated_id": 90 + len(pairs),
        "last_rated_on": days[-1],
    }


@pytest.mark.parametrize(
    ("pairs", "min_rises", "raised"),
    [
        (((3, 5), (4, 4), (2, 6)), 2, True),  # 2 of the last 3 rose
        (((3, 5), (4, 4), (6, 2)), 2, False),  # 1 of 3
        (((3, 5), (4, 4), (6, 2)), 1, True),  # the clinic's threshold: 1 of 3
        (((3, 5), (4, 6), (6, 2)), 3, False),
        (((3, 4),), 2, False),  # only one rated practice
    ],
)
def test_practice_raising_distress_counts_the_last_three_rated_practices(pairs, min_rises, raised):
    rules = flags.Rules(distress_min_rises=min_rises)
    assert (flags.DISTRESS in [k for k, _ in kinds(summary(**rated(*pairs)), rules)]) is raised


def test_practice_raising_distress_says_before_and_after_and_quiets_until_a_new_practice():
    row = summary(**rated((3, 5), (4, 4), (2, 6)))
    [flag] = flags.flags_for(row, RULES, TODAY, SCS, NO_SD)
    assert flag.detail.endswith("3→5 on 10 Nov 2026, 4→4 on 11 Nov 2026, 2→6 on 12 Nov 2026")
    assert flags.flags_for(dataclasses.replace(row, ack_distress=93), RULES, TODAY, SCS, NO_SD)[
        0
    ].acknowledged
    assert flags.parse_episode(flags.DISTRESS, "93") == 93


def test_flags_are_listed_most_severe_first():
    row = summary(
        signals=(signal(1, flags.RISK), signal(2)),
        last_activity_on=TODAY - dt.timedelta(days=30),
        activity_count=9,
        next_due_on=TODAY - dt.timedelta(days=30),
        rising_slope=2.0,
        last_entry_on=TODAY,
        **rated((1, 2), (1, 2), (1, 2)),
    )
    assert [k for k, _ in kinds(row)] == [
        flags.SAFETY,
        flags.RISK,
        flags.DISTRESS,
        flags.RISING,
        flags.QUIET,
        flags.OVERDUE,
    ]


def attention(row):
    return flags.attention_key(flags.flags_for(row, RULES, TODAY, SCS, NO_SD))


def test_one_safety_flag_outranks_any_number_of_lesser_flags():
    assert flags.SEVERITY[flags.SAFETY] > sum(
        weight for kind, weight in flags.SEVERITY.items() if kind != flags.SAFETY
    )
    lesser = summary(
        signals=(signal(1, flags.RISK),),
        last_activity_on=TODAY - dt.timedelta(days=30),
        activity_count=9,
        next_due_on=TODAY - dt.timedelta(days=30),
        **rated((1, 2), (1, 2), (1, 2)),
    )
    safety_only = summary(signals=(signal(2),))
    assert attention(safety_only) > attention(lesser)


def test_among_equal_flags_the_newer_comes_first():
    older, newer = summary(signals=(signal(1),)), summary(signals=(signal(2, hours=1),))
    assert attention(newer) > attention(older)
    quiet_long = summary(last_activity_on=TODAY - dt.timedelta(days=40), activity_count=9)
    quiet_lately = summary(last_activity_on=TODAY - dt.timedelta(days=20), activity_count=9)
    assert attention(quiet_lately) > attention(quiet_long)
    assert attention(summary()) == (0, float("-inf"), -1)
