"""The flag rules as pure functions, checked on crafted values (no database)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from dashboard import flags

TODAY = dt.date(2026, 11, 22)  # a Sunday
RULES = flags.Rules()


def summary(**values):
    base = {
        "deterioration": False,
        "deteriorated": [],
        "scs_latest_id": None,
        "scs_latest_on": None,
        "ack_deterioration": None,
        "last_activity_on": None,
        "activity_count": 0,
        "ack_quiet": None,
        "next_due_on": None,
        "ack_overdue": None,
        "rising_slope": None,
        "rising_through": None,
        "rising_week": None,
        "ack_rising": None,
    }
    base.update(values)
    return SimpleNamespace(**base)


def kinds(row, rules=RULES, today=TODAY):
    return [(flag.kind, flag.acknowledged) for flag in flags.flags_for(row, rules, today)]


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
    assert flags.window_means(daily, through, 4) == [2.0, 3.0, 5.0, 6.0]
    # Least squares over x = 0..3, y = 2, 3, 5, 6: slope = sum(dx*dy)/sum(dx^2)
    # dx = -1.5, -0.5, 0.5, 1.5; dy = -2, -1, 1, 2 -> (3 + 0.5 + 0.5 + 3) / 5 = 1.4
    assert flags.rising_slope(daily, through, 4) == pytest.approx(1.4)


def test_rising_needs_entries_in_all_but_one_window():
    through = dt.date(2026, 11, 20)
    two_windows = {dt.date(2026, 11, 13): (1, 2.0), dt.date(2026, 11, 20): (1, 9.0)}
    assert flags.rising_slope(two_windows, through, 4) is None
    three = {**two_windows, dt.date(2026, 10, 24): (1, 1.0)}
    assert flags.rising_slope(three, through, 4) is not None
    assert flags.rising_slope(three, None, 4) is None


def test_rising_intensity_flags_only_while_the_last_entry_is_under_a_week_old():
    row = summary(rising_slope=0.8, rising_through=TODAY - dt.timedelta(days=6), rising_week=TODAY)
    assert kinds(row) == [(flags.RISING, False)]
    row.rising_through = TODAY - dt.timedelta(days=7)
    assert kinds(row) == []
    row.rising_through, row.rising_slope = TODAY, 0.4
    assert kinds(row) == []


def test_an_acknowledged_flag_stays_listed_as_acknowledged_until_its_episode_changes():
    last = TODAY - dt.timedelta(days=20)
    row = summary(last_activity_on=last, activity_count=5, ack_quiet=last)
    assert kinds(row) == [(flags.QUIET, True)]
    row.last_activity_on = last + dt.timedelta(days=1)  # new activity, quiet again
    assert kinds(row) == [(flags.QUIET, False)]


def test_deterioration_names_the_scales_and_is_about_the_latest_assessment():
    row = summary(
        deterioration=True,
        deteriorated=["total", "self_judgment"],
        scs_latest_id=41,
        scs_latest_on=dt.date(2026, 11, 2),
    )
    [flag] = flags.flags_for(row, RULES, TODAY, {"self_judgment": "self-judgment"})
    assert (flag.kind, flag.episode, flag.acknowledged) == (flags.DETERIORATION, "41", False)
    assert "total, self-judgment" in flag.detail
    row.ack_deterioration = 41
    assert flags.flags_for(row, RULES, TODAY)[0].acknowledged


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
